#include <stdio.h>

#include "apps/commands.h"

int cmd_eval(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mbn: error: eval is not implemented yet\n");
    return 1;
}
