/* The tuning database (tune/database.h), no OpenCL needed: the shipped one parses and names
 * only rows and parameters this build has; entries match by level and the most specific one
 * decides each op (device name > instruction set > device type > vendor/platform, ties to the
 * first listed), CLBlast kernels likewise; an entry `mbn tune --export` writes reads back as
 * the same decisions; broken files are refused naming the line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "host/device.h"
#include "tests/support/testutil.h"
#include "tune/database.h"

static MbnDeviceInfo device(const char *name, const char *vendor, cl_device_type type,
                            const char *isa) {
    MbnDeviceInfo d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.vendor, sizeof d.vendor, "%s", vendor);
    snprintf(d.platform_name, sizeof d.platform_name, "Portable Computing Language");
    d.type = type;
    d.profile.type = type;
    snprintf(d.profile.isa, sizeof d.profile.isa, "%s", isa);
    return d;
}

static char path[4096];

static void write_db(const char *text) {
    FILE *f = fopen(path, "w");
    T_CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0, "writing %s", path);
}

/* The row and the value of its first parameter the database gives op (use train), or "". */
static const char *decided(const MbnTuneCache *c, MbnOp op, int *value) {
    const MbnTunedOp *t = &c->op[MBN_USE_TRAIN][op];
    *value = t->set && t->n ? t->value[0] : -1;
    return t->set ? t->row : "";
}

static const char *levels_db =
    "# comments and blank lines are ignored\n"
    "\n"
    "entry\nvendor *\nplatform *\nclass *\ndevice *\nsource any device\n"
    "op train bn_fwd bn_fwd.generic CHUNKS=32\n"
    "clblast Xgemm KWG=16\n"
    "end\n"
    "entry\nvendor amd\nplatform *\nclass *\ndevice *\nsource an AMD device\n"
    "op train bn_fwd bn_fwd.generic CHUNKS=64\n"
    "op train gemm gemm.clblast\n"
    "end\n"
    "entry\nvendor *\nplatform *\nclass CPU\ndevice *\nsource any CPU\n"
    "op train gemm gemm.cpu_tiled RUN=64\n"
    "op train dw_fwd dw_fwd.cpu_row VEC=8\n"
    "end\n"
    "entry\nvendor *\nplatform *\nclass CPU avx2\ndevice *\nsource AVX2 CPUs\n"
    "op train gemm gemm.cpu_tiled RUN=128\n"
    "clblast Xgemm KWG=32\n"
    "end\n"
    "entry\nvendor *\nplatform *\nclass CPU avx2\ndevice *\nsource AVX2 CPUs again (loses ties)\n"
    "op train gemm gemm.cpu_tiled RUN=1024\n"
    "end\n"
    "entry\nvendor *\nplatform *\nclass *\ndevice EPYC 9\nsource one device\n"
    "op train dw_fwd dw_fwd.cpu_row VEC=16\n"
    "end\n";

static void test_levels(void) {
    write_db(levels_db);
    MbnTuneCache c;
    char levels[2048];
    int v;
    /* An AVX2 AMD CPU: gemm from the ISA entry (first of the tie), bn_fwd from the vendor,
     * dw_fwd from the type, CLBlast from the ISA entry. */
    MbnDeviceInfo zen3 =
        device("pthread-znver3-AMD EPYC 7763", "AuthenticAMD", CL_DEVICE_TYPE_CPU, "avx2");
    T_CHECK(mbn_tune_db_lookup(&zen3, path, &c, levels, sizeof levels) == 4, "zen3: %d found",
            mbn_tune_db_lookup(&zen3, path, &c, levels, sizeof levels));
    T_CHECK(!strcmp(decided(&c, MBN_OP_GEMM, &v), "gemm.cpu_tiled") && v == 128, "gemm RUN %d", v);
    T_CHECK(!strcmp(decided(&c, MBN_OP_BN_FWD, &v), "bn_fwd.generic") && v == 64, "bn CHUNKS %d",
            v);
    T_CHECK(!strcmp(decided(&c, MBN_OP_DW_FWD, &v), "dw_fwd.cpu_row") && v == 8, "dw VEC %d", v);
    T_CHECK(c.n_clblast == 1 && c.clblast[0].value[0] == 32, "clblast KWG %zu",
            c.clblast[0].value[0]);
    T_CHECK(strstr(levels, "gemm (train): vendor * / platform * / class CPU avx2 / device *") &&
                strstr(levels, "bn_fwd (train): vendor amd / platform * / class * / device *"),
            "levels:\n%s", levels);
    /* The device entry beats every other level. */
    MbnDeviceInfo genoa =
        device("pthread-znver4-AMD EPYC 9654", "AuthenticAMD", CL_DEVICE_TYPE_CPU, "avx512");
    mbn_tune_db_lookup(&genoa, path, &c, NULL, 0);
    T_CHECK(!strcmp(decided(&c, MBN_OP_DW_FWD, &v), "dw_fwd.cpu_row") && v == 16, "device level");
    T_CHECK(!strcmp(decided(&c, MBN_OP_GEMM, &v), "gemm.cpu_tiled") && v == 64,
            "avx512: the type entry (RUN %d)", v);
    T_CHECK(c.n_clblast == 1 && c.clblast[0].value[0] == 16, "avx512: the default CLBlast");
    /* A GPU from NVIDIA: only the catch-all entry. */
    MbnDeviceInfo h100 = device("NVIDIA H100", "NVIDIA Corporation", CL_DEVICE_TYPE_GPU, "");
    T_CHECK(mbn_tune_db_lookup(&h100, path, &c, NULL, 0) == 2, "h100 decisions");
    T_CHECK(!strcmp(decided(&c, MBN_OP_BN_FWD, &v), "bn_fwd.generic") && v == 32, "catch-all");
    T_CHECK(!c.op[MBN_USE_TRAIN][MBN_OP_GEMM].set, "no CPU entry on a GPU");
}

