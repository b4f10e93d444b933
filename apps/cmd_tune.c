/* mbn tune: searches kernel variants and CLBlast GEMM parameters for a device and the network's
 * shapes within a time budget (tune/search.h), and stores the winners in the device's tuning
 * cache, which every command then uses (tune/cache.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/json_out.h"
#include "base/error.h"
#include "host/device.h"
#include "io/formats/atomic_file.h"
#include "include/mbn.h"
#include "tune/database.h"
#include "tune/search.h"

typedef struct {
    bool tty, quiet;
    const char *device;
} ProgressCtx;

static void fmt_minutes(char *out, size_t len, double s) {
    if (s < 0) s = 0;
    snprintf(out, len, "%d:%02d", (int)(s / 60), (int)s % 60);
}

/* A bar redrawn in place on a terminal; nothing extra in a log (the per-candidate lines say
 * it all there). */
static void progress(void *ctx, const MbnTuneStatus *st) {
    ProgressCtx *p = ctx;
    if (p->quiet || !p->tty) return;
    char bar[25], el[16], bud[16];
    int width = 24, fill = st->planned > 0 ? (int)(width * (double)st->done / st->planned) : 0;
    if (fill > width) fill = width;
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[width] = 0;
    fmt_minutes(el, sizeof el, st->elapsed_s);
    fmt_minutes(bud, sizeof bud, st->budget_s);
    char best[64] = "";
    if (st->default_ms > 0)
        snprintf(best, sizeof best, " | best %.1f ms/step (%+.1f%%)", st->best_ms,
                 100.0 * (st->best_ms / st->default_ms - 1.0));
    fprintf(stderr, "\rtune %s [%s] %d/%d%s | %s of %s | %.40s\033[K", st->stage, bar, st->done,
            st->planned, best, el, bud, st->trying ? st->trying : "");
    fflush(stderr);
}

static void print_decisions(const MbnTuneCache *c, MbnUse use) {
    for (int op = 0; op < MBN_OP_COUNT; op++) {
        const MbnTunedOp *o = &c->op[use][op];
        if (!o->set) continue;
        printf("  %-14s %s", mbn_op_name((MbnOp)op), o->row);
        for (int k = 0; k < o->n; k++)
            printf("%s%s=%d", k ? "," : " (", o->param[k], o->value[k]);
        printf("%s%s%s\n", o->n ? ")" : "", o->workload[0] ? "   tuned on " : "", o->workload);
    }
    for (int k = 0; k < c->n_clblast; k++) {
        printf("  clblast %s", c->clblast[k].kernel);
        for (int p = 0; p < c->clblast[k].n; p++)
            printf(" %s=%zu", c->clblast[k].name[p], c->clblast[k].value[p]);
        printf("\n");
    }
}

static json_t *json_result(const MbnDeviceInfo *info, const MbnTuneConfig *cfg,
                           const MbnTuneReport *r, const char *path) {
    json_t *decisions = json_object();
    for (int op = 0; decisions && op < MBN_OP_COUNT; op++) {
        const MbnTunedOp *o = &r->cache.op[cfg->train ? MBN_USE_TRAIN : MBN_USE_INFER][op];
        if (!o->set) continue;
        json_t *params = json_object();
        for (int k = 0; params && k < o->n; k++)
            json_object_set_new(params, o->param[k], json_integer(o->value[k]));
        json_object_set_new(decisions, mbn_op_name((MbnOp)op),
                            json_pack("{s:s, s:o, s:s}", "variant", o->row, "params", params,
                                      "tuned_on", o->workload));
    }
    for (int k = 0; decisions && k < r->cache.n_clblast; k++) {
        char key[40];
        snprintf(key, sizeof key, "clblast.%s", r->cache.clblast[k].kernel);
        json_t *params = json_object();
        for (int p = 0; params && p < r->cache.clblast[k].n; p++)
            json_object_set_new(params, r->cache.clblast[k].name[p],
                                json_integer((json_int_t)r->cache.clblast[k].value[p]));
        json_object_set_new(decisions, key, params);
    }
    json_t *o =
        json_pack("{s:s, s:s, s:i, s:o, s:i, s:b, s:o, s:s, s:o, s:o, s:o, s:o}", "device",
                  info->name, "mode", cfg->train ? "train" : "infer", "batch", cfg->batch, "alpha",
                  mbn_json_number(cfg->arch.alpha), "resolution", cfg->arch.resolution, "saved",
                  r->saved, "tuning", r->saved ? json_string(r->cache.id) : json_null(), "cache",
                  path, "noise", mbn_json_number(r->noise), "default_ms",
                  mbn_json_number(r->default_ms), "tuned_ms", mbn_json_number(r->tuned_ms),
                  "speedup", mbn_json_number(r->tuned_ms > 0 ? r->default_ms / r->tuned_ms : NAN));
    json_t *more =
        json_pack("{s:i, s:i, s:i, s:b, s:o, s:b, s:o}", "tried", r->tried, "rejected_wrong",
                  r->rejected_wrong, "failed", r->failed, "budget_ran_out", r->budget_ran_out,
                  "clblast_share", mbn_json_number(r->clblast_share), "clblast_searched",
                  r->clblast_searched, "decisions", decisions);
    if (!o || !more || json_object_update(o, more) != 0) {
        json_decref(o);
        o = NULL;
    }
    json_decref(more);
    return o;
}

