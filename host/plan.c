#include "host/plan.h"

#include <string.h>

int mbn_plan_cpu_vec(const MbnDeviceProfile *p) {
    int w = p->vector_floats;
    return w >= 16 ? 16 : w >= 8 ? 8 : 4;
}

int mbn_plan_gemm_rows(const MbnDeviceProfile *p) {
    /* 2 TM accumulators, 2 B vectors and the broadcast A value in registers; unknown register
     * counts (GPUs, whose cpu kernels only need to build) as AVX-512's. */
    int regs = p->vector_registers > 0 ? p->vector_registers : 32;
    int rows = (regs - 3) / 2;
    return rows >= 7 ? 7 : rows < 1 ? 1 : rows;
}

static bool is_cpu_gemm(const MbnVariant *row) {
    return row->family == MBN_FAMILY_CPU &&
           (row->op == MBN_OP_GEMM || row->op == MBN_OP_GEMM_WGRAD);
}

/* The device's value of a parameter the plan sizes, or -1 to keep the table's default. */
static int planned(const MbnDeviceProfile *p, const MbnVariant *row, const char *name) {
    /* the fp16 path's half arithmetic wherever the device has it (cl/half_gpu.cl) */
    if (strcmp(name, "HALF_ARITH") == 0) return p->fp16 ? 1 : -1;
    if (row->family != MBN_FAMILY_CPU) return -1;
    int vec = mbn_plan_cpu_vec(p);
    if (strcmp(name, "VEC") == 0) return vec;
    if (is_cpu_gemm(row) && strcmp(name, "TM") == 0) return mbn_plan_gemm_rows(p);
    if (is_cpu_gemm(row) && strcmp(name, "TN") == 0) return 2 * vec;
    if (is_cpu_gemm(row) && strcmp(name, "KC") == 0) return 16384 / (int)sizeof(float) / (2 * vec);
    return -1;
}

/* Whether the device can run value v of the parameter: a cpu vector never wider than its
 * own, nor narrower than half of it (the two widths the cpu kernels are built for). */
static bool runnable(const MbnDeviceProfile *p, const MbnVariant *row, const char *name, int v) {
    /* half arithmetic, and fp16 chosen by --precision auto, only with cl_khr_fp16 */
    if (strcmp(name, "HALF_ARITH") == 0 || strcmp(name, "AUTO_FP16") == 0) return v == 0 || p->fp16;
    if (row->family == MBN_FAMILY_CPU && strcmp(name, "VEC") == 0) {
        int vec = mbn_plan_cpu_vec(p);
        return v == vec || (vec >= 8 && v == vec / 2);
    }
    return true;
}

/* gpu rows: shrink parameters, the last ones first, until the row's limits hold. */
static void fit(const MbnDeviceProfile *p, const MbnVariant *row, int *v) {
    if (!row->check) return;
    char why[160];
    for (int i = row->n_params - 1; i >= 0; i--) {
        const MbnVariantParam *vp = &row->params[i];
        while (row->check(v, p, why, sizeof why)) {
            int smaller = 0;
            for (int c = 0; c < mbn_vparam_candidates(vp); c++)
                if (vp->candidates[c] < v[i] && vp->candidates[c] > smaller)
                    smaller = vp->candidates[c];
            if (!smaller) break;
            v[i] = smaller;
        }
    }
}

void mbn_plan_row(const MbnDeviceProfile *p, const MbnVariant *row, int *values) {
    for (int i = 0; i < row->n_params; i++) {
        int v = planned(p, row, row->params[i].name);
        values[i] = v > 0 ? v : row->params[i].value;
    }
    fit(p, row, values);
}

int mbn_plan_candidates(const MbnDeviceProfile *p, const MbnVariant *row, int param, int *out,
                        int max) {
    const MbnVariantParam *vp = &row->params[param];
    int values[MBN_VARIANT_MAX_PARAMS];
    mbn_plan_row(p, row, values);
    int n = 0, nc = mbn_vparam_candidates(vp);
    if (nc == 0) return 0;
    bool have_default = false;
    for (int c = 0; c < nc; c++) {
        int v = vp->candidates[c];
        if (!runnable(p, row, vp->name, v)) continue;
        have_default = have_default || v == values[param];
        if (n < max) out[n] = v;
        n++;
    }
    if (!have_default) {
        if (n < max) out[n] = values[param];
        n++;
    }
    return n;
}
