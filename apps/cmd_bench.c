#include <stdio.h>

#include "apps/commands.h"

int cmd_bench(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mbn: error: bench is not implemented yet\n");
    return 1;
}
