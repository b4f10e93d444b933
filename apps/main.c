/* mbn: MobileNet V1 on any OpenCL device. Dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "apps/commands.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} Command;

static const Command commands[] = {
    {"devices", cmd_devices, "list OpenCL platforms and devices"},
    {"summary", cmd_summary, "per-layer table of shapes, MACs and parameters"},
    {"train", cmd_train, "train a MobileNet V1"},
    {"eval", cmd_eval, "top-1/top-5 accuracy and loss on a validation split"},
    {"infer", cmd_infer, "classify images"},
    {"bench", cmd_bench, "throughput and per-layer time on one or every device"},
    {"tune", cmd_tune, "search kernel variants and GEMM parameters for a device"},
    {"export", cmd_export, "write weights (timm safetensors) or the model (ONNX)"},
    {"plot", cmd_plot, "training curves from the training log(s) as one SVG"},
};

static void usage(FILE *f) {
    fprintf(f,
            "usage: mbn <command> [flags]   (mbn <command> --help for its flags)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].what);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "mbn: error: no command given\n");
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "mbn: error: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
