/* Bitwise determinism of the whole network (ops.h: no atomics, reductions in a fixed order
 * that depends only on shapes):
 *   - two inference forwards give identical logits; two training forwards give identical
 *     logits; two backward passes give identical gradients (every trainable tensor);
 *   - two networks built from the same seed and trained two steps on the same batches end with
 *     identical parameters, BN running statistics, momentum, gradients and losses;
 *   - a second process (this binary re-executed with --child FILE) computes the same logits
 *     (inference and training mode) and the same parameters after a step, bit for bit.
 * Comparisons are memcmp (tsame_bits), no tolerance. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "tests/support/devutil.h"
#include "tests/support/netutil.h"
#include "tests/support/testutil.h"

#define ALPHA 0.25f
#define RES 64
#define BATCH 4
#define K 10

typedef struct {
    float *x[2];
    int32_t labels[2][BATCH];
} Data;

static void make_data(Data *d) {
    MbnRng r;
    mbn_rng_seed(&r, 4242);
    size_t n = (size_t)BATCH * RES * RES * 3;
    for (int b = 0; b < 2; b++) {
        d->x[b] = T_NEW(float, n);
        tfill_normal(&r, d->x[b], NULL, n, 0.0, 1.0);
        for (int i = 0; i < BATCH; i++)
            d->labels[b][i] = t_rand_int(&r, 0, K - 1);
    }
}

static void new_net(MbnDevice *dev, MbnNet *net) {
    MbnArch arch;
    T_MBN(mbn_arch_build(&arch, ALPHA, RES, K));
    T_MBN(mbn_net_create(net, dev, &arch, BATCH, true));
    T_MBN(mbn_net_init(net, 99));
}

static const MbnSgdConfig SGD = {0.1f, 0.9f, 1e-4f, false};

/* The numbers the two processes compare: eval logits, train logits, params after one step. */
static float *fingerprint(MbnDevice *dev, const Data *d, size_t *n) {
    MbnNet net;
    new_net(dev, &net);
    size_t np = net.param_floats;
    *n = 2 * BATCH * K + np;
    float *out = T_NEW(float, *n);
    T_MBN(mbn_net_set_input(&net, d->x[0], BATCH));
    T_MBN(mbn_net_forward(&net, BATCH, false));
    T_MBN(mbn_net_read_logits(&net, BATCH, out));
    T_MBN(mbn_net_forward(&net, BATCH, true));
    T_MBN(mbn_net_read_logits(&net, BATCH, out + BATCH * K));
    T_MBN(mbn_net_backward(&net, d->labels[0], BATCH, 0.1f));
    T_MBN(mbn_net_sgd_step(&net, &SGD));
    T_MBN(mbn_net_read_buffer(&net, net.params, out + 2 * BATCH * K));
    mbn_net_destroy(&net);
    return out;
}

static int child(const char *path) {
    MbnDevice dev;
    Data d;
    make_data(&d);
    tdev_open(&dev);
    size_t n;
    float *fp = fingerprint(&dev, &d, &n);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(fp, sizeof *fp, n, f) != n || fclose(f)) return 1;
    mbn_device_close(&dev);
    return 0;
}

typedef struct {
    float *params, *momentum, *grads, logits[BATCH * K], loss[2];
} Snapshot;

