#include "apps/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/error.h"

void mbn_common_defaults(MbnCommonFlags *c) {
    c->device = NULL;
    c->alpha = 1.0f;
    c->resolution = 224;
    c->num_classes = 1000;
    c->json = false;
}

void mbn_common_from_file(MbnCommonFlags *c) {
    mbn_common_defaults(c);
    c->alpha = 0;
    c->resolution = 0;
    c->num_classes = 0;
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
    case FLAG_STRINGS: {
        MbnStrings *list = f->target;
        if (list->n >= list->max)
            return mbn_fail(MBN_EUSAGE, "--%s: at most %d values", f->name, list->max);
        list->items[list->n++] = v;
        return MBN_OK;
    }
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

/* The parsed command (one per process): its flags word warnings, its values are not rewritten. */
static const MbnCli *wording_cli;
static int typed_argc;
static char **typed_argv;

static void warning_wording(char *msg, size_t cap) {
    mbn_cli_flag_wording(wording_cli, msg, cap);
}

/* The flags' values before parsing, as --help states them (the table's defaults, whatever a
 * flag before --help set). */
#define MAX_FLAGS 64
static char defaults[MAX_FLAGS][96];

static void snapshot_defaults(const MbnCli *cli) {
    for (int k = 0; k < cli->n_flags && k < MAX_FLAGS; k++) {
        const MbnFlag *f = &cli->flags[k];
        char *d = defaults[k];
        d[0] = 0;
        if (f->default_text) {
            if (*f->default_text) snprintf(d, sizeof defaults[k], "%s", f->default_text);
        } else if (f->type == FLAG_INT) {
            snprintf(d, sizeof defaults[k], "%d", *(const int *)f->target);
        } else if (f->type == FLAG_FLOAT) {
            snprintf(d, sizeof defaults[k], "%g", (double)*(const float *)f->target);
        } else if (f->type == FLAG_STRING && *(const char **)f->target) {
            snprintf(d, sizeof defaults[k], "%s", *(const char **)f->target);
        }
    }
}

int mbn_cli_parse(MbnCli *cli, int argc, char **argv) {
    cli->n_positional = 0;
    cli->help = false;
    snapshot_defaults(cli);
    typed_argc = argc;
    typed_argv = argv;
    wording_cli = cli;
    mbn_set_warning_rewrite(warning_wording);
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

/* Prints text from column `col` (already reached), breaking at spaces so that no line passes
 * MBN_CLI_COLUMNS; continuation lines start at column `indent`. A word longer than a line
 * stands alone on its line. */
static void print_wrapped(const char *text, int col, int indent) {
    const char *p = text;
    bool line_start = true;
    while (*p) {
        if (*p == '\n') { /* a paragraph break in the text */
            printf("\n%*s", indent, "");
            col = indent;
            line_start = true;
            p++;
            continue;
        }
        if (*p == ' ') {
            p++;
            continue;
        }
        int len = 0;
        while (p[len] && p[len] != ' ' && p[len] != '\n')
            len++;
        if (!line_start && col + 1 + len > MBN_CLI_COLUMNS) {
            printf("\n%*s", indent, "");
            col = indent;
            line_start = true;
        }
        if (!line_start) {
            putchar(' ');
            col++;
        }
        printf("%.*s", len, p);
        col += len;
        p += len;
        line_start = false;
    }
    putchar('\n');
}

void mbn_cli_print_help(const MbnCli *cli) {
    printf("usage: "); /* continuation lines start under the command's first flag */
    print_wrapped(cli->usage, 7, 7 + (int)strlen("mbn ") + (int)strlen(cli->command) + 1);
    if (cli->description) {
        printf("\n");
        print_wrapped(cli->description, 0, 0);
    }
    printf("\nflags:\n");
    enum { LEFT = 24 }; /* "  --name METAVAR" column, then the help from column 2 + LEFT + 2 */
    for (int k = 0; k <= cli->n_flags; k++) {
        const MbnFlag *f = k < cli->n_flags ? &cli->flags[k] : NULL;
        char left[64], help[512];
        if (!f)
            snprintf(left, sizeof left, "--help");
        else if (f->type == FLAG_BOOL)
            snprintf(left, sizeof left, "--%s", f->name);
        else
            snprintf(left, sizeof left, "--%s %s%s", f->name, f->metavar ? f->metavar : "V",
                     f->type == FLAG_STRINGS ? "..." : "");
        if (!f)
            snprintf(help, sizeof help, "show this help");
        else if (k < MAX_FLAGS && defaults[k][0])
            snprintf(help, sizeof help, "%s (default%s %.95s)", f->help, f->default_text ? ":" : "",
                     defaults[k]);
        else
            snprintf(help, sizeof help, "%s", f->help);
        int len = printf("  %s", left);
        if (len > 2 + LEFT) {
            printf("\n%*s", 2 + LEFT + 2, "");
        } else {
            printf("%*s", 2 + LEFT + 2 - len, "");
        }
        print_wrapped(help, 2 + LEFT + 2, 2 + LEFT + 2);
    }
}

static bool word_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '/';
}

/* The flag whose parameter name (name with '_' for '-') is msg[0..len), or NULL. */
static const MbnFlag *flag_for(const MbnCli *cli, const char *word, size_t len) {
    for (int k = 0; k < cli->n_flags; k++) {
        const char *f = cli->flags[k].name;
        if (strlen(f) != len) continue;
        size_t i = 0;
        while (i < len && (f[i] == word[i] || (f[i] == '-' && word[i] == '_')))
            i++;
        if (i == len) return &cli->flags[k];
    }
    return NULL;
}

static bool typed_as_value(const char *word, size_t len) {
    for (int i = 0; i < typed_argc; i++)
        if (typed_argv[i][0] != '-' && strlen(typed_argv[i]) == len &&
            !strncmp(typed_argv[i], word, len))
            return true;
    return false;
}

/* The value the user typed for flag f (the last --name V or --name=V), or NULL. */
static const char *typed_value(const MbnFlag *f) {
    const char *v = NULL;
    size_t n = strlen(f->name);
    for (int i = 0; i < typed_argc; i++) {
        const char *a = typed_argv[i];
        if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, f->name, n) != 0) continue;
        if (a[2 + n] == '=') v = a + 3 + n;
        if (a[2 + n] == 0 && i + 1 < typed_argc) v = typed_argv[i + 1];
    }
    return v;
}

