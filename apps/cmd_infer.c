#include <stdio.h>

#include "apps/commands.h"

int cmd_infer(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mbn: error: infer is not implemented yet\n");
    return 1;
}
