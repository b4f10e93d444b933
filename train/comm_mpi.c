#include "train/comm_mpi.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static const char *env_nonempty(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

bool mbn_mpi_launched(void) {
    const char *size = env_nonempty("OMPI_COMM_WORLD_SIZE");
    if (!size) size = env_nonempty("PMI_SIZE");
    if (size) return atoi(size) >= 1;
    return env_nonempty("PMIX_RANK") != NULL;
}

int mbn_mpi_env_rank(void) {
    const char *names[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = env_nonempty(names[i]);
        if (v) return atoi(v);
    }
    return 0;
}

#ifdef MBN_WITH_MPI
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "base/clock.h"

#define HB_PERIOD 0.2 /* seconds between a rank's heartbeats */
#define HB_SILENT 2.0 /* a rank not heard from for this long may be gone */
#define HB_TAG 7
#define X_TAG 1
#define HOST_LEN 64

typedef struct {
    double heard; /* mbn_now() of its last heartbeat (of our start before the first) */
    int64_t word; /* its last heartbeat: calls completed * 2 + 1 while waiting in one */
} Peer;

/* A reduce-scatter hop's data, received into tmp and added to this rank's values. */
typedef struct {
    size_t lo, hi;
    int hop;
    float *tmp;
} Arrival;

typedef struct {
    MPI_Comm xcomm;  /* exchanges, broadcasts, barriers */
    MPI_Comm hbcomm; /* heartbeats */
    bool comms;      /* the two above exist */
    float *tmp;      /* world segments: the reduce-scatter arrivals of one step */
    size_t tmp_floats;
    MPI_Request *reqs; /* 4 * world: a step's sends and receives */
    Arrival *arrivals; /* world */
    size_t *plo, *phi; /* world: the part of a range inside each chunk */
    int *nseg;
    char (*hosts)[HOST_LEN];
    int64_t calls;     /* exchanges, broadcasts and barriers completed (main thread) */
    atomic_llong word; /* calls * 2 + 1 while in one: what the heartbeats tell */
    bool hb_running;
    atomic_int hb_stop;
    pthread_t hb_thread;
    pthread_mutex_t mu; /* peers */
    Peer *peers;
    int64_t *hb_out; /* world: one heartbeat in flight per rank */
    MPI_Request *hb_sreq;
} MpiImpl;

static MpiImpl impl;

bool mbn_mpi_available(void) {
    return true;
}

