/* Shared between tune/search.c (the variant search) and tune/search_clblast.c (CLBlast's GEMM
 * parameters): the tuner's state. Not a public interface. */
#ifndef MBN_TUNE_SEARCH_INTERNAL_H
#define MBN_TUNE_SEARCH_INTERNAL_H
#include <stdbool.h>
#include <stdint.h>

#include "model/net.h"
#include "tune/search.h"

/* A configuration: the row and parameter values of every op. */
typedef struct {
    const MbnVariant *row[MBN_OP_COUNT];
    int value[MBN_OP_COUNT][MBN_VARIANT_MAX_PARAMS];
} TunePlan;

/* A device opened with a configuration and a network on it. */
typedef struct {
    MbnDevice dev;
    MbnNet net;
    bool dev_open, net_open;
} TuneRig;

typedef struct {
    const MbnTuneConfig *cfg;
    MbnTuneReport *rep;
    MbnUse use; /* whose decisions this run makes */
    bool tuned_op[MBN_OP_COUNT];
    MbnTuneCache kept; /* an earlier run's decisions, for the ops this run does not decide */
    float *x;
    int32_t *labels;
    int n_classes;
    float *ref_logits, *out_logits, *ref_grads, *out_grads, ref_loss;
    double tol[2 + 160]; /* per output tensor: logits, loss, each parameter's gradient */
    int n_tol;
    double worst_err, worst_tol; /* of the last check: the tensor nearest its tolerance */
    char worst_name[96];
    double t0, deadline, open_s;
    double variant_deadline; /* the variant search leaves the rest to CLBlast where it matters */
    MbnTuneStatus st;
    char trying[160];
    TunePlan default_plan, best_plan;
    TuneRig *best;
    /* CLBlast parameter sets applied to every rig (and, CLBlast being process-wide, to the
     * device from the moment they are set). */
    int n_clblast;
    MbnClblastParams clblast[MBN_TUNE_MAX_CLBLAST];
    bool clblast_changed;
} Tuner;

void mbn_tune_plan_set_row(TunePlan *p, const MbnDeviceProfile *profile, MbnOp op,
                           const MbnVariant *row);
/* Tries one configuration against the best (checked, raced); no-op when out of budget. */
int mbn_tune_try(Tuner *t, const TunePlan *cand, const char *what);
/* Checks a configuration (with the current CLBlast sets) against the reference outputs on a
 * fresh network; when it disagrees, the CLBlast decisions of this run are dropped. */
int mbn_tune_check_plan(Tuner *t, const TunePlan *p);
/* The current CLBlast set for a kernel family (replaced or added). */
void mbn_tune_put_clblast(Tuner *t, const MbnClblastParams *s);
/* The CLBlast stage (tune/search_clblast.c). */
int mbn_tune_search_clblast(Tuner *t);

#endif