static void train_two(MbnDevice *dev, const Data *d, Snapshot *s) {
    MbnNet net;
    new_net(dev, &net);
    for (int step = 0; step < 2; step++) {
        T_MBN(mbn_net_set_input(&net, d->x[step], BATCH));
        T_MBN(mbn_net_forward(&net, BATCH, true));
        T_MBN(mbn_net_backward(&net, d->labels[step], BATCH, 0.1f));
        T_MBN(mbn_net_read_loss(&net, &s->loss[step]));
        T_MBN(mbn_net_sgd_step(&net, &SGD));
    }
    T_MBN(mbn_net_forward(&net, BATCH, false));
    T_MBN(mbn_net_read_logits(&net, BATCH, s->logits));
    s->params = tnet_read_flat(&net, net.params);
    s->momentum = tnet_read_flat(&net, net.momentum);
    s->grads = tnet_read_flat(&net, net.grads);
    mbn_net_destroy(&net);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--child") == 0) return child(argv[2]);
    Data d;
    make_data(&d);

    /* the second process first, before this one opens OpenCL (no fork with a live context) */
    char path[] = "/tmp/mbn_determinism_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    close(fd);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], "--child", path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child process failed (status %d)",
            status);

    MbnDevice dev;
    tdev_open(&dev);
    MbnNet net;
    new_net(&dev, &net);
    size_t np = net.param_floats;

    /* two forwards, two backwards on one network */
    float a[BATCH * K], b[BATCH * K];
    T_MBN(mbn_net_set_input(&net, d.x[0], BATCH));
    T_MBN(mbn_net_forward(&net, BATCH, false));
    T_MBN(mbn_net_read_logits(&net, BATCH, a));
    T_MBN(mbn_net_forward(&net, BATCH, false));
    T_MBN(mbn_net_read_logits(&net, BATCH, b));
    T_OK(tsame_bits("inference logits, two forwards", a, b, BATCH * K));
    T_MBN(mbn_net_forward(&net, BATCH, true));
    T_MBN(mbn_net_read_logits(&net, BATCH, a));
    T_MBN(mbn_net_backward(&net, d.labels[0], BATCH, 0.1f));
    float *g1 = tnet_read_flat(&net, net.grads);
    float l1, l2;
    T_MBN(mbn_net_read_loss(&net, &l1));
    T_MBN(mbn_net_forward(&net, BATCH, true));
    T_MBN(mbn_net_read_logits(&net, BATCH, b));
    T_MBN(mbn_net_backward(&net, d.labels[0], BATCH, 0.1f));
    float *g2 = tnet_read_flat(&net, net.grads);
    T_MBN(mbn_net_read_loss(&net, &l2));
    T_OK(tsame_bits("training logits, two forwards", a, b, BATCH * K));
    T_OK(tsame_bits("gradients, two backwards", g1, g2, np));
    T_OK(tsame_bits("loss, two backwards", &l1, &l2, 1));
    mbn_net_destroy(&net);
    free(g1), free(g2);

    /* two networks, two training steps each */
    Snapshot s1, s2;
    train_two(&dev, &d, &s1);
    train_two(&dev, &d, &s2);
    T_OK(tsame_bits("params + running stats after 2 steps", s1.params, s2.params, np));
    T_OK(tsame_bits("momentum after 2 steps", s1.momentum, s2.momentum, np));
    T_OK(tsame_bits("gradients of step 2", s1.grads, s2.grads, np));
    T_OK(tsame_bits("losses of both steps", s1.loss, s2.loss, 2));
    T_OK(tsame_bits("inference logits after training", s1.logits, s2.logits, BATCH * K));
    /* and training did something */
    float *init = NULL;
    {
        MbnNet n0;
        new_net(&dev, &n0);
        init = tnet_read_flat(&n0, n0.params);
        mbn_net_destroy(&n0);
    }
    T_CHECK(memcmp(init, s1.params, np * sizeof(float)) != 0,
            "training left the weights as they were");

    /* the other process */
    size_t n;
    float *mine = fingerprint(&dev, &d, &n);
    float *theirs = T_NEW(float, n);
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(theirs, sizeof *theirs, n, f) : 0;
    if (f) fclose(f);
    unlink(path);
    T_CHECK(got == n, "child wrote %zu floats, want %zu", got, n);
    T_OK(tsame_bits("2 processes: inference logits", mine, theirs, BATCH * K));
    T_OK(tsame_bits("2 processes: training logits", mine + BATCH * K, theirs + BATCH * K,
                    BATCH * K));
    T_OK(tsame_bits("2 processes: params after a step", mine + 2 * BATCH * K,
                    theirs + 2 * BATCH * K, n - 2 * BATCH * K));
    free(mine), free(theirs), free(init);
    free(s1.params), free(s1.momentum), free(s1.grads), free(s2.params), free(s2.momentum),
        free(s2.grads);
    free(d.x[0]), free(d.x[1]);
    mbn_device_close(&dev);
    return t_summary("test_net_determinism");
}