static void sleep_seconds(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Sends this rank's word to every other rank every HB_PERIOD and records theirs. A heartbeat
 * still in flight to a rank (it is not receiving: gone, or its link is) is not followed by
 * another, so nothing piles up. */
static void *heartbeat_main(void *arg) {
    MbnComm *c = arg;
    MpiImpl *m = c->impl;
    int64_t in = 0;
    MPI_Request rreq;
    MPI_Irecv(&in, 1, MPI_INT64_T, MPI_ANY_SOURCE, HB_TAG, m->hbcomm, &rreq);
    double next = 0;
    while (!atomic_load(&m->hb_stop)) {
        int got = 0;
        MPI_Status st;
        MPI_Test(&rreq, &got, &st);
        while (got) {
            double t = mbn_now();
            pthread_mutex_lock(&m->mu);
            m->peers[st.MPI_SOURCE].heard = t;
            m->peers[st.MPI_SOURCE].word = in;
            pthread_mutex_unlock(&m->mu);
            MPI_Irecv(&in, 1, MPI_INT64_T, MPI_ANY_SOURCE, HB_TAG, m->hbcomm, &rreq);
            MPI_Test(&rreq, &got, &st);
        }
        double t = mbn_now();
        if (t >= next) {
            next = t + HB_PERIOD;
            int64_t w = atomic_load(&m->word);
            for (int p = 0; p < c->world; p++) {
                int idle = 1;
                if (p == c->rank) continue;
                if (m->hb_sreq[p] != MPI_REQUEST_NULL)
                    MPI_Test(&m->hb_sreq[p], &idle, MPI_STATUS_IGNORE);
                if (!idle) continue;
                m->hb_out[p] = w;
                MPI_Isend(&m->hb_out[p], 1, MPI_INT64_T, p, HB_TAG, m->hbcomm, &m->hb_sreq[p]);
            }
        }
        sleep_seconds(0.005);
    }
    MPI_Cancel(&rreq);
    MPI_Wait(&rreq, MPI_STATUS_IGNORE);
    return NULL;
}

/* True while the wait is explained: every other rank is heard from and one of them is busy
 * outside the communication short of the call this rank waits in (evaluating, compiling,
 * checkpointing). */
static bool others_busy(MbnComm *c, double t) {
    MpiImpl *m = c->impl;
    if (!m->hb_running) return false;
    bool busy = false, heard = true;
    pthread_mutex_lock(&m->mu);
    for (int p = 0; p < c->world && heard; p++) {
        if (p == c->rank) continue;
        const Peer *q = &m->peers[p];
        heard = t - q->heard <= HB_SILENT;
        if ((q->word & 1) == 0 && q->word / 2 <= m->calls) busy = true;
    }
    pthread_mutex_unlock(&m->mu);
    return heard && busy;
}

static void *abort_watchdog(void *arg) {
    (void)arg;
    sleep_seconds(10); /* MPI_Abort waits for its launcher; a lost one must not keep us */
    _exit(1);
    return NULL;
}

/* The timeout: one line, then the whole job ends. No return: requests are still posted on the
 * caller's buffers. */
static _Noreturn void give_up(MbnComm *c, const char *what, double waited) {
    MpiImpl *m = c->impl;
    char quiet[160] = "";
    if (m->hb_running) {
        double t = mbn_now(), age = -1;
        int who = -1;
        pthread_mutex_lock(&m->mu);
        for (int p = 0; p < c->world; p++)
            if (p != c->rank && t - m->peers[p].heard > age) age = t - m->peers[p].heard, who = p;
        pthread_mutex_unlock(&m->mu);
        if (who >= 0)
            snprintf(quiet, sizeof quiet, "; rank %d (host %s) was last heard from %.1f s ago", who,
                     m->hosts[who], age);
    }
    fprintf(stderr,
            "mbn: error: rank %d of %d (host %s) waited %.1f s in %s without progress "
            "(--comm-timeout %g)%s; ending the job\n",
            c->rank, c->world, m->hosts[c->rank], waited, what, c->timeout, quiet);
    fflush(stderr);
    pthread_t w;
    pthread_create(&w, NULL, abort_watchdog, NULL);
    MPI_Abort(MPI_COMM_WORLD, 1);
    _exit(1);
}

/* Waits for n requests, polling: for the first 20 us in a tight loop (a shared-memory hop takes
 * microseconds), then with naps of a sixteenth of the time waited so far (5 us to 1 ms), which
 * leave the core to the device while costing at most about a sixteenth in latency. */
static void wait_all(MbnComm *c, int n, MPI_Request *reqs, const char *what) {
    double start = mbn_now(), since = start;
    for (;;) {
        int done = 0;
        MPI_Testall(n, reqs, &done, MPI_STATUSES_IGNORE);
        if (done) return;
        if (c->waiting) c->waiting(c->waiting_ctx);
        double t = mbn_now();
        if (others_busy(c, t)) since = t;
        if (c->timeout > 0 && t - since >= c->timeout) give_up(c, what, t - since);
        if (t - start > 20e-6) {
            double nap = (t - start) / 16;
            sleep_seconds(nap < 5e-6 ? 5e-6 : nap > 1e-3 ? 1e-3 : nap);
        }
    }
}

static void call_begins(MpiImpl *m) {
    atomic_store(&m->word, (long long)(m->calls * 2 + 1));
}

static void call_ends(MpiImpl *m) {
    m->calls++;
    atomic_store(&m->word, (long long)(m->calls * 2));
}

/* Segment length of a range's parts: long enough that a message's fixed cost is small, short
 * enough that a part several hops long is pipelined (a step moves one segment per hop). */
static size_t segment_floats(size_t range, int n) {
    size_t s = range / (size_t)(4 * n);
    return s < 16384 ? 16384 : s > 65536 ? 65536 : s;
}

/* The schedule (train/comm_mpi.h): segment s of the part in chunk cc makes hop H (1 ..
 * 2n-2) at step s + H - 1, from rank cc + H - 1 to rank cc + H (mod n). Hops 1 .. n-1 add up
 * (the receiver adds its own values to the partial sum: cc first, then cc+1, ...), the last
 * rank of them scales; hops n .. 2n-2 carry the mean to the others. Every rank enumerates a
 * step's hops in the same order, so the messages of one link match in order. */
static int mpi_allreduce_mean(MbnComm *c, float *const *bufs, size_t count, size_t lo, size_t hi) {
    MpiImpl *m = c->impl;
    int n = c->world, r = c->rank;
    float *buf = bufs[0];
    size_t seg = segment_floats(hi > lo ? hi - lo : 0, n);
    int last = -1;
    for (int cc = 0; cc < n; cc++) {
        size_t a, b;
        mbn_comm_chunk(count, n, cc, &a, &b);
        a = a > lo ? a : lo;
        b = b < hi ? b : hi;
        m->plo[cc] = a;
        m->phi[cc] = b > a ? b : a;
        m->nseg[cc] = (int)((m->phi[cc] - a + seg - 1) / seg);
        if (m->nseg[cc] - 1 > last) last = m->nseg[cc] - 1;
    }
    if (n > 1 && last >= 0 && m->tmp_floats < (size_t)n * seg) {
        free(m->tmp);
        m->tmp = malloc((size_t)n * seg * sizeof(float));
        m->tmp_floats = m->tmp ? (size_t)n * seg : 0;
        if (!m->tmp) return mbn_fail(MBN_EFAIL, "out of host memory for the gradient exchange");
    }
    call_begins(m);
    float inv = 1.0f / (float)n;
    int steps = n > 1 && last >= 0 ? last + 2 * n - 2 : 0; /* the mean of one rank is its own */
    for (int t = 0; t < steps; t++) {
        int nr = 0, na = 0;
        for (int cc = 0; cc < n; cc++)
            for (int hop = 1; hop <= 2 * n - 2; hop++) {
                int s = t - hop + 1, from = (cc + hop - 1) % n, to = (cc + hop) % n;
                if (s < 0 || s >= m->nseg[cc] || (from != r && to != r)) continue;
                size_t a = m->plo[cc] + (size_t)s * seg;
                size_t b = a + seg < m->phi[cc] ? a + seg : m->phi[cc];
                int len = (int)(b - a);
                if (from == r) {
                    MPI_Isend(buf + a, len, MPI_FLOAT, to, X_TAG, m->xcomm, &m->reqs[nr++]);
                } else if (hop <= n - 1) {
                    Arrival *x = &m->arrivals[na];
                    *x = (Arrival){a, b, hop, m->tmp + (size_t)na * seg};
                    na++;
                    MPI_Irecv(x->tmp, len, MPI_FLOAT, from, X_TAG, m->xcomm, &m->reqs[nr++]);
                } else {
                    MPI_Irecv(buf + a, len, MPI_FLOAT, from, X_TAG, m->xcomm, &m->reqs[nr++]);
                }
            }
        wait_all(c, nr, m->reqs, "a gradient exchange");
        for (int k = 0; k < na; k++) {
            const Arrival *x = &m->arrivals[k];
            for (size_t i = x->lo; i < x->hi; i++)
                buf[i] = x->tmp[i - x->lo] + buf[i];
            if (x->hop == n - 1)
                for (size_t i = x->lo; i < x->hi; i++)
                    buf[i] *= inv;
        }
    }
    call_ends(m);
    return MBN_OK;
}

static int mpi_broadcast(MbnComm *c, void *buf, size_t bytes) {
    MpiImpl *m = c->impl;
    const size_t piece = (size_t)1 << 30;
    call_begins(m);
    for (size_t off = 0; off < bytes; off += piece) {
        size_t n = bytes - off < piece ? bytes - off : piece;
        MPI_Request q;
        MPI_Ibcast((char *)buf + off, (int)n, MPI_BYTE, 0, m->xcomm, &q);
        wait_all(c, 1, &q, "the broadcast of rank 0's starting point");
    }
    call_ends(m);
    return MBN_OK;
}

static int mpi_barrier(MbnComm *c) {
    MpiImpl *m = c->impl;
    call_begins(m);
    MPI_Request q;
    MPI_Ibarrier(m->xcomm, &q);
    wait_all(c, 1, &q, "a barrier");
    call_ends(m);
    return MBN_OK;
}

static int alloc_impl(MpiImpl *m, int n) {
    m->reqs = malloc((size_t)(4 * n) * sizeof *m->reqs);
    m->arrivals = malloc((size_t)n * sizeof *m->arrivals);
    m->plo = malloc((size_t)n * sizeof *m->plo);
    m->phi = malloc((size_t)n * sizeof *m->phi);
    m->nseg = malloc((size_t)n * sizeof *m->nseg);
    m->hosts = calloc((size_t)n, sizeof *m->hosts);
    m->peers = calloc((size_t)n, sizeof *m->peers);
    m->hb_out = calloc((size_t)n, sizeof *m->hb_out);
    m->hb_sreq = malloc((size_t)n * sizeof *m->hb_sreq);
    if (!m->reqs || !m->arrivals || !m->plo || !m->phi || !m->nseg || !m->hosts || !m->peers ||
        !m->hb_out || !m->hb_sreq)
        return mbn_fail(MBN_EFAIL, "out of host memory");
    for (int p = 0; p < n; p++)
        m->hb_sreq[p] = MPI_REQUEST_NULL;
    return MBN_OK;
}

static void free_impl(MpiImpl *m) {
    free(m->tmp);
    free(m->reqs);
    free(m->arrivals);
    free(m->plo);
    free(m->phi);
    free(m->nseg);
    free(m->hosts);
    free(m->peers);
    free(m->hb_out);
    free(m->hb_sreq);
    memset(m, 0, sizeof *m);
}

int mbn_comm_mpi_init(MbnComm *c, int *local_rank, int *local_size) {
    int provided = 0, inited = 0;
    MPI_Initialized(&inited);
    /* The heartbeat thread calls MPI beside the main thread (the loader's threads never do). */
    if (!inited && MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS)
        return mbn_fail(MBN_EFAIL, "MPI_Init failed");
    if (inited) MPI_Query_thread(&provided);
    memset(c, 0, sizeof *c);
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->world);
    c->n_local = 1;
    c->allreduce_mean = mpi_allreduce_mean;
    c->broadcast = mpi_broadcast;
    c->barrier = mpi_barrier;
    c->name = "MPI";
    c->impl = &impl;
    MpiImpl *m = &impl;
    memset(m, 0, sizeof *m);
    MBN_TRY(alloc_impl(m, c->world));
    MPI_Comm_dup(MPI_COMM_WORLD, &m->xcomm);
    MPI_Comm_dup(MPI_COMM_WORLD, &m->hbcomm);
    m->comms = true;
    char host[HOST_LEN] = "";
    if (gethostname(host, sizeof host - 1) != 0) snprintf(host, sizeof host, "?");
    MPI_Allgather(host, HOST_LEN, MPI_CHAR, m->hosts, HOST_LEN, MPI_CHAR, MPI_COMM_WORLD);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, c->rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, local_rank);
    MPI_Comm_size(node, local_size);
    MPI_Comm_free(&node);
