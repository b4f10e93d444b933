/* Flag parsing shared by every subcommand: `--name value` or `--name=value`, strict number
 * parsing (the whole value must be a finite number), unknown flags and bad values are usage
 * errors (exit 2) naming the flag. */
#ifndef MBN_APPS_CLI_H
#define MBN_APPS_CLI_H
#include <stdbool.h>
#include <stddef.h>

typedef enum { FLAG_INT, FLAG_FLOAT, FLAG_STRING, FLAG_BOOL, FLAG_STRINGS } MbnFlagType;

/* FLAG_STRINGS: a flag that may repeat (--ckpt-dir a --ckpt-dir b), collecting its values. */
typedef struct {
    const char **items;
    int n, max;
} MbnStrings;

typedef struct {
    const char *name; /* without the leading "--" */
    MbnFlagType type;
    void *target; /* int*, float*, const char**, bool*, MbnStrings* */
    const char *help;
    const char *metavar;
} MbnFlag;

typedef struct {
    const char *command; /* e.g. "summary" */
    const char *usage;   /* one line, e.g. "mbn summary [--alpha A] ..." */
    const char *description;
    const MbnFlag *flags;
    int n_flags;
    const char **positional; /* filled with the non-flag arguments */
    int max_positional;
    int n_positional;
    bool help; /* --help was given: usage printed to stdout */
} MbnCli;

/* Returns MBN_OK, or MBN_EUSAGE with the error recorded. On --help prints help and sets
 * cli->help. */
int mbn_cli_parse(MbnCli *cli, int argc, char **argv);
void mbn_cli_print_help(const MbnCli *cli);

/* Reports an error as "mbn: error: ..." (plus the usage line for usage errors) and returns the
 * exit status for it. The library's parameter names (base/error.h) become this command's flags:
 * "batch_size 0: ..." prints as "--batch-size 0: ...". */
int mbn_cli_report(const MbnCli *cli, int rc);
/* That rewrite, in place. A parameter name (a flag's name with '_' for '-') standing as a word
 * becomes "--flag": anywhere when it has an underscore (batch_size, ckpt_dir); a one-word name
 * (alpha, device, milestones) only as the subject of a clause (at the start or after ": ",
 * followed by ':' or by the value the user typed for that flag), since elsewhere it is an
 * ordinary word ("out of host memory", "device <name>: ..."). A word the user typed as a value
 * (a folder named "alpha") is never rewritten. */
void mbn_cli_flag_wording(const MbnCli *cli, char *msg, size_t cap);

/* The model flags every command shares. */
typedef struct {
    const char *device;
    float alpha;
    int resolution;
    int num_classes;
    bool json;
} MbnCommonFlags;

#define MBN_COMMON_FLAGS(c)                                                                        \
    {"device", FLAG_STRING, &(c)->device,                                                          \
     "OpenCL device: index from `mbn devices`, name substring or \"all\" (env MBN_DEVICE)",        \
     "SEL"},                                                                                       \
        {"alpha", FLAG_FLOAT, &(c)->alpha, "width multiplier in (0, 2] (default 1.0)", "A"},       \
        {"resolution", FLAG_INT, &(c)->resolution, "input resolution, >= 32 (default 224)", "R"},  \
        {"num-classes", FLAG_INT, &(c)->num_classes, "classes, >= 2 (default 1000)", "K"}, {       \
        "json", FLAG_BOOL, &(c)->json, "print one JSON document on stdout", NULL                   \
    }

/* --precision P of infer, eval, bench and export (model/net.h: MbnPrecision); parse the value
 * with mbn_precision_parse("--precision", value, &p). */
#define MBN_PRECISION_FLAG(target)                                                                 \
    {                                                                                              \
        "precision", FLAG_STRING, (target),                                                        \
            "fp32 (default), fp16 (weights and activations stored as half, computed in float; "    \
            "half arithmetic where the device has cl_khr_fp16) or auto (fp16 where the device "    \
            "has cl_khr_fp16 and is measured faster with it)",                                     \
            "P"                                                                                    \
    }

void mbn_common_defaults(MbnCommonFlags *c);

#endif
