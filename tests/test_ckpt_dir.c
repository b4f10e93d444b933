/* Checkpoint folders: the seed's names; find_latest orders by epoch then step numerically,
 * ignores other files and temporary files, and skips a damaged newest checkpoint; rotation keeps
 * the newest N and removes only stale temporary files of dead processes. */
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/ckpt_sample.h"
#include "io/formats/checkpoint.h"

static void save(const char *dir, int epoch, int64_t step) {
    MbnCheckpoint ck;
    sample_checkpoint(&ck, (uint64_t)epoch, 1);
    mbn_ckpt_set_int(&ck, "epoch", epoch);
    char p[512];
    mbn_ckpt_path(p, sizeof p, dir, epoch, step);
    T_CHECK(mbn_ckpt_save(p, &ck) == MBN_OK, "%s", mbn_last_error());
    mbn_ckpt_free(&ck);
}

static void touch(const char *dir, const char *name, const char *content) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    T_CHECK(t_write_file(p, content, strlen(content)) == 0, "write %s", p);
}

static bool exists(const char *dir, const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

int main(void) {
    char dir[64], p[512], found[512];
    t_tempdir(dir, sizeof dir);

    mbn_ckpt_path(p, sizeof p, "runs/a", 12, 3400);
    T_CHECK(strcmp(p, "runs/a/mobilenetv1-12_3400.ckpt") == 0, "%s", p);

    T_CHECK(mbn_ckpt_find_latest(dir, found, sizeof found) == MBN_EFAIL, "empty folder");
    T_CHECK(strstr(mbn_last_error(), dir) != NULL, "%s", mbn_last_error());
    T_CHECK(mbn_ckpt_find_latest("/nonexistent-mbn", found, sizeof found) == MBN_EFAIL,
            "no folder");

    /* Numeric order: epoch 10 is newer than 9; step breaks ties. */
    save(dir, 2, 200);
    save(dir, 9, 900);
    save(dir, 10, 1000);
    save(dir, 10, 1001);
    touch(dir, "mobilenetv1-99_1.ckpt.tmp.12345", "partial");
    touch(dir, "mobilenetv1-98_1.ckpt.bak", "x");
    touch(dir, "mobilenetv1-x_1.ckpt", "x");
    touch(dir, "other.ckpt", "x");
    T_CHECK(mbn_ckpt_find_latest(dir, found, sizeof found) == MBN_OK, "%s", mbn_last_error());
    snprintf(p, sizeof p, "%s/mobilenetv1-10_1001.ckpt", dir);
    T_CHECK(strcmp(found, p) == 0, "latest %s", found);

    /* A damaged newest file is skipped with a warning; the next one is used. */
    touch(dir, "mobilenetv1-11_1100.ckpt", "MBNCKPT\0garbage that is not a checkpoint");
    T_CHECK(mbn_ckpt_find_latest(dir, found, sizeof found) == MBN_OK, "%s", mbn_last_error());
    T_CHECK(strcmp(found, p) == 0, "latest with damaged newest: %s", found);
    /* A truncated copy of a real checkpoint as the newest, too. */
    size_t len = 0;
    unsigned char *bytes = t_read_file(p, &len);
    char q[512];
    snprintf(q, sizeof q, "%s/mobilenetv1-12_1200.ckpt", dir);
    T_CHECK(bytes && t_write_file(q, bytes, len / 2) == 0, "write truncated");
    free(bytes);
    T_CHECK(mbn_ckpt_find_latest(dir, found, sizeof found) == MBN_OK && strcmp(found, p) == 0,
            "latest with truncated newest: %s", found);

    /* Rotation keeps the newest 3 by (epoch, step), whether damaged or not, and leaves other
     * files alone. keep_max 0 keeps everything. */
    T_CHECK(mbn_ckpt_rotate(dir, 0) == MBN_OK, "%s", mbn_last_error());
    T_CHECK(t_count_files(dir, ".ckpt") == 10, "keep all: %d", t_count_files(dir, ".ckpt"));
    T_CHECK(mbn_ckpt_rotate(dir, 3) == MBN_OK, "%s", mbn_last_error());
    T_CHECK(exists(dir, "mobilenetv1-12_1200.ckpt") && exists(dir, "mobilenetv1-11_1100.ckpt") &&
                exists(dir, "mobilenetv1-10_1001.ckpt"),
            "newest 3 kept");
    T_CHECK(!exists(dir, "mobilenetv1-10_1000.ckpt") && !exists(dir, "mobilenetv1-9_900.ckpt") &&
                !exists(dir, "mobilenetv1-2_200.ckpt"),
            "older deleted");
    T_CHECK(exists(dir, "mobilenetv1-98_1.ckpt.bak") && exists(dir, "mobilenetv1-x_1.ckpt") &&
                exists(dir, "other.ckpt"),
            "unrelated files kept");
    /* The temporary file is recent: kept, even though pid 12345 is probably not alive. */
    T_CHECK(exists(dir, "mobilenetv1-99_1.ckpt.tmp.12345"), "recent tmp removed");

    /* A stale temporary file of a dead process is removed; one of a live process is kept. */
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    char stale[128], live[128];
    snprintf(stale, sizeof stale, "mobilenetv1-5_5.ckpt.tmp.%ld", (long)dead);
    snprintf(live, sizeof live, "mobilenetv1-6_6.ckpt.tmp.%ld", (long)getppid());
    touch(dir, stale, "partial");
    touch(dir, live, "partial");
    struct timespec old[2] = {{time(NULL) - 3600, 0}, {time(NULL) - 3600, 0}};
    snprintf(p, sizeof p, "%s/%s", dir, stale);
    utimensat(AT_FDCWD, p, old, 0);
    snprintf(p, sizeof p, "%s/%s", dir, live);
    utimensat(AT_FDCWD, p, old, 0);
    T_CHECK(mbn_ckpt_rotate(dir, 3) == MBN_OK, "%s", mbn_last_error());
    T_CHECK(!exists(dir, stale), "stale tmp of a dead process kept");
    T_CHECK(exists(dir, live), "tmp of a live process removed");
    T_CHECK(t_count_files(dir, "mobilenetv1-1") == 3, "rotation count");

    t_rmtree(dir);
    return t_summary("test_ckpt_dir");
}
