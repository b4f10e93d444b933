#include <stdio.h>

#include "apps/commands.h"

int cmd_train(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mbn: error: train is not implemented yet\n");
    return 1;
}