/* --export FILE: each tuned device's cache as a database entry (tune/database.h), written
 * whole or not at all. A device whose cache is empty gets a comment saying so. */
static int export_entries(const char *path, const MbnDeviceInfo *all, const int *sel, int n_sel,
                          const MbnTuneConfig *cfg, const MbnTuneReport *reps) {
    size_t cap = (size_t)n_sel * 20000 + 512, used = 0;
    char *text = malloc(cap);
    if (!text) return mbn_fail(MBN_EFAIL, "out of host memory");
    used +=
        (size_t)snprintf(text, cap, "# written by `mbn tune --export` (mbn %s)\n", mbn_version());
    int rc = MBN_OK;
    for (int i = 0; rc == MBN_OK && i < n_sel; i++) {
        const MbnDeviceInfo *info = &all[sel[i]];
        MbnTuneCache c;
        if (mbn_tune_cache_load(info, &c) != 1) {
            used += (size_t)snprintf(text + used, cap - used,
                                     "# %s: no tuning stored (nothing beat the defaults)\n",
                                     info->name);
            continue;
        }
        char label[32], source[512];
        mbn_arch_label(&cfg->arch, label, sizeof label);
        snprintf(source, sizeof source,
                 "mbn tune --mode %s --batch-size %d on %s, driver %s, MobileNet V1 %s: "
                 "%.2f -> %.2f ms/step",
                 cfg->train ? "train" : "infer", cfg->batch, info->name, info->driver, label,
                 reps[i].default_ms, reps[i].tuned_ms);
        rc = mbn_tune_db_format_entry(info, &c, source, text + used, cap - used);
        if (rc == MBN_OK) used += strlen(text + used);
    }
    if (rc == MBN_OK) rc = mbn_atomic_write_file(path, text, used);
    free(text);
    if (rc == MBN_OK) fprintf(stderr, "mbn: wrote the tuning database entry to %s\n", path);
    return rc;
}

