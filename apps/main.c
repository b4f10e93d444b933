/* mbn: MobileNet V1 on any OpenCL device. Dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "apps/commands.h"
#include "base/version.h"
#include "export/onnx.h"
#include "host/blas.h"
#include "train/comm_mpi.h"

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
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
    fprintf(f, "usage: mbn <command> [flags]   (mbn help <command> for its flags)\n"
               "       mbn --version\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].what);
}

static const Command *find(const char *name) {
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(name, commands[i].name)) return &commands[i];
    return NULL;
}

static int version(void) {
    printf("mbn %s\n", MBN_VERSION_STRING);
    printf("MPI: %s\n", mbn_mpi_available() ? "yes (mpirun -np N mbn train)" : "no");
    printf("ONNX export: yes (%s)\n", mbn_onnx_build_info());
    printf("CLBlast: %s\n", mbn_clblast_version());
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "mbn: error: no command given\n");
        usage(stderr);
        return 2;
    }
    const char *first = argv[1];
    if (!strcmp(first, "--version")) {
        if (argc > 2) {
            fprintf(stderr, "mbn: error: unexpected argument \"%s\" after --version\n", argv[2]);
            return 2;
        }
        return version();
    }
    if (!strcmp(first, "--help") || !strcmp(first, "-h") || !strcmp(first, "help")) {
        if (argc == 2) {
            usage(stdout);
            return 0;
        }
        /* mbn help CMD: CMD's own help. */
        const Command *c = find(argv[2]);
        if (!c || argc > 3) {
            fprintf(stderr, "mbn: error: %s \"%s\"\n",
                    c ? "unexpected argument" : "unknown command", argv[c ? 3 : 2]);
            usage(stderr);
            return 2;
        }
        char help[] = "--help";
        char *args[] = {help, NULL};
        return c->run(1, args);
    }
    const Command *c = find(first);
    if (c) return c->run(argc - 2, argv + 2);
    fprintf(stderr, "mbn: error: unknown command \"%s\"\n", first);
    usage(stderr);
    return 2;
}
