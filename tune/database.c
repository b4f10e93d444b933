#include "tune/database.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "host/device.h"

#define MAX_LINE 512
#define MAX_FILE (1 << 20)
#define NOT_HEADER (-2) /* header_line: the line is a decision */

typedef struct {
    char vendor[128], platform[128], klass[64], device[256], source[MAX_LINE];
    int line; /* of its "entry" line, for messages */
} Entry;

void mbn_tune_db_class(const MbnDeviceInfo *info, char *out, size_t len) {
    const char *type = mbn_device_type_name(info->type);
    if (info->profile.isa[0] && (info->type & CL_DEVICE_TYPE_CPU))
        snprintf(out, len, "%s %s", type, info->profile.isa);
    else
        snprintf(out, len, "%s", type);
}

static bool contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return true;
    return n == 0;
}

/* The entry's specificity on this device, or -1 when it does not match: device name 8,
 * instruction set 4, device type 2, vendor or platform 1 each. */
static int match(const Entry *e, const MbnDeviceInfo *info) {
    int score = 0;
    if (strcmp(e->vendor, "*") != 0) {
        if (!contains_nocase(info->vendor, e->vendor)) return -1;
        score += 1;
    }
    if (strcmp(e->platform, "*") != 0) {
        if (!strstr(info->platform_name, e->platform)) return -1;
        score += 1;
    }
    if (strcmp(e->klass, "*") != 0) {
        char mine[64];
        mbn_tune_db_class(info, mine, sizeof mine);
        const char *type = mbn_device_type_name(info->type);
        if (strcmp(e->klass, mine) == 0 && strcmp(mine, type) != 0)
            score += 4;
        else if (strcmp(e->klass, type) == 0)
            score += 2;
        else
            return -1;
    }
    if (strcmp(e->device, "*") != 0) {
        if (!strstr(info->name, e->device)) return -1;
        score += 8;
    }
    return score;
}

/* Walks the database: for each entry, its header and its decisions (parsed), to `visit`;
 * stops at the first error (returned, with the line named). */
typedef int (*Visit)(const Entry *e, MbnTuneCache *decisions, void *ctx);

static int header_line(Entry *e, const char *line, int lineno) {
    static const struct {
        const char *key;
        size_t off, len;
    } keys[] = {{"vendor", offsetof(Entry, vendor), sizeof((Entry *)0)->vendor},
                {"platform", offsetof(Entry, platform), sizeof((Entry *)0)->platform},
                {"class", offsetof(Entry, klass), sizeof((Entry *)0)->klass},
                {"device", offsetof(Entry, device), sizeof((Entry *)0)->device},
                {"source", offsetof(Entry, source), sizeof((Entry *)0)->source}};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        size_t n = strlen(keys[k].key);
        if (strncmp(line, keys[k].key, n) == 0 && line[n] == ' ') {
            char *field = (char *)e + keys[k].off;
            if (field[0])
                return mbn_fail(MBN_EFAIL, "tuning database line %d: %s given twice", lineno,
                                keys[k].key);
            snprintf(field, keys[k].len, "%s", line + n + 1);
            return MBN_OK;
        }
    }
    return NOT_HEADER;
}

