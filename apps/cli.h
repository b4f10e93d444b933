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
    /* What --help says the default is: NULL shows the target's value before parsing ("(default
     * 64)"; nothing for a NULL string, a bool or a list), "" shows nothing, any other text
     * "(default: <text>)". The help is generated from this table, the one the parser reads. */
    const char *default_text;
} MbnFlag;

typedef struct {
    const char *command; /* e.g. "summary" */
    const char *usage;   /* e.g. "mbn summary [--alpha A] ..." (wrapped at 80 columns) */
    const char *description;
    const MbnFlag *flags;
    int n_flags;
    const char **positional; /* filled with the non-flag arguments */
    int max_positional;
    int n_positional;
    bool help; /* --help was given: usage printed to stdout */
} MbnCli;

/* The one initializer of an MbnCli: `flags` is an array (its length is taken), `positional`
 * an array of max_positional pointers or NULL. */
#define MBN_CLI(command, usage, description, flags, positional, max_positional)                    \
    {                                                                                              \
        (command), (usage), (description), (flags), (int)(sizeof(flags) / sizeof((flags)[0])),     \
            (positional), (max_positional), 0, false                                               \
    }

/* Help and usage lines are wrapped at this many columns. */
#define MBN_CLI_COLUMNS 80

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

/* Paths named on the command line, checked before any work starts (exit 2 when wrong): `flag`
 * names the flag ("--checkpoint") or what the argument is ("IMAGE"). An input file must exist
 * and not be a folder; an input folder must exist and be one; an output file's folder must exist
 * and the path must not be a folder. */
int mbn_cli_input_file(const char *flag, const char *path);
int mbn_cli_input_dir(const char *flag, const char *path);
int mbn_cli_output_file(const char *flag, const char *path);
/* An output path's extension must be `ext` (".svg"): usage error otherwise. */
int mbn_cli_output_ext(const char *flag, const char *path, const char *ext);

/* The flags the commands share, each where it is used. */
typedef struct {
    const char *device;
    float alpha;
    int resolution;
    int num_classes;
    bool json;
} MbnCommonFlags;

/* One device (eval, infer); several (bench, train, tune). */
#define MBN_FLAG_DEVICE(c)                                                                         \
    {                                                                                              \
        "device", FLAG_STRING, &(c)->device,                                                       \
            "OpenCL device: an index from `mbn devices` or a part of its name", "SEL",             \
            "$MBN_DEVICE, else the first GPU, else the first device"                               \
    }
#define MBN_FLAG_DEVICES(c)                                                                        \
    {                                                                                              \
        "device", FLAG_STRING, &(c)->device,                                                       \
            "OpenCL device: an index from `mbn devices` or a part of its name; several as 0,1 or " \
            "\"all\"",                                                                             \
            "SEL", "$MBN_DEVICE, else the first GPU, else the first device"                        \
    }
#define MBN_FLAG_JSON(c)                                                                           \
    { "json", FLAG_BOOL, &(c)->json, "print one JSON document on stdout", NULL, NULL }
/* The network to build (summary, bench, train, tune). */
#define MBN_FLAG_ALPHA(c)                                                                          \
    { "alpha", FLAG_FLOAT, &(c)->alpha, "width multiplier, in (0, 2]", "A", NULL }
#define MBN_FLAG_RESOLUTION(c)                                                                     \
    { "resolution", FLAG_INT, &(c)->resolution, "input resolution, 32 to 4096", "R", NULL }
#define MBN_FLAG_NUM_CLASSES(c, default_text)                                                      \
    { "num-classes", FLAG_INT, &(c)->num_classes, "classes, at least 2", "K", default_text }
#define MBN_FLAGS_NETWORK(c)                                                                       \
    MBN_FLAG_ALPHA(c), MBN_FLAG_RESOLUTION(c), MBN_FLAG_NUM_CLASSES(c, NULL)
/* A model file's configuration (eval, infer, export): the file says it; the flags check it. */
#define MBN_FLAGS_MODEL_CHECKS(c)                                                                  \
    {"alpha", FLAG_FLOAT, &(c)->alpha, "check: the model's width multiplier must be A", "A", ""},  \
        {"resolution",                                                                             \
         FLAG_INT,                                                                                 \
         &(c)->resolution,                                                                         \
         "input resolution to run at, with a warning when it is not the model's",                  \
         "R",                                                                                      \
         "the model's"},                                                                           \
    {                                                                                              \
        "num-classes", FLAG_INT, &(c)->num_classes, "check: the model must have K classes", "K",   \
            ""                                                                                     \
    }

/* --precision P of infer, eval, bench and export (model/net.h: MbnPrecision); parse the value
 * with mbn_precision_parse("--precision", value, &p). */
#define MBN_FLAG_PRECISION(target)                                                                 \
    {                                                                                              \
        "precision", FLAG_STRING, (target),                                                        \
            "fp32, fp16 (weights and activations stored as half, computed in float; half "         \
            "arithmetic where the device has cl_khr_fp16) or auto (fp16 where the device has "     \
            "cl_khr_fp16 and is measured faster with it)",                                         \
            "P", "fp32"                                                                            \
    }

/* device NULL, alpha 1.0, resolution 224, 1000 classes, no JSON. */
void mbn_common_defaults(MbnCommonFlags *c);
/* The same with the model's configuration left to a file (0: from the file). */
void mbn_common_from_file(MbnCommonFlags *c);

#endif
