/* mbn devices: every OpenCL platform and device. */
#include <stdio.h>
#include <stdlib.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/json_out.h"
#include "host/device.h"
#include "tune/open.h"
#include "base/error.h"
#include "apps/variants_json.h"

int cmd_devices(int argc, char **argv) {
    bool json = false;
    const MbnFlag flags[] = {
        {"json", FLAG_BOOL, &json, "print one JSON document on stdout", NULL, NULL},
    };
    MbnCli cli =
        MBN_CLI("devices", "mbn devices [--json]",
                "Lists every OpenCL device with the index that --device accepts.", flags, NULL, 0);
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
        json_t *list = json_array();
        for (int i = 0; list && i < n; i++) {
            const MbnDeviceInfo *d = &all[i];
            /* the kernels' build options as opening the device would compile them (the
             * variants' defines: host/variants.h) */
            char opts[4096];
            bool have_opts = mbn_device_build_options(&vs[i], opts, sizeof opts) == MBN_OK;
            json_t *o = json_pack(
                "{s:i, s:s, s:s, s:s, s:s, s:I, s:i, s:b, s:b, s:s, s:I, s:b, s:I, s:o, s:o, s:o, "
                "s:o}",
                "index", d->index, "platform", d->platform_name, "name", d->name, "vendor",
                d->vendor, "type", mbn_device_type_name(d->type), "memory_bytes",
                (json_int_t)d->memory_bytes, "compute_units", (int)d->compute_units, "fp16",
                d->fp16, "host_unified_memory", d->host_unified, "driver", d->driver,
                "local_mem_bytes", (json_int_t)d->local_mem_bytes, "local_mem_dedicated",
                d->local_mem_dedicated, "max_work_group", (json_int_t)d->max_work_group, "profile",
                mbn_json_profile(&d->profile), "kernels", mbn_json_variants(&vs[i], false),
                "build_options", have_opts ? json_string(opts) : json_null(), "tuning",
                mbn_json_tuning(&tun[i]));
            if (!o || json_array_append_new(list, o) != 0) {
                json_decref(list);
                list = NULL;
            }
        }
        rc = mbn_json_print(list ? json_pack("{s:o}", "devices", list) : NULL);
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
    return mbn_cli_report(&cli, rc);
}