int cmd_tune(int argc, char **argv) {
    MbnCommonFlags c;
    mbn_common_defaults(&c);
    const char *mode = "train";
    int batch = 32;
    float minutes = 5.0f;
    const char *export_path = NULL;
    const MbnFlag flags[] = {
        MBN_FLAG_DEVICES(&c),
        {"mode", FLAG_STRING, &mode,
         "train (forward, backward and SGD: every op) or infer (depthwise forward and GEMMs)",
         "MODE", NULL},
        {"batch-size", FLAG_INT, &batch, "images per batch", "B", NULL},
        {"budget-minutes", FLAG_FLOAT, &minutes, "time budget per device", "M", NULL},
        {"export", FLAG_STRING, &export_path,
         "also write the device's tuning as an entry of mbn's tuning database "
         "(tune/database.txt) to FILE, to send back",
         "FILE", NULL},
        MBN_FLAGS_NETWORK(&c),
        MBN_FLAG_JSON(&c),
    };
    MbnCli cli = MBN_CLI("tune",
                         "mbn tune [--device SEL] [--mode infer|train] [--batch-size B] "
                         "[--budget-minutes M] [--export FILE] [--json]",
                         "Times kernel variants, their parameters (work-group sizes, tiles, "
                         "partial counts) and CLBlast's GEMM parameters on this network's shapes, "
                         "checks each against the default's results, and stores the fastest in the "
                         "device's tuning cache, which every command then uses (mbn bench says "
                         "tuned or untuned).",
                         flags, NULL, 0);
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return mbn_cli_report(&cli, rc);
    MbnTuneConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    if (!strcmp(mode, "train"))
        cfg.train = true;
    else if (strcmp(mode, "infer") != 0)
        return mbn_cli_report(&cli,
                              mbn_fail(MBN_EUSAGE, "--mode %s: expected infer or train", mode));
    if (batch < 1 || (cfg.train && batch < 2))
        return mbn_cli_report(&cli, mbn_fail(MBN_EUSAGE, "--batch-size %d: must be at least %d",
                                             batch, cfg.train ? 2 : 1));
    if (!(minutes > 0) || minutes > 24 * 60)
        return mbn_cli_report(&cli, mbn_fail(MBN_EUSAGE,
                                             "--budget-minutes %g: expected minutes in (0, 1440]",
                                             (double)minutes));
    if (export_path && (rc = mbn_cli_output_file("--export", export_path)) != MBN_OK)
        return mbn_cli_report(&cli, rc);
    MbnDeviceEnv env;
    rc = mbn_device_env(&env);
    if (rc) return mbn_cli_report(&cli, rc);
    if (env.family != MBN_FAMILY_AUTO)
        return mbn_cli_report(&cli, mbn_fail(MBN_EUSAGE,
                                             "MBN_KERNELS=%s: mbn tune chooses kernels itself; "
                                             "unset MBN_KERNELS",
                                             mbn_family_name(env.family)));
    rc = mbn_arch_build(&cfg.arch, c.alpha, c.resolution, c.num_classes);
    if (rc) return mbn_cli_report(&cli, rc);
    cfg.batch = batch;
    cfg.budget_s = (double)minutes * 60.0;
    MbnDeviceInfo *all = NULL;
    int count = 0, *sel = NULL, n_sel = 0;
    rc = mbn_devices_list(&all, &count);
    if (rc == MBN_OK) rc = mbn_devices_select(c.device, all, count, &sel, &n_sel);
    MbnTuneReport *reps = rc ? NULL : calloc((size_t)n_sel, sizeof *reps);
    if (rc == MBN_OK && !reps) rc = mbn_fail(MBN_EFAIL, "out of host memory");
    ProgressCtx pc = {isatty(STDERR_FILENO) == 1, false, NULL};
    cfg.progress = progress;
    cfg.progress_ctx = &pc;
    for (int i = 0; rc == MBN_OK && i < n_sel; i++) {
        cfg.info = &all[sel[i]];
        char label[32];
        mbn_arch_label(&cfg.arch, label, sizeof label);
        fprintf(stderr, "mbn: tuning %s on %s (MobileNet V1 %s, batch %d), budget %g min...\n",
                mode, cfg.info->name, label, batch, (double)minutes);
        rc = mbn_tune_run(&cfg, &reps[i]);
        if (pc.tty) fputs("\r\033[K", stderr);
        if (rc) mbn_fail_context(rc, "tuning device %s", cfg.info->name);
    }
    if (rc == MBN_OK) {
        json_t *results = c.json ? json_array() : NULL;
        for (int i = 0; i < n_sel; i++) {
            const MbnTuneReport *r = &reps[i];
            char path[4096] = "";
            mbn_tune_cache_path(&all[sel[i]], path, sizeof path);
            cfg.info = &all[sel[i]];
            if (c.json) {
                if (results) json_array_append_new(results, json_result(cfg.info, &cfg, r, path));
                continue;
            }
            printf("%s | %s | batch %d | default %.2f ms/step, tuned %.2f ms/step (%.2fx) | %s\n",
                   cfg.info->name, cfg.train ? "train" : "infer", batch, r->default_ms, r->tuned_ms,
                   r->tuned_ms > 0 ? r->default_ms / r->tuned_ms : 0.0,
                   r->saved ? r->cache.id : "nothing stored");
            printf("  %d candidates tried, %d rejected for wrong results, %d failed%s; CLBlast "
                   "GEMMs %.0f%% of a step%s\n",
                   r->tried, r->rejected_wrong, r->failed,
                   r->budget_ran_out ? "; the budget ran out before the end" : "",
                   100.0 * r->clblast_share, r->clblast_searched ? " (searched)" : "");
            if (!r->saved) {
                printf("  nothing beat the defaults by more than the timing noise (%.1f%%): the "
                       "tuning cache is unchanged\n",
                       100.0 * r->noise);
                continue;
            }
            print_decisions(&r->cache, cfg.train ? MBN_USE_TRAIN : MBN_USE_INFER);
            printf("  saved to %s\n", path);
        }
        if (c.json) rc = mbn_json_print(results ? json_pack("{s:o}", "results", results) : NULL);
    }
    if (rc == MBN_OK && export_path) rc = export_entries(export_path, all, sel, n_sel, &cfg, reps);
    free(reps);
    free(sel);
    free(all);
    return mbn_cli_report(&cli, rc);
}
