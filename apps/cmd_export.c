#include <stdio.h>

#include "apps/commands.h"

int cmd_export(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mbn: error: export is not implemented yet\n");
    return 1;
}
