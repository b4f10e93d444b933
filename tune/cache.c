#include "tune/cache.h"

#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/error.h"
#include "base/version.h"
#include "host/cache_dir.h"
#include "host/cl_error.h"
#include "host/cl_sources.h"
#include "host/device.h"
#include "host/program.h"
#include "io/formats/atomic_file.h"

#define MAGIC "mbn-tune 1"
#define MAX_FILE (64 * 1024)

unsigned long long mbn_build_hash(void) {
    uint64_t h = 0xcbf29ce484222325ULL;
    h = mbn_hash64(h, MBN_VERSION_STRING, sizeof MBN_VERSION_STRING);
    for (int i = 0; i < mbn_cl_source_count; i++)
        h = mbn_hash64(h, mbn_cl_sources[i].text, mbn_cl_sources[i].length);
    int count = 0;
    const MbnVariant *t = mbn_variant_table(&count);
    for (int i = 0; i < count; i++) {
        h = mbn_hash64(h, t[i].name, strlen(t[i].name) + 1);
        for (int p = 0; p < t[i].n_params; p++) {
            const MbnVariantParam *vp = &t[i].params[p];
            h = mbn_hash64(h, vp->name, strlen(vp->name) + 1);
            h = mbn_hash64(h, &vp->value, sizeof vp->value);
            h = mbn_hash64(h, vp->candidates, sizeof vp->candidates);
        }
    }
    return (unsigned long long)h;
}

/* The identity lines: what the file must say to be this device's. */
static void identity(const MbnDeviceInfo *info, char *out, size_t len) {
    snprintf(out, len, "device %s\ndriver %s\nplatform %s / %s\nbuild %016llx\n", info->name,
             info->driver, info->platform_name, info->platform_version, mbn_build_hash());
}

int mbn_tune_cache_path(const MbnDeviceInfo *info, char *out, size_t len) {
    char id[2048];
    identity(info, id, sizeof id);
    uint64_t h0 = mbn_hash64(0xcbf29ce484222325ULL, id, strlen(id));
    uint64_t h1 = mbn_hash64(0x84222325cbf29ce4ULL, id, strlen(id));
    char file[64];
    snprintf(file, sizeof file, "%016llx%016llx.txt", (unsigned long long)h0,
             (unsigned long long)h1);
    return mbn_cache_path("tuning", file, out, len);
}

const char *mbn_use_name(MbnUse use) {
    return use == MBN_USE_INFER ? "infer" : "train";
}

/* The decisions as canonical text: the id hashes this, the file holds it. */
void mbn_tune_decisions_text(const MbnTuneCache *c, char *out, size_t len, bool with_workload) {
    size_t used = 0;
    out[0] = 0;
    for (int u = 0; u < MBN_USE_COUNT; u++)
        for (int op = 0; op < MBN_OP_COUNT; op++) {
            const MbnTunedOp *t = &c->op[u][op];
            if (!t->set) continue;
            used += (size_t)snprintf(out + used, len - used, "op %s %s %s", mbn_use_name((MbnUse)u),
                                     mbn_op_name((MbnOp)op), t->row);
            for (int p = 0; p < t->n && used < len; p++)
                used +=
                    (size_t)snprintf(out + used, len - used, " %s=%d", t->param[p], t->value[p]);
            if (with_workload && t->workload[0] && used < len)
                used += (size_t)snprintf(out + used, len - used, " # %s", t->workload);
            if (used < len) used += (size_t)snprintf(out + used, len - used, "\n");
            if (used >= len) return;
        }
    for (int k = 0; k < c->n_clblast; k++) {
        const MbnClblastParams *s = &c->clblast[k];
        used += (size_t)snprintf(out + used, len - used, "clblast %s", s->kernel);
        for (int p = 0; p < s->n && used < len; p++)
            used += (size_t)snprintf(out + used, len - used, " %s=%zu", s->name[p], s->value[p]);
        if (used < len) used += (size_t)snprintf(out + used, len - used, "\n");
        if (used >= len) return;
    }
}

void mbn_tune_cache_compute_id(MbnTuneCache *c) {
    char text[MAX_FILE];
    mbn_tune_decisions_text(c, text, sizeof text, false);
    uint64_t h = mbn_hash64(0xcbf29ce484222325ULL, text, strlen(text));
    snprintf(c->id, sizeof c->id, "tune-%012llx", (unsigned long long)(h & 0xffffffffffffULL));
}

