/* Checkpoint round trip: everything saved comes back bit-exact (config, tensor order, names,
 * shapes, float bits including NaN payloads and -0, meta of every type); meta setters replace;
 * the config check names the flag; a failed load leaves the output empty. */
#include <sys/stat.h>
#include <unistd.h>

#include "tests/support/ckpt_sample.h"
#include "io/formats/checkpoint.h"
#include "model/arch.h"

static void roundtrip(const char *dir, int level, int strategy) {
    char path[512];
    snprintf(path, sizeof path, "%s/rt-%d-%d.ckpt", dir, level, strategy);
    MbnCheckpoint a, b;
    sample_checkpoint(&a, 7, 4);
    T_CHECK((strategy < 0 ? mbn_ckpt_save(path, &a)
                          : mbn_ckpt_save_ex(path, &a, level, strategy)) == MBN_OK,
            "save: %s", mbn_last_error());
    T_CHECK(mbn_ckpt_load(path, &b) == MBN_OK, "load: %s", mbn_last_error());
    const char *d = ckpt_diff(&a, &b);
    T_CHECK(d == NULL, "level %d strategy %d: %s", level, strategy, d);
    int64_t v = 0;
    double f = 1;
    T_CHECK(mbn_ckpt_get_int(&b, "step", &v) && v == 1234567890123LL, "step %lld", (long long)v);
    T_CHECK(mbn_ckpt_get_float(&b, "lr", &f) && f == 0.0123456789012345, "lr %.17g", f);
    T_CHECK(!mbn_ckpt_get_float(&b, "step", &f), "typed getter accepted an int as float");
    T_CHECK(!mbn_ckpt_get_int(&b, "missing", &v), "missing key found");
    const char *s = mbn_ckpt_get_string(&b, "lr_schedule");
    T_CHECK(s && strcmp(s, "cosine") == 0, "lr_schedule %s", s ? s : "(null)");
    T_CHECK(t_count_files(dir, ".tmp.") == 0, "temporary file left behind");
    mbn_ckpt_free(&a);
    mbn_ckpt_free(&b);
}

