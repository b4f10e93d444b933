/* Progress lines (io/util/progress.h), stderr captured into a file: the rate and ETA never
 * count the first step (a one-step phase shows no rate, "ETA --:--"; the step after it shows a
 * rate); quiet prints nothing. No timing is asserted, only what is printed. (The first-run note
 * is the network's: tests/cli_first_run.sh.) */
#include <fcntl.h>
#include <unistd.h>

#include "io/util/progress.h"
#include "tests/support/testutil.h"

static char dir[64], capture[128];
static int saved_stderr = -1;

static void capture_begin(void) {
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    int fd = open(capture, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    T_CHECK(fd >= 0 && saved_stderr >= 0, "redirect stderr");
    dup2(fd, STDERR_FILENO);
    close(fd);
}

/* Restores stderr and returns what was written (malloc'ed, NUL-terminated). */
static char *capture_end(void) {
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    size_t n = 0;
    unsigned char *b = t_read_file(capture, &n);
    char *s = T_NEW(char, n + 1);
    if (b) memcpy(s, b, n);
    free(b);
    printf("--- captured:\n%s---\n", s);
    return s;
}

int main(void) {
    t_tempdir(dir, sizeof dir);
    snprintf(capture, sizeof capture, "%s/stderr.txt", dir);
    MbnProgress p;

    /* The one step is the first: no rate and no ETA from it. */
    capture_begin();
    mbn_progress_start(&p, "epoch 1/1", 1, false);
    mbn_progress_update(&p, 1, 32, "loss 1");
    mbn_progress_finish(&p);
    char *out = capture_end();
    T_CHECK(strstr(out, "step 1/1 loss 1 | - img/s") && strstr(out, "ETA --:--"),
            "first step counted in the rate: %s", out);

    /* Two steps: the second line has a rate (from step 2 alone). */
    capture_begin();
    mbn_progress_start(&p, "epoch 1/1", 2, false);
    mbn_progress_update(&p, 1, 32, "");
    mbn_progress_update(&p, 2, 64, "");
    mbn_progress_finish(&p);
    free(out);
    out = capture_end();
    T_CHECK(strstr(out, "step 2/2") && !strstr(out, "step 2/2  | - img/s") &&
                !strstr(out, "ETA --:--"),
            "no rate after the first step: %s", out);

    /* Quiet: nothing printed. */
    capture_begin();
    mbn_progress_start(&p, "eval", 3, true);
    mbn_progress_update(&p, 1, 10, "");
    mbn_progress_finish(&p);
    free(out);
    out = capture_end();
    T_CHECK(out[0] == 0, "quiet progress printed: %s", out);
    free(out);
    t_rmtree(dir);
    return t_summary("test_progress");
}