int mbn_tune_cache_save(const MbnDeviceInfo *info, MbnTuneCache *c) {
    char path[4096];
    if (mbn_tune_cache_path(info, path, sizeof path) != 0)
        return mbn_fail(MBN_EFAIL, "no cache folder (set MBN_CACHE_DIR, XDG_CACHE_HOME or HOME)");
    mbn_tune_cache_compute_id(c);
    size_t cap = MAX_FILE, body_cap = MAX_FILE - 4096;
    char *text = malloc(cap), *body = malloc(body_cap), id[2048];
    int rc = text && body ? MBN_OK : mbn_fail(MBN_EFAIL, "out of host memory");
    int n = 0;
    if (rc == MBN_OK) {
        identity(info, id, sizeof id);
        mbn_tune_decisions_text(c, body, body_cap, true);
        n = snprintf(text, cap, "%s\n%sid %s\n%s", MAGIC, id, c->id, body);
        if (n < 0 || (size_t)n + 32 >= cap)
            rc = mbn_fail(MBN_EFAIL, "%s: tuning record too long", path);
    }
    if (rc == MBN_OK) {
        n += snprintf(text + n, cap - (size_t)n, "checksum %08lx\n",
                      crc32(0L, (const Bytef *)text, (uInt)n));
        mbn_mkdirs_for(path);
        rc = mbn_atomic_write_file(path, text, (size_t)n);
    }
    free(text);
    free(body);
    return rc;
}

/* "NAME=VALUE" tokens of a line into names/values; false when one does not parse. */
static bool parse_pairs(char *s, char names[][24], long long *values, int max, int *n) {
    *n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(s, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (tok[0] == '#') break; /* comment: the workload an op was tuned on */
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || (size_t)(eq - tok) >= 24 || *n == max) return false;
        char *end = NULL;
        long long v = strtoll(eq + 1, &end, 10);
        if (end == eq + 1 || *end || v < 0 || v > 1 << 30) return false;
        snprintf(names[*n], 24, "%.*s", (int)(eq - tok), tok);
        values[(*n)++] = v;
    }
    return true;
}

bool mbn_tune_decisions_parse(char *body, MbnTuneCache *c) {
    for (char *line = body, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (!next) return false;
        *next++ = 0;
        char what[16], name[64];
        int used = 0;
        if (sscanf(line, "%15s %63s %n", what, name, &used) != 2) return false;
        char *rest = line + used;
        long long values[MBN_TUNE_MAX_CLBLAST_PARAMS];
        if (strcmp(what, "op") == 0) {
            /* op <use> <op> <row> PARAM=V ... [# workload] */
            int u = 0;
            while (u < MBN_USE_COUNT && strcmp(mbn_use_name((MbnUse)u), name) != 0)
                u++;
            char opname[32], row[64];
            int n1 = 0, n2 = 0;
            if (u == MBN_USE_COUNT || sscanf(rest, "%31s %n", opname, &n1) != 1) return false;
            rest += n1;
            int op = 0;
            while (op < MBN_OP_COUNT && strcmp(mbn_op_name((MbnOp)op), opname) != 0)
                op++;
            if (op == MBN_OP_COUNT || c->op[u][op].set) return false;
            MbnTunedOp *t = &c->op[u][op];
            if (sscanf(rest, "%63s %n", row, &n2) != 1) return false;
            char *hash = strstr(rest + n2, "# ");
            if (hash) snprintf(t->workload, sizeof t->workload, "%s", hash + 2);
            if (!parse_pairs(rest + n2, t->param, values, MBN_VARIANT_MAX_PARAMS, &t->n))
                return false;
            for (int p = 0; p < t->n; p++)
                t->value[p] = (int)values[p];
            snprintf(t->row, sizeof t->row, "%s", row);
            t->set = true;
        } else if (strcmp(what, "clblast") == 0) {
            if (c->n_clblast == MBN_TUNE_MAX_CLBLAST || strlen(name) >= 16) return false;
            MbnClblastParams *s = &c->clblast[c->n_clblast++];
            snprintf(s->kernel, sizeof s->kernel, "%s", name);
            if (!parse_pairs(rest, s->name, values, MBN_TUNE_MAX_CLBLAST_PARAMS, &s->n) ||
                s->n == 0)
                return false;
            for (int p = 0; p < s->n; p++)
                s->value[p] = (size_t)values[p];
        } else {
            return false;
        }
    }
    return true;
}

static void warn_once(const char *path, const char *why) {
    static _Thread_local char warned[4096];
    if (strcmp(warned, path) == 0) return;
    snprintf(warned, sizeof warned, "%s", path);
    mbn_warn("ignoring tuning cache %s (%s); running untuned (run `mbn tune` again)", path, why);
}