#ifdef __linux__
    /* Naps of microseconds (wait_all) would otherwise last the default 50 us slack longer. */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
#endif
    /* Without MPI_THREAD_MULTIPLE there are no heartbeats: the timeout then counts every wait. */
    if (c->world > 1 && provided >= MPI_THREAD_MULTIPLE) {
        double t = mbn_now();
        for (int p = 0; p < c->world; p++)
            m->peers[p].heard = t;
        pthread_mutex_init(&m->mu, NULL);
        atomic_store(&m->hb_stop, 0);
        m->hb_running = pthread_create(&m->hb_thread, NULL, heartbeat_main, c) == 0;
        if (!m->hb_running) pthread_mutex_destroy(&m->mu);
    }
    return MBN_OK;
}

void mbn_comm_mpi_finalize(MbnComm *c) {
    MpiImpl *m = &impl;
    if (m->hb_running) {
        atomic_store(&m->hb_stop, 1);
        pthread_join(m->hb_thread, NULL);
        pthread_mutex_destroy(&m->mu);
        m->hb_running = false;
    }
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) {
        /* A last heartbeat to a rank that stopped listening completes inside MPI_Finalize. */
        for (int p = 0; m->hb_sreq && p < c->world; p++)
            if (m->hb_sreq[p] != MPI_REQUEST_NULL) MPI_Request_free(&m->hb_sreq[p]);
        if (m->comms) {
            MPI_Comm_free(&m->xcomm);
            MPI_Comm_free(&m->hbcomm);
        }
        MPI_Finalize();
    }
    free_impl(m);
}

void mbn_comm_mpi_abort(int status) {
    MPI_Abort(MPI_COMM_WORLD, status);
}

#else /* built without MPI */

bool mbn_mpi_available(void) {
    return false;
}

int mbn_comm_mpi_init(MbnComm *c, int *local_rank, int *local_size) {
    (void)c;
    *local_rank = 0;
    *local_size = 1;
    return mbn_fail(MBN_EFAIL, "this mbn was built without MPI (install libopenmpi-dev and "
                               "rebuild: cmake finds it)");
}

void mbn_comm_mpi_finalize(MbnComm *c) {
    (void)c;
}

void mbn_comm_mpi_abort(int status) {
    exit(status);
}
#endif
