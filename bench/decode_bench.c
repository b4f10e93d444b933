/* Decode + augment throughput on one core (not a test): every *.jpg in DIR is read from disk,
 * decoded and pre-processed at 224 px, in train mode (RandomResizedCrop + flip + normalise) and in
 * eval mode (resize 256 + centre crop 224), then the same through the threaded loader.
 *     build/decode_bench DIR [passes [ROOT]]
 * bench/decode_bench.sh generates photo-like JPEGs and runs this next to torchvision. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "io/util/file_read.h"
#include "io/data/augment.h"
#include "io/data/image_decode.h"
#include "io/data/loader.h"

#define RES 224

static int list_jpegs(const char *dir, char ***paths) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".jpg")) continue;
        if (n == cap)
            *paths = realloc(*paths, sizeof(char *) * (size_t)(cap = cap ? cap * 2 : 256));
        (*paths)[n] = malloc(strlen(dir) + len + 2);
        sprintf((*paths)[n++], "%s/%s", dir, e->d_name);
    }
    closedir(d);
    return n;
}

/* Images per second for one mode over all files, `passes` times, on this thread. */
static double run(char **paths, int n, int passes, int mode) {
    static float out[RES * RES * 3];
    int done = 0;
    double t0 = mbn_now();
    for (int p = 0; p < passes; p++)
        for (int i = 0; i < n; i++) {
            MbnRng rng;
            mbn_rng_seed(&rng, (uint64_t)(p * n + i));
            int rc = MBN_OK;
            if (mode == 2) { /* full-size decode only, for reference */
                uint8_t *buf;
                size_t len;
                MbnImage img;
                rc = mbn_read_file(paths[i], MBN_IMAGE_MAX_FILE_BYTES, &buf, &len);
                if (rc == MBN_OK) rc = mbn_image_decode(buf, len, paths[i], 1.0, &img);
                if (rc == MBN_OK) mbn_image_free(&img);
                if (buf) free(buf);
            } else {
                rc = mbn_augment_file(paths[i], RES, mode == 0, &rng, out);
            }
            if (rc != MBN_OK) fprintf(stderr, "%s\n", mbn_last_error());
            done++;
        }
    return done / (mbn_now() - t0);
}

static void run_loader(const char *dir, int passes) {
    MbnDataset *ds = NULL;
    if (mbn_dataset_open(dir, MBN_SPLIT_TRAIN, &ds) != MBN_OK) {
        printf("loader: skipped (%s)\n", mbn_last_error());
        return;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    MbnLoaderConfig cfg = {.batch_size = 32,
                           .resolution = RES,
                           .workers = (int)cores,
                           .seed = 1,
                           .train = true,
                           .drop_last = true,
                           .rank = 0,
                           .world = 1};
    MbnLoader *ld = NULL;
    if (mbn_loader_create(ds, &cfg, &ld) != MBN_OK) {
        printf("loader: %s\n", mbn_last_error());
        mbn_dataset_free(ds);
        return;
    }
    long images = 0;
    double t0 = mbn_now();
    for (int e = 0; e < passes; e++) {
        mbn_loader_start_epoch(ld, e, 0);
        MbnBatch b;
        while (mbn_loader_next(ld, &b) == MBN_OK && b.n > 0)
            images += b.n;
    }
    printf("loader train (%ld workers, batch 32): %.1f images/s\n", cores,
           images / (mbn_now() - t0));
    mbn_loader_destroy(ld);
    mbn_dataset_free(ds);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: decode_bench DIR [passes [ROOT]]\n");
        return 2;
    }
    int passes = argc > 2 ? atoi(argv[2]) : 3;
    char **paths = NULL;
    int n = list_jpegs(argv[1], &paths);
    if (n == 0) {
        fprintf(stderr, "decode_bench: no .jpg in %s\n", argv[1]);
        return 1;
    }
    run(paths, n, 1, 0); /* warm the page cache */
    printf("files: %d, passes: %d, one thread\n", n, passes);
    printf("train decode+RandomResizedCrop(224)+flip+normalise: %.1f images/s\n",
           run(paths, n, passes, 0));
    printf("eval  decode+resize(256)+centre crop(224)+normalise: %.1f images/s\n",
           run(paths, n, passes, 1));
    printf("full-size decode only: %.1f images/s\n", run(paths, n, passes, 2));
    /* Optional ROOT with ROOT/train/<class>/ holding the same files: the threaded loader. */
    if (argc > 3) run_loader(argv[3], passes);
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return 0;
}
