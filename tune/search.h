/* `mbn tune`: searches the kernel-variant rows and parameters (host/variants.h) and CLBlast's
 * GEMM parameters for one device and one workload (the network's real shapes), within a time
 * budget, and stores the winners in the device's tuning cache (tune/cache.h).
 *
 * Search: the defaults are the starting point and the correctness reference. Rows first (for
 * every op, GEMMs first, each other row that suits the device), then each candidate value of
 * each parameter of the row an op now has, one at a time (coordinate descent, one pass). A
 * candidate first runs one forward (training: forward + backward) from the same weights and
 * images as the reference; it is rejected unless every output tensor (logits; in training also
 * the loss and every gradient tensor) agrees with the reference within its tolerance: 2e-3 of
 * the tensor's largest magnitude, or 20x the tensor's measured sensitivity to a rounding-size
 * perturbation of the images where that is larger (ill-conditioned tensors of a small network
 * at random init; see reference() in tune.c). A correct candidate is then timed against the
 * current best, samples of steps alternating between the two (both networks stay allocated),
 * and wins when its fastest sample beats the best's by more than 2%, twice in a row. CLBlast
 * parameters are searched last and only when CLBlast GEMMs take a real share of the step
 * (tune/search_clblast.c). Finally the default and the winner are timed against each other once
 * more, alternating; a winner not faster there by more than the noise of those timings is
 * dropped for the default. The defaults are what the device runs without a tuning cache: the
 * plan and the shipped database (tune/open.h). When nothing beats them the cache is left as
 * it was.
 *
 * Inference tuning decides the ops inference runs (depthwise forward, GEMM) for inference
 * networks; training tuning decides every op for training networks (tune/cache.h keeps
 * the two sets; a run replaces its own and keeps the other). */
#ifndef MBN_TUNE_SEARCH_H
#define MBN_TUNE_SEARCH_H
#include <stdbool.h>

#include "host/device.h"
#include "tune/cache.h"
#include "tune/open.h"
#include "model/arch.h"

typedef struct {
    int done, planned; /* candidates tried so far, and the estimate of the whole pass */
    double elapsed_s, budget_s;
    double default_ms, best_ms; /* per step, from the latest comparison */
    const char *trying;         /* the candidate being tried, e.g. "bn_fwd.cpu_vec CHUNKS=64" */
    const char *stage;          /* "variants", "clblast", "final" */
} MbnTuneStatus;

typedef struct {
    const MbnDeviceInfo *info;
    MbnArch arch;
    bool train;
    int batch;
    double budget_s;
    /* Called after every candidate (may be NULL). */
    void (*progress)(void *ctx, const MbnTuneStatus *st);
    void *progress_ctx;
    /* Log lines (one per candidate with its verdict) go to stderr unless quiet. */
    bool quiet;
} MbnTuneConfig;

typedef struct {
    MbnTuneCache cache;          /* the decisions (saved when `saved`) */
    bool saved;                  /* false: nothing beat the defaults; the cache is unchanged */
    double default_ms, tuned_ms; /* per step, final interleaved comparison (fastest steps) */
    int tried, rejected_wrong, failed;
    bool budget_ran_out;
    bool clblast_searched;
    double clblast_share; /* share of the step spent in CLBlast GEMMs (0..1) */
    double noise;         /* relative spread of the final comparison's default timings */
} MbnTuneReport;

int mbn_tune_run(const MbnTuneConfig *cfg, MbnTuneReport *rep);

/* The output agreement test used for every candidate: max |a - ref| <= tol * max |ref| (plus a
 * tiny absolute floor), all finite. Exposed for tests. */
bool mbn_tune_outputs_agree(const float *a, const float *ref, size_t n, double tol);
/* max |a - ref| / max |ref| (0 when equal; infinite when anything is not finite). */
double mbn_tune_output_error(const float *a, const float *ref, size_t n);

#endif