static int walk(const char *text, Visit visit, void *ctx) {
    char *copy = strdup(text), *body = malloc(strlen(text) + 1);
    if (!copy || !body) {
        free(copy);
        free(body);
        return mbn_fail(MBN_EFAIL, "out of host memory reading the tuning database");
    }
    Entry e;
    bool in_entry = false;
    size_t used = 0;
    int rc = MBN_OK, lineno = 0;
    for (char *line = copy, *next; rc == MBN_OK && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        lineno++;
        while (*line == ' ')
            line++;
        if (*line == 0 || *line == '#') continue;
        if (strcmp(line, "entry") == 0) {
            if (in_entry)
                rc = mbn_fail(MBN_EFAIL, "tuning database line %d: entry in an entry", lineno);
            memset(&e, 0, sizeof e);
            e.line = lineno;
            in_entry = true;
            used = 0;
            body[0] = 0;
        } else if (!in_entry) {
            rc = mbn_fail(MBN_EFAIL, "tuning database line %d: outside an entry: %s", lineno, line);
        } else if (strcmp(line, "end") == 0) {
            in_entry = false;
            MbnTuneCache d;
            memset(&d, 0, sizeof d);
            if (!e.vendor[0] || !e.platform[0] || !e.klass[0] || !e.device[0] || !e.source[0])
                rc = mbn_fail(MBN_EFAIL,
                              "tuning database entry at line %d: vendor, platform, class, device "
                              "and source are all needed",
                              e.line);
            else if (!mbn_tune_decisions_parse(body, &d))
                rc = mbn_fail(MBN_EFAIL,
                              "tuning database entry at line %d: a decision does not "
                              "parse (or decides an op twice)",
                              e.line);
            else
                rc = visit(&e, &d, ctx);
        } else {
            int h = header_line(&e, line, lineno);
            if (h == NOT_HEADER) { /* a decision line, kept for the parser */
                used += (size_t)sprintf(body + used, "%s\n", line);
            } else {
                rc = h;
            }
        }
    }
    if (rc == MBN_OK && in_entry)
        rc = mbn_fail(MBN_EFAIL, "tuning database entry at line %d has no end", e.line);
    free(copy);
    free(body);
    return rc;
}

/* ---- lookup ---- */

typedef struct {
    const MbnDeviceInfo *info;
    MbnTuneCache *out;
    int op_score[MBN_USE_COUNT][MBN_OP_COUNT], clblast_score[MBN_TUNE_MAX_CLBLAST];
    const Entry *op_from[MBN_USE_COUNT][MBN_OP_COUNT], *clblast_from[MBN_TUNE_MAX_CLBLAST];
    Entry entries[64]; /* the winners' headers, for `levels` */
    int n_entries, found;
} Lookup;

static const Entry *keep_entry(Lookup *l, const Entry *e) {
    for (int i = 0; i < l->n_entries; i++)
        if (l->entries[i].line == e->line) return &l->entries[i];
    if (l->n_entries == 64) return NULL;
    l->entries[l->n_entries] = *e;
    return &l->entries[l->n_entries++];
}

static int visit_lookup(const Entry *e, MbnTuneCache *d, void *ctx) {
    Lookup *l = ctx;
    int score = match(e, l->info);
    if (score < 0) return MBN_OK;
    const Entry *kept = keep_entry(l, e);
    for (int u = 0; u < MBN_USE_COUNT; u++)
        for (int op = 0; op < MBN_OP_COUNT; op++)
            if (d->op[u][op].set && score > l->op_score[u][op]) {
                l->op_score[u][op] = score;
                l->out->op[u][op] = d->op[u][op];
                l->op_from[u][op] = kept;
            }
    for (int k = 0; k < d->n_clblast; k++) {
        int slot = 0;
        while (slot < l->out->n_clblast &&
               strcmp(l->out->clblast[slot].kernel, d->clblast[k].kernel))
            slot++;
        if (slot == MBN_TUNE_MAX_CLBLAST) continue;
        if (slot == l->out->n_clblast) {
            l->out->n_clblast++;
            l->clblast_score[slot] = -1;
        }
        if (score > l->clblast_score[slot]) {
            l->clblast_score[slot] = score;
            l->out->clblast[slot] = d->clblast[k];
            l->clblast_from[slot] = kept;
        }
    }
    return MBN_OK;
}

/* The text of the database file `path` (malloc'ed), NULL after mbn_fail. */
static char *read_database(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        mbn_fail(MBN_EFAIL, "MBN_TUNE_DATABASE=%s: cannot open it", path);
        return NULL;
    }
    char *text = malloc(MAX_FILE + 1);
    size_t n = text ? fread(text, 1, MAX_FILE + 1, f) : 0;
    bool bad = ferror(f) || n > MAX_FILE;
    fclose(f);
    if (!text || bad || memchr(text, 0, n)) {
        free(text);
        mbn_fail(MBN_EFAIL, "MBN_TUNE_DATABASE=%s: not a readable text file of at most %d bytes",
                 path, MAX_FILE);
        return NULL;
    }
    text[n] = 0;
    return text;
}