/* Is the one-word parameter name at msg[i..i+len) the subject of its clause: at the start of
 * the message or after ": ", followed by ':' or by the value the user typed for the flag? */
static bool names_the_flag(const MbnFlag *f, const char *msg, size_t i, size_t len) {
    if (i != 0 && (i < 2 || msg[i - 2] != ':' || msg[i - 1] != ' ')) return false;
    const char *after = msg + i + len;
    if (*after == ':') return true;
    const char *v = typed_value(f);
    if (*after != ' ' || !v || !*v) return false;
    const char *end = NULL;
    if (strncmp(after + 1, v, strlen(v)) == 0) {
        end = after + 1 + strlen(v);
    } else { /* the same number printed another way: typed 0.50, the library says 0.5 */
        char *e1 = NULL, *e2 = NULL;
        double typed = strtod(v, &e1), said = strtod(after + 1, &e2);
        if (*e1 == 0 && e2 != after + 1 && typed == said) end = e2;
    }
    return end &&
           (*end == 0 || *end == ':' || *end == ' ' || *end == ',' || *end == ';' || *end == ')');
}

void mbn_cli_flag_wording(const MbnCli *cli, char *msg, size_t cap) {
    if (!cli || !msg) return;
    char out[2048];
    size_t o = 0;
    for (size_t i = 0; msg[i] && o + 1 < sizeof out;) {
        if (i > 0 && word_char(msg[i - 1])) {
            out[o++] = msg[i++];
            continue;
        }
        size_t len = 0;
        while (word_char(msg[i + len]))
            len++;
        /* Parameter names are lower-case letters and underscores only (no path, no number). */
        bool name = len > 0, underscore = false;
        for (size_t k = 0; k < len && name; k++) {
            name = (msg[i + k] >= 'a' && msg[i + k] <= 'z') || msg[i + k] == '_';
            underscore |= msg[i + k] == '_';
        }
        const MbnFlag *f = name ? flag_for(cli, msg + i, len) : NULL;
        if (f && (underscore || names_the_flag(f, msg, i, len)) && !typed_as_value(msg + i, len)) {
            int n = snprintf(out + o, sizeof out - o, "--%s", f->name);
            if (n < 0 || (size_t)n >= sizeof out - o) break;
            o += (size_t)n;
            i += len;
        } else if (len == 0) {
            out[o++] = msg[i++];
        } else {
            for (size_t k = 0; k < len && o + 1 < sizeof out; k++)
                out[o++] = msg[i++];
        }
    }
    out[o] = 0;
    snprintf(msg, cap, "%s", out);
}

int mbn_cli_report(const MbnCli *cli, int rc) {
    if (rc == MBN_OK) return 0;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", mbn_last_error());
    mbn_cli_flag_wording(cli, msg, sizeof msg);
    fprintf(stderr, "mbn: error: %s\n", msg);
    if (rc == MBN_EUSAGE) {
        if (cli) fprintf(stderr, "usage: %s\n", cli->usage);
        return 2;
    }
    return 1;
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int mbn_cli_input_file(const char *flag, const char *path) {
    struct stat st;
    if (!path || !*path) return mbn_fail(MBN_EUSAGE, "%s: empty path", flag);
    if (stat(path, &st) != 0) return mbn_fail(MBN_EUSAGE, "%s %s: no such file", flag, path);
    if (S_ISDIR(st.st_mode))
        return mbn_fail(MBN_EUSAGE, "%s %s: a folder, where a file is expected", flag, path);
    return MBN_OK;
}

int mbn_cli_input_dir(const char *flag, const char *path) {
    struct stat st;
    if (!path || !*path) return mbn_fail(MBN_EUSAGE, "%s: empty path", flag);
    if (stat(path, &st) != 0) return mbn_fail(MBN_EUSAGE, "%s %s: no such folder", flag, path);
    if (!S_ISDIR(st.st_mode)) return mbn_fail(MBN_EUSAGE, "%s %s: not a folder", flag, path);
    return MBN_OK;
}

int mbn_cli_output_file(const char *flag, const char *path) {
    if (!path || !*path) return mbn_fail(MBN_EUSAGE, "%s: empty file name", flag);
    if (is_dir(path))
        return mbn_fail(MBN_EUSAGE, "%s %s: a folder, where a file name is expected", flag, path);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return MBN_OK; /* the current folder */
    if (slash == dir)
        slash[1] = 0;
    else
        *slash = 0;
    if (!is_dir(dir)) return mbn_fail(MBN_EUSAGE, "%s %s: no such folder %s", flag, path, dir);
    return MBN_OK;
}

int mbn_cli_output_ext(const char *flag, const char *path, const char *ext) {
    size_t n = strlen(path), m = strlen(ext);
    if (n <= m || strcasecmp(path + n - m, ext) != 0)
        return mbn_fail(MBN_EUSAGE, "%s %s: the file name must end in %s (that is what is written)",
                        flag, path, ext);
    return MBN_OK;
}