int main(void) {
    char dir[64];
    t_tempdir(dir, sizeof dir);
    /* Every zlib level and strategy writes a file that loads identically. */
    for (int level = 0; level <= 9; level += 3)
        for (int strategy = 0; strategy <= 3; strategy++)
            roundtrip(dir, level, strategy);
    roundtrip(dir, 0, -1); /* the default settings */

    /* Empty checkpoint (no tensors, no meta) round-trips too. */
    MbnCheckpoint e = {.config = {1.0f, 224, 1000, 1e-3f}}, e2;
    char path[512];
    snprintf(path, sizeof path, "%s/empty.ckpt", dir);
    T_CHECK(mbn_ckpt_save(path, &e) == MBN_OK, "%s", mbn_last_error());
    T_CHECK(mbn_ckpt_load(path, &e2) == MBN_OK, "%s", mbn_last_error());
    T_CHECK(ckpt_diff(&e, &e2) == NULL, "empty differs");
    mbn_ckpt_free(&e2);

    /* Setters replace in place; a too-long key is refused. */
    MbnCheckpoint m = {0};
    mbn_ckpt_set_int(&m, "k", 1);
    mbn_ckpt_set_string(&m, "k", "x");
    T_CHECK(m.n_meta == 1 && mbn_ckpt_get_string(&m, "k") &&
                !mbn_ckpt_get_int(&m, "k", &(int64_t){0}),
            "replace failed");
    char longkey[80];
    memset(longkey, 'a', 79);
    longkey[79] = 0;
    T_CHECK(mbn_ckpt_set_int(&m, longkey, 1) == MBN_EFAIL, "long key accepted");
    mbn_ckpt_free(&m);

    /* Duplicate tensor names cannot be saved (the loader would refuse them). */
    MbnCheckpoint dup = {.config = {1.0f, 224, 10, 1e-5f}};
    int64_t shp[1] = {2};
    mbn_tensors_add(&dup.tensors, "w", 1, shp, NULL);
    mbn_tensors_add(&dup.tensors, "w", 1, shp, NULL);
    snprintf(path, sizeof path, "%s/dup.ckpt", dir);
    T_CHECK(mbn_ckpt_save(path, &dup) == MBN_EFAIL, "duplicate names saved");
    T_CHECK(access(path, F_OK) != 0 && t_count_files(dir, ".tmp.") == 0, "failed save left a file");
    mbn_ckpt_free(&dup);

    /* A checkpoint whose config was never set is refused rather than written unloadable. */
    MbnCheckpoint unset = {0};
    snprintf(path, sizeof path, "%s/unset.ckpt", dir);
    T_CHECK(mbn_ckpt_save(path, &unset) == MBN_EFAIL, "unset config saved");
    T_CHECK(strstr(mbn_last_error(), "implausible model config") != NULL, "%s", mbn_last_error());
    T_CHECK(access(path, F_OK) != 0, "file written");
    /* The same ranges as the architecture (model/arch.c), at both ends: what saves, loads. */
    const MbnModelConfig outside[] = {{MBN_ALPHA_MAX * 1.5f, 224, 10, 1e-5f},
                                      {1.0f, MBN_RESOLUTION_MIN - 1, 10, 1e-5f},
                                      {1.0f, MBN_RESOLUTION_MAX + 1, 10, 1e-5f},
                                      {1.0f, 224, MBN_CLASSES_MIN - 1, 1e-5f},
                                      {1.0f, 224, MBN_CLASSES_MAX + 1, 1e-5f}};
    for (size_t k = 0; k < sizeof outside / sizeof outside[0]; k++) {
        MbnCheckpoint odd = {.config = outside[k]};
        MbnArch arch;
        T_CHECK(mbn_arch_build(&arch, odd.config.alpha, odd.config.resolution,
                               odd.config.num_classes) == MBN_EUSAGE,
                "config %zu: the architecture accepts it", k);
        T_CHECK(mbn_ckpt_save(path, &odd) == MBN_EFAIL, "config %zu saved", k);
    }

    /* Saving into a missing folder fails with the path named and leaves nothing. */
    T_CHECK(mbn_ckpt_save("/nonexistent-dir/x.ckpt", &e) == MBN_EFAIL, "saved into nowhere");
    T_CHECK(strstr(mbn_last_error(), "/nonexistent-dir/x.ckpt") != NULL, "%s", mbn_last_error());

    /* A failed load leaves the output zeroed. */
    MbnCheckpoint z;
    memset(&z, 0x5A, sizeof z);
    T_CHECK(mbn_ckpt_load("/nonexistent-dir/x.ckpt", &z) == MBN_EFAIL, "loaded nothing");
    T_CHECK(z.tensors.count == 0 && z.tensors.items == NULL && z.meta == NULL, "not zeroed");

    /* Config checks. */
    MbnModelConfig fc = {1.0f, 224, 1000, 1e-5f};
    T_CHECK(mbn_ckpt_check_config("x.ckpt", &fc, 1.0f, 224, 1000, true) == MBN_OK, "same config");
    T_CHECK(mbn_ckpt_check_config("x.ckpt", &fc, 0, 0, 0, true) == MBN_OK, "nothing given");
    T_CHECK(mbn_ckpt_check_config("x.ckpt", &fc, 0.5f, 0, 0, false) == MBN_EFAIL, "alpha");
    T_CHECK(strcmp(mbn_last_error(),
                   "x.ckpt: alpha 0.5 was given, but the file was trained with alpha 1") == 0,
            "%s", mbn_last_error());
    T_CHECK(mbn_ckpt_check_config("x.ckpt", &fc, 0, 0, 10, false) == MBN_EFAIL, "classes");
    T_CHECK(strstr(mbn_last_error(),
                   "num_classes 10 was given, but the file was trained with 1000 classes") != NULL,
            "%s", mbn_last_error());
    T_CHECK(mbn_ckpt_check_config("x.ckpt", &fc, 0, 160, 0, false) == MBN_OK, "resolution warns");
    T_CHECK(mbn_ckpt_check_config("x.ckpt", &fc, 0, 160, 0, true) == MBN_EFAIL, "resolution");
    T_CHECK(strstr(mbn_last_error(),
                   "resolution 160 was given, but the file was trained with resolution 224") !=
                NULL,
            "%s", mbn_last_error());

    t_rmtree(dir);
    return t_summary("test_ckpt_roundtrip");
}
