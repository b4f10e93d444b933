/* mbn devices: every OpenCL platform and device. */
#include <stdio.h>
#include <stdlib.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "host/device.h"
#include "tune/open.h"
#include "base/error.h"
#include "io/util/json_writer.h"
#include "apps/variants_json.h"

int cmd_devices(int argc, char **argv) {
    bool json = false;
    const MbnFlag flags[] = {{"json", FLAG_BOOL, &json, "print one JSON document on stdout", NULL}};
    MbnCli cli = {"devices",
                  "mbn devices [--json]",
                  "Lists every OpenCL device with the index that --device accepts.",
                  flags,
                  1,
                  NULL,
                  0,
                  0,
                  false};
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return mbn_cli_report(&cli, rc);
    MbnDeviceInfo *all = NULL;
    int n = 0;
    rc = mbn_devices_list(&all, &n);
    if (rc) return mbn_cli_report(&cli, rc);
    /* The kernel variants each device would use, with their tuning (as opening it for training
     * would: tune/open.h), and where each value comes from. */
    MbnVariantSet *vs = calloc((size_t)(n ? n : 1), sizeof *vs);
    MbnTuning *tun = calloc((size_t)(n ? n : 1), sizeof *tun);
    if (!vs || !tun) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    for (int i = 0; rc == MBN_OK && i < n; i++)
        rc = mbn_tuning_resolve(&all[i], MBN_USE_TRAIN, &vs[i], &tun[i]);
    if (rc) {
        free(vs);
        free(tun);
        free(all);
        return mbn_cli_report(&cli, rc);
    }
    if (json) {
        MbnJson j;
        mbn_json_init(&j, stdout);
        mbn_json_begin_object(&j);
        mbn_json_key(&j, "devices");
        mbn_json_begin_array(&j);
        for (int i = 0; i < n; i++) {
            mbn_json_begin_object(&j);
            mbn_json_key(&j, "index");
            mbn_json_int(&j, all[i].index);
            mbn_json_key(&j, "platform");
            mbn_json_string(&j, all[i].platform_name);
            mbn_json_key(&j, "name");
            mbn_json_string(&j, all[i].name);
            mbn_json_key(&j, "vendor");
            mbn_json_string(&j, all[i].vendor);
            mbn_json_key(&j, "type");
            mbn_json_string(&j, mbn_device_type_name(all[i].type));
            mbn_json_key(&j, "memory_bytes");
            mbn_json_int(&j, (int64_t)all[i].memory_bytes);
            mbn_json_key(&j, "compute_units");
            mbn_json_int(&j, all[i].compute_units);
            mbn_json_key(&j, "fp16");
            mbn_json_bool(&j, all[i].fp16);
            mbn_json_key(&j, "host_unified_memory"); /* inputs and outputs mapped, not copied */
            mbn_json_bool(&j, all[i].host_unified);
            mbn_json_key(&j, "driver");
            mbn_json_string(&j, all[i].driver);
            mbn_json_key(&j, "local_mem_bytes");
            mbn_json_int(&j, (int64_t)all[i].local_mem_bytes);
            mbn_json_key(&j, "local_mem_dedicated");
            mbn_json_bool(&j, all[i].local_mem_dedicated);
            mbn_json_key(&j, "max_work_group");
            mbn_json_int(&j, (int64_t)all[i].max_work_group);
            mbn_json_key(&j, "profile");
            mbn_json_profile(&j, &all[i].profile);
            mbn_json_key(&j, "kernels");
            mbn_json_variants(&j, &vs[i], false);
            /* the kernels' build options as opening the device would compile them (the
             * variants' defines: host/variants.h) */
            char opts[4096];
            mbn_json_key(&j, "build_options");
            if (mbn_device_build_options(&vs[i], opts, sizeof opts) == MBN_OK)
                mbn_json_string(&j, opts);
            else
                mbn_json_null(&j);
            mbn_json_key(&j, "tuning");
            mbn_json_tuning(&j, &tun[i]);
            mbn_json_end_object(&j);
        }
        mbn_json_end_array(&j);
        mbn_json_end_object(&j);
        mbn_json_finish(&j);
    } else {
        if (n == 0) printf("no OpenCL devices found\n");
        for (int i = 0; i < n; i++) {
            char profile[256];
            mbn_profile_describe(&all[i].profile, profile, sizeof profile);
            printf("%d: %s | %s | %s | %s | %.1f GiB | %u compute units | fp16 %s | driver %s\n",
                   all[i].index, all[i].platform_name, all[i].name, all[i].vendor,
                   mbn_device_type_name(all[i].type), all[i].memory_bytes / 1073741824.0,
                   all[i].compute_units, all[i].fp16 ? "yes" : "no", all[i].driver);
            printf("   kernels for: %s (`mbn devices --json`: the plan and where each value "
                   "comes from)\n",
                   profile);
        }
    }
    free(vs);
    free(tun);
    free(all);
    return 0;
}