int mbn_tune_db_lookup(const MbnDeviceInfo *info, const char *path, MbnTuneCache *out, char *levels,
                       size_t len) {
    memset(out, 0, sizeof *out);
    if (levels && len) levels[0] = 0;
    char *file = NULL;
    if (path && *path && !(file = read_database(path))) return -1;
    Lookup *l = calloc(1, sizeof *l);
    if (!l) {
        free(file);
        return mbn_fail(MBN_EFAIL, "out of host memory reading the tuning database");
    }
    l->info = info;
    l->out = out;
    for (int u = 0; u < MBN_USE_COUNT; u++)
        for (int op = 0; op < MBN_OP_COUNT; op++)
            l->op_score[u][op] = -1;
    int rc = walk(file ? file : mbn_tune_database_text, visit_lookup, l);
    free(file);
    int found = 0;
    if (rc != MBN_OK && path && *path) {
        free(l);
        memset(out, 0, sizeof *out);
        mbn_fail_context(rc, "MBN_TUNE_DATABASE=%s", path);
        return -1;
    }
    if (rc != MBN_OK) {
        static _Thread_local bool warned;
        if (!warned) mbn_warn("ignoring mbn's tuning database: %s", mbn_last_error());
        warned = true;
        mbn_clear_error();
        memset(out, 0, sizeof *out);
    } else {
        size_t used = 0;
        for (int i = 0; i < MBN_USE_COUNT * MBN_OP_COUNT + out->n_clblast; i++) {
            int u = i / MBN_OP_COUNT, op = i % MBN_OP_COUNT, k = i - MBN_USE_COUNT * MBN_OP_COUNT;
            const Entry *e = k >= 0 ? l->clblast_from[k] : l->op_from[u][op];
            if (!e) continue;
            found++;
            char what[64];
            if (k >= 0)
                snprintf(what, sizeof what, "clblast %s", out->clblast[k].kernel);
            else
                snprintf(what, sizeof what, "%s (%s)", mbn_op_name((MbnOp)op),
                         mbn_use_name((MbnUse)u));
            if (levels && used < len)
                used += (size_t)snprintf(levels + used, len - used,
                                         "%s: vendor %s / platform %s / class %s / device %s\n",
                                         what, e->vendor, e->platform, e->klass, e->device);
        }
    }
    free(l);
    return found;
}

/* ---- checks and export ---- */

static int visit_check(const Entry *e, MbnTuneCache *d, void *ctx) {
    int *count = ctx;
    for (int u = 0; u < MBN_USE_COUNT; u++)
        for (int op = 0; op < MBN_OP_COUNT; op++) {
            const MbnTunedOp *t = &d->op[u][op];
            if (!t->set) continue;
            const MbnVariant *row = mbn_variant_find(t->row);
            if (!row || row->op != (MbnOp)op)
                return mbn_fail(MBN_EFAIL,
                                "tuning database entry at line %d: %s is not a row of %s", e->line,
                                t->row, mbn_op_name((MbnOp)op));
            for (int p = 0; p < t->n; p++) {
                bool known = false;
                for (int k = 0; k < row->n_params; k++)
                    known = known || strcmp(row->params[k].name, t->param[p]) == 0;
                if (!known)
                    return mbn_fail(MBN_EFAIL,
                                    "tuning database entry at line %d: %s has no parameter %s",
                                    e->line, t->row, t->param[p]);
            }
        }
    (*count)++;
    return MBN_OK;
}

int mbn_tune_db_check(const char *text) {
    int count = 0;
    return walk(text, visit_check, &count) == MBN_OK ? count : -1;
}

int mbn_tune_db_format_entry(const MbnDeviceInfo *info, const MbnTuneCache *c, const char *source,
                             char *out, size_t len) {
    char klass[64], body[16384];
    mbn_tune_db_class(info, klass, sizeof klass);
    mbn_tune_decisions_text(c, body, sizeof body, true);
    int n =
        snprintf(out, len, "entry\nvendor %s\nplatform %s\nclass %s\ndevice %s\nsource %s\n%send\n",
                 info->vendor, info->platform_name, klass, info->name, source, body);
    if (n < 0 || (size_t)n >= len) return mbn_fail(MBN_EFAIL, "tuning database entry too long");
    return MBN_OK;
}