static void test_broken(void) {
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"entry\nvendor *\nplatform *\nclass *\ndevice *\nsource s\nop train gemm gemm.clblast\n",
         "no end"},
        {"op train gemm gemm.clblast\n", "line 1: outside an entry"},
        {"entry\nvendor *\nplatform *\nclass *\nsource s\nend\n", "are all needed"},
        {"entry\nvendor *\nvendor x\n", "line 3: vendor given twice"},
        {"entry\nvendor *\nplatform *\nclass *\ndevice *\nsource s\nop train gemm\nend\n",
         "does not parse"},
        {"entry\nvendor *\nplatform *\nclass *\ndevice *\nsource s\nop train gemm gemm.clblast\n"
         "op train gemm gemm.clblast\nend\n",
         "does not parse"},
    };
    MbnDeviceInfo cpu = device("cpu", "GenuineIntel", CL_DEVICE_TYPE_CPU, "avx2");
    MbnTuneCache c;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_db(bad[i].text);
        int n = mbn_tune_db_lookup(&cpu, path, &c, NULL, 0);
        T_CHECK(n == -1 && strstr(mbn_last_error(), bad[i].want) &&
                    strstr(mbn_last_error(), "MBN_TUNE_DATABASE="),
                "bad database %zu: %d, %s", i, n, mbn_last_error());
        T_CHECK(mbn_tune_db_check(bad[i].text) == -1, "check accepted bad database %zu", i);
        mbn_clear_error();
    }
    /* Unknown rows and parameters: the checker refuses them (the shipped file must be clean). */
    T_CHECK(mbn_tune_db_check("entry\nvendor *\nplatform *\nclass *\ndevice *\nsource s\n"
                              "op train gemm gemm.no_such_row\nend\n") == -1 &&
                strstr(mbn_last_error(), "gemm.no_such_row"),
            "unknown row: %s", mbn_last_error());
    T_CHECK(mbn_tune_db_check("entry\nvendor *\nplatform *\nclass *\ndevice *\nsource s\n"
                              "op train gemm gemm.cpu_tiled NOPE=1\nend\n") == -1 &&
                strstr(mbn_last_error(), "NOPE"),
            "unknown parameter: %s", mbn_last_error());
    mbn_clear_error();
    T_CHECK(mbn_tune_db_lookup(&cpu, "/nonexistent/db.txt", &c, NULL, 0) == -1 &&
                strstr(mbn_last_error(), "/nonexistent/db.txt"),
            "missing file: %s", mbn_last_error());
    mbn_clear_error();
}

/* What `mbn tune --export` writes reads back as the same decisions, on this device only. */
static void test_export_roundtrip(void) {
    MbnDeviceInfo dev =
        device("pthread-haswell-Intel Xeon", "GenuineIntel", CL_DEVICE_TYPE_CPU, "avx2");
    MbnTuneCache c;
    memset(&c, 0, sizeof c);
    char text[] = "op infer gemm gemm.cpu_tiled TM=6 TN=16 RUN=512 # infer 1.0-224 batch 32\n"
                  "op train bn_fwd bn_fwd.cpu_vec CHUNKS=64 MIN_ROWS=32 VEC=8\n"
                  "clblast Xgemm KWG=32 MWG=64\n";
    T_CHECK(mbn_tune_decisions_parse(text, &c), "parse");
    char entry[8192];
    T_MBN(mbn_tune_db_format_entry(&dev, &c, "a test", entry, sizeof entry));
    T_CHECK(strstr(entry, "class CPU avx2\ndevice pthread-haswell-Intel Xeon\n") != NULL,
            "entry:\n%s", entry);
    T_CHECK(mbn_tune_db_check(entry) == 1, "the entry checks: %s", mbn_last_error());
    write_db(entry);
    MbnTuneCache back;
    T_CHECK(mbn_tune_db_lookup(&dev, path, &back, NULL, 0) == 3, "decisions read back");
    char a[4096], b[4096];
    mbn_tune_decisions_text(&c, a, sizeof a, false);
    mbn_tune_decisions_text(&back, b, sizeof b, false);
    T_CHECK(strcmp(a, b) == 0, "round trip:\n%s\nvs\n%s", a, b);
    MbnDeviceInfo other =
        device("pthread-haswell-AMD Ryzen", "AuthenticAMD", CL_DEVICE_TYPE_CPU, "avx2");
    T_CHECK(mbn_tune_db_lookup(&other, path, &back, NULL, 0) == 0, "another device matched");
}

int main(void) {
    snprintf(path, sizeof path, "%s/mbn_test_db_%d.txt",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    int shipped = mbn_tune_db_check(mbn_tune_database_text);
    T_CHECK(shipped >= 1, "the shipped database: %s", shipped < 0 ? mbn_last_error() : "empty");
    test_levels();
    test_broken();
    test_export_roundtrip();
    remove(path);
    return t_summary("test_tune_database");
}
