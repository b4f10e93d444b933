#include "apps/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

void mbn_common_defaults(MbnCommonFlags *c) {
    c->device = NULL;
    c->alpha = 1.0f;
    c->resolution = 224;
    c->num_classes = 1000;
    c->json = false;
}

static int parse_value(const MbnFlag *f, const char *v) {
    char *end = NULL;
    errno = 0;
    switch (f->type) {
    case FLAG_INT: {
        long x = strtol(v, &end, 10);
        if (!*v || *end || errno || x < -2147483647L || x > 2147483647L)
            return mbn_fail(MBN_EUSAGE, "--%s %s: not an integer", f->name, v);
        *(int *)f->target = (int)x;
        return MBN_OK;
    }
    case FLAG_FLOAT: {
        double x = strtod(v, &end);
        if (!*v || *end || errno || !isfinite(x))
            return mbn_fail(MBN_EUSAGE, "--%s %s: not a number", f->name, v);
        *(float *)f->target = (float)x;
        return MBN_OK;
    }
    case FLAG_STRING:
        *(const char **)f->target = v;
        return MBN_OK;
    case FLAG_BOOL:
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes")) {
            *(bool *)f->target = true;
            return MBN_OK;
        }
        if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")) {
            *(bool *)f->target = false;
            return MBN_OK;
        }
        return mbn_fail(MBN_EUSAGE, "--%s=%s: expected true or false", f->name, v);
    }
    return MBN_EUSAGE;
}

int mbn_cli_parse(MbnCli *cli, int argc, char **argv) {
    cli->n_positional = 0;
    cli->help = false;
    bool only_positional = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!only_positional && !strcmp(a, "--")) {
            only_positional = true;
            continue;
        }
        if (only_positional || a[0] != '-' || !strcmp(a, "-")) {
            if (cli->n_positional >= cli->max_positional)
                return mbn_fail(MBN_EUSAGE, "unexpected argument \"%s\"", a);
            cli->positional[cli->n_positional++] = a;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cli->help = true;
            mbn_cli_print_help(cli);
            return MBN_OK;
        }
        if (strncmp(a, "--", 2) != 0) return mbn_fail(MBN_EUSAGE, "unknown flag %s", a);
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const MbnFlag *f = NULL;
        for (int k = 0; k < cli->n_flags; k++)
            if (strlen(cli->flags[k].name) == len && !strncmp(cli->flags[k].name, name, len))
                f = &cli->flags[k];
        if (!f) return mbn_fail(MBN_EUSAGE, "unknown flag --%.*s", (int)len, name);
        if (f->type == FLAG_BOOL && !eq) {
            *(bool *)f->target = true;
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc) return mbn_fail(MBN_EUSAGE, "--%s needs a value", f->name);
            v = argv[++i];
        }
        MBN_TRY(parse_value(f, v));
    }
    return MBN_OK;
}

void mbn_cli_print_help(const MbnCli *cli) {
    printf("usage: %s\n", cli->usage);
    if (cli->description) printf("\n%s\n", cli->description);
    printf("\nflags:\n");
    for (int k = 0; k < cli->n_flags; k++) {
        const MbnFlag *f = &cli->flags[k];
        char left[64];
        if (f->type == FLAG_BOOL)
            snprintf(left, sizeof left, "--%s", f->name);
        else
            snprintf(left, sizeof left, "--%s %s", f->name, f->metavar ? f->metavar : "V");
        printf("  %-28s %s\n", left, f->help);
    }
    printf("  %-28s %s\n", "--help", "show this help");
}

int mbn_cli_report(const MbnCli *cli, int rc) {
    if (rc == MBN_OK) return 0;
    fprintf(stderr, "mbn: error: %s\n", mbn_last_error());
    if (rc == MBN_EUSAGE) {
        if (cli) fprintf(stderr, "usage: %s\n", cli->usage);
        return 2;
    }
    return 1;
}
