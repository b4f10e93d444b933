/* Learning-rate schedules with MindSpore's exact per-step semantics (SPEC §2).
 *   cosine:    lr[i] = min_lr + 0.5 (max_lr - min_lr)(1 + cos(pi e / decay_epochs)),
 *              e = min(floor(i / steps_per_epoch), decay_epochs): constant within an epoch
 *              (nn.cosine_decay_lr).
 *   piecewise: milestones m1 < m2 < ... (steps) and rates r1, r2, ...: lr = r_k for steps in
 *              [m_{k-1}, m_k) (nn.piecewise_constant_lr); past the last milestone the last rate
 *              stays (MindSpore's list simply ends there).
 *   warmup:    over the first W epochs (W * steps_per_epoch steps) lr rises linearly,
 *              lr[i] = max_lr (i + 1) / warmup_steps; then the schedule runs from its own step 0
 *              (so a cosine decays over decay_epochs after the warmup, as mindcv does). */
#ifndef MBN_MODEL_SCHEDULE_H
#define MBN_MODEL_SCHEDULE_H
#include <stdint.h>

#define MBN_MAX_MILESTONES 64

typedef enum { MBN_LR_COSINE, MBN_LR_PIECEWISE } MbnLrKind;

typedef struct {
    MbnLrKind kind;
    double max_lr, min_lr;
    int decay_epochs;
    int n_milestones;
    int64_t milestones[MBN_MAX_MILESTONES];
    double rates[MBN_MAX_MILESTONES];
    int warmup_epochs;
    int64_t steps_per_epoch;
} MbnLrSchedule;

double mbn_lr_at(const MbnLrSchedule *s, int64_t step);

/* Parses "--milestones 100,200" and "--learning-rates 0.1,0.01,..." into the schedule;
 * MBN_EUSAGE naming the flag when a list is malformed, not increasing or not matched. */
int mbn_lr_parse_piecewise(MbnLrSchedule *s, const char *milestones, const char *rates);
/* Checks the whole schedule (lr values finite and non-negative, decay_epochs >= 1, ...). */
int mbn_lr_validate(const MbnLrSchedule *s);

#endif
