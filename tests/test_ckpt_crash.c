/* Crash safety: a child process saves checkpoints in a loop (new names plus rotation, and
 * overwriting one fixed name) and is killed with SIGKILL at seeded random moments, 24 times.
 * Afterwards every file under a final name loads and holds exactly what was saved under it, the
 * overwritten file is always a complete old or new version, and find_latest returns the newest
 * complete checkpoint. Partial data may only exist as "*.tmp.<pid>". */
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "tests/support/ckpt_sample.h"
#include "io/formats/checkpoint.h"

#define SCALE 1500 /* two 10 x 24000 tensors: ~2 MB per file, so saves take milliseconds */

static int save_index(const char *dir, int i) {
    MbnCheckpoint ck;
    sample_checkpoint(&ck, (uint64_t)i, SCALE);
    mbn_ckpt_set_int(&ck, "index", i);
    char p[512];
    mbn_ckpt_path(p, sizeof p, dir, i, (int64_t)i * 100);
    int rc = mbn_ckpt_save(p, &ck);
    snprintf(p, sizeof p, "%s/latest.ckpt", dir);
    if (rc == MBN_OK) rc = mbn_ckpt_save(p, &ck);
    if (rc == MBN_OK) rc = mbn_ckpt_rotate(dir, 3);
    mbn_ckpt_free(&ck);
    return rc;
}

/* Loads path and checks it equals sample i where i is its "index" meta; returns i or -1. */
static int verify(const char *path) {
    MbnCheckpoint ck, want;
    if (mbn_ckpt_load(path, &ck) != MBN_OK) {
        T_CHECK(0, "final-named file does not load: %s", mbn_last_error());
        return -1;
    }
    int64_t i = -1;
    T_CHECK(mbn_ckpt_get_int(&ck, "index", &i), "%s has no index", path);
    sample_checkpoint(&want, (uint64_t)i, SCALE);
    mbn_ckpt_set_int(&want, "index", i);
    const char *d = ckpt_diff(&want, &ck);
    T_CHECK(d == NULL, "%s: content of index %lld differs: %s", path, (long long)i, d);
    mbn_ckpt_free(&ck);
    mbn_ckpt_free(&want);
    return (int)i;
}

int main(void) {
    MbnRng rng;
    mbn_rng_seed(&rng, 424242);
    char dir[64];
    t_tempdir(dir, sizeof dir);
    double t0 = mbn_now();
    T_CHECK(save_index(dir, 0) == MBN_OK, "%s", mbn_last_error());
    double t_save = mbn_now() - t0;
    t_rmtree(dir);
    int trials = 24, saw_partial = 0, saw_complete = 0;
    for (int trial = 0; trial < trials; trial++) {
        t_tempdir(dir, sizeof dir);
        pid_t pid = fork();
        if (pid == 0) {
            for (int i = 0;; i++)
                if (save_index(dir, i) != MBN_OK) _exit(3);
        }
        /* Kill anywhere within the first ~5 save cycles. */
        double delay = mbn_rng_uniform(&rng) * 5 * t_save;
        struct timespec ts = {(time_t)delay, (long)((delay - (time_t)delay) * 1e9)};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        T_CHECK(WIFSIGNALED(status), "child exited by itself (status %d)", status);

        int newest = -1, n_final = 0;
        DIR *d = opendir(dir);
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            if (strstr(de->d_name, ".tmp.")) {
                saw_partial++;
                continue;
            }
            char p[512];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            int i = verify(p);
            if (strncmp(de->d_name, "mobilenetv1-", 12) == 0) {
                n_final++;
                if (i > newest) newest = i;
            }
        }
        closedir(d);
        T_CHECK(n_final <= 4, "rotation left %d files", n_final); /* 3 + one saved before rotate */
        char found[512];
        if (newest >= 0) {
            saw_complete++;
            T_CHECK(mbn_ckpt_find_latest(dir, found, sizeof found) == MBN_OK, "%s",
                    mbn_last_error());
            char want[512];
            mbn_ckpt_path(want, sizeof want, dir, newest, (int64_t)newest * 100);
            T_CHECK(strcmp(found, want) == 0, "find_latest gave %s, newest is %s", found, want);
        } else {
            T_CHECK(mbn_ckpt_find_latest(dir, found, sizeof found) == MBN_EFAIL, "found %s", found);
        }
        t_rmtree(dir);
    }
    printf("crash trials: %d, with a complete checkpoint: %d, temporary files left: %d\n", trials,
           saw_complete, saw_partial);
    T_CHECK(saw_complete > 0, "no trial got past the first save; timing is off");
    return t_summary("test_ckpt_crash");
}