int mbn_tune_cache_load(const MbnDeviceInfo *info, MbnTuneCache *c) {
    memset(c, 0, sizeof *c);
    char path[4096];
    if (mbn_tune_cache_path(info, path, sizeof path) != 0) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    /* Heap, not static: the library opens devices from several threads. */
    char *text = malloc(MAX_FILE + 1), reason[600];
    size_t n = text ? fread(text, 1, MAX_FILE + 1, f) : 0;
    fclose(f);
    if (!text) return 0;
    const char *why = NULL;
    char *sum = NULL;
    if (n == 0 || n > MAX_FILE) why = n ? "too large" : "empty";
    if (!why) {
        text[n] = 0;
        if (memchr(text, 0, n)) why = "damaged: not text";
    }
    if (!why) {
        /* The checksum line is the last one and covers every byte before it. */
        sum = strncmp(text, "checksum ", 9) == 0 ? text : NULL;
        for (char *p = strstr(text, "\nchecksum "); p; p = strstr(p + 1, "\nchecksum "))
            sum = p + 1;
        unsigned long want = 0;
        int used = 0;
        if (!sum || sscanf(sum, "checksum %8lx\n%n", &want, &used) != 1 || sum + used != text + n ||
            crc32(0L, (const Bytef *)text, (uInt)(sum - text)) != want)
            why = "damaged: bad checksum";
    }
    char id[2048];
    identity(info, id, sizeof id);
    char *body = NULL;
    if (!why) {
        *sum = 0;
        size_t lm = strlen(MAGIC), li = strlen(id);
        if (strncmp(text, MAGIC, lm) != 0 || text[lm] != '\n')
            why = "not an mbn tuning file";
        else if (strncmp(text + lm + 1, id, li) != 0)
            why = "made for another device, driver or mbn build";
        else
            body = text + lm + 1 + li;
    }
    char stored_id[MBN_TUNE_ID_LEN] = "";
    if (!why) {
        int used = 0;
        if (sscanf(body, "id %23s\n%n", stored_id, &used) != 1 || used == 0)
            why = "damaged: no id";
        else
            body += used;
    }
    if (!why && !mbn_tune_decisions_parse(body, c)) why = "damaged: unreadable line";
    if (!why) {
        mbn_tune_cache_compute_id(c);
        if (strcmp(c->id, stored_id) != 0) why = "damaged: id does not match its contents";
    }
    if (!why) {
        /* The rows and values must be ones this build accepts on this device. */
        int rc = MBN_OK;
        for (int u = 0; rc == MBN_OK && u < MBN_USE_COUNT; u++) {
            MbnVariantSet set;
            MbnVariantOverride ov[MBN_OP_COUNT];
            int nov = mbn_tune_cache_overrides(c, (MbnUse)u, ov, MBN_OP_COUNT);
            rc = mbn_variants_resolve(&set, &info->profile, MBN_FAMILY_AUTO);
            for (int i = 0; rc == MBN_OK && i < nov; i++)
                rc = mbn_variants_override(&set, &ov[i]);
        }
        if (rc != MBN_OK) {
            snprintf(reason, sizeof reason, "rejected: %s", mbn_last_error());
            mbn_clear_error();
            why = reason;
        }
    }
    if (why) warn_once(path, why);
    free(text);
    if (why) {
        memset(c, 0, sizeof *c);
        return -1;
    }
    return 1;
}

int mbn_tune_cache_overrides(const MbnTuneCache *c, MbnUse use, MbnVariantOverride *ov, int max) {
    int n = 0;
    for (int op = 0; op < MBN_OP_COUNT && n < max; op++) {
        const MbnTunedOp *t = &c->op[use][op];
        if (!t->set && use == MBN_USE_INFER) t = &c->op[MBN_USE_TRAIN][op];
        if (!t->set) continue;
        MbnVariantOverride *o = &ov[n++];
        memset(o, 0, sizeof *o);
        o->op = (MbnOp)op;
        o->row = t->row;
        o->n = t->n;
        for (int p = 0; p < t->n; p++) {
            o->param[p] = t->param[p];
            o->value[p] = t->value[p];
        }
    }
    return n;
}

int mbn_tune_apply_clblast(const MbnDeviceInfo *info, const MbnClblastParams *sets, int n) {
    for (int k = 0; k < n; k++) {
        const char *names[MBN_TUNE_MAX_CLBLAST_PARAMS];
        size_t values[MBN_TUNE_MAX_CLBLAST_PARAMS];
        for (int p = 0; p < sets[k].n; p++) {
            names[p] = sets[k].name[p];
            values[p] = sets[k].value[p];
        }
        CLBlastStatusCode s = CLBlastOverrideParameters(
            info->device, sets[k].kernel, CLBlastPrecisionSingle, (size_t)sets[k].n, names, values);
        if (s != CLBlastSuccess)
            return mbn_fail(MBN_EFAIL, "device %s: CLBlast rejected the %s parameters: %s",
                            info->name, sets[k].kernel, mbn_clblast_error_name(s));
    }
    return MBN_OK;
}
