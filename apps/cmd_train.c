/* mbn train: the seed's training recipe (SPEC §2) on one device or data-parallel on several. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/json_out.h"
#include "host/device.h"
#include "base/error.h"
#include "model/arch.h"
#include "train/comm_mpi.h"
#include "train/ranks.h"
#include "train/run.h"

/* The library names MbnTrainConfig's parameters in its messages ("ckpt_dir runs/x: ...");
 * here they become the flags that set them. */
static const char *const param_flags[][2] = {
    {"ckpt_dir", "--ckpt-dir"},
    {"num_classes", "--num-classes"},
    {"batch_size", "--batch-size"},
    {"n_devices", "--device"},
    {"accumulate", "--accumulate"},
    {"init_path", "--init"},
    {"save_every_steps", "--save-every-steps"},
};

static bool word_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '/' || ch == '.';
}

/* Rewrites whole-word parameter names (all with an underscore, so never an English word) in the
 * recorded error as flags. */
static int flag_wording(int rc) {
    if (rc == MBN_OK) return rc;
    const char *msg = mbn_last_error();
    char out[2048];
    size_t o = 0;
    for (size_t i = 0; msg[i] && o + 32 < sizeof out;) {
        bool done = false;
        if (i == 0 || !word_char(msg[i - 1])) {
            for (size_t k = 0; k < sizeof param_flags / sizeof param_flags[0] && !done; k++) {
                size_t len = strlen(param_flags[k][0]);
                if (strncmp(msg + i, param_flags[k][0], len) || word_char(msg[i + len])) continue;
                o += (size_t)snprintf(out + o, sizeof out - o, "%s", param_flags[k][1]);
                i += len;
                done = true;
            }
        }
        if (!done) out[o++] = msg[i++];
    }
    out[o] = 0;
    return mbn_fail(rc, "%s", out);
}

/* Under an MPI launcher every rank parses the same command line: only rank 0 reports what is
 * wrong with it (all ranks exit with the status). */
static int report(const MbnCli *cli, int rc) {
    if (cli->help || rc != MBN_OK) {
        if (mbn_mpi_env_rank() != 0) return rc == MBN_OK ? 0 : rc == MBN_EUSAGE ? 2 : 1;
    }
    return mbn_cli_report(cli, rc);
}

static int print_result(const MbnTrainResult *res, bool json) {
    if (json)
        return mbn_json_print(json_pack(
            "{s:s, s:i, s:I, s:o, s:o, s:o, s:o, s:I, s:b}", "checkpoint", res->checkpoint,
            "epochs", res->epochs, "steps", (json_int_t)res->steps, "loss",
            mbn_json_number(res->loss), "val_top1", mbn_json_number(res->val_top1), "val_top5",
            mbn_json_number(res->val_top5), "seconds", mbn_json_number(res->seconds), "skipped",
            (json_int_t)res->skipped, "interrupted", res->interrupted));
    printf("trained %lld step%s in %.1f s; last loss %.4f", (long long)res->steps,
           res->steps == 1 ? "" : "s", res->seconds, res->loss);
    if (!isnan(res->val_top1))
        printf("; test top-1 %.2f%%, top-5 %.2f%%", 100 * res->val_top1, 100 * res->val_top5);
    printf("\ncheckpoint: %s\n", res->checkpoint);
    return MBN_OK;
}

int cmd_train(int argc, char **argv) {
    MbnCommonFlags c;
    mbn_common_defaults(&c);
    c.num_classes = 0;
    const char *data = NULL, *schedule = "cosine", *milestones = NULL, *rates = NULL;
    const char *ckpt_dir = "./mobilenet_v1", *resume = NULL, *init = NULL;
    int epochs = 200, batch = 64, decay_epochs = 0, warmup = 0, keep = 10, workers = 8, seed = 1;
    int save_every = 0, max_steps = 0, accumulate = 1;
    float max_lr = 0.1f, min_lr = 0.0f, momentum = 0.9f, wd = 0.0f, smoothing = 0.1f;
    bool decay_all = false, no_eval = false, quiet = false;
    const MbnFlag flags[] = {
        {"data", FLAG_STRING, &data, "dataset folder: ImageNet layout, MNIST IDX or CIFAR-10",
         "DIR", NULL},
        {"epochs", FLAG_INT, &epochs, "epochs", "N", NULL},
        {"batch-size", FLAG_INT, &batch, "images per step per rank (device)", "B", NULL},
        {"accumulate", FLAG_INT, &accumulate,
         "micro-batches of --batch-size per rank and optimizer step; one process with "
         "--accumulate M trains exactly as M ranks",
         "M", NULL},
        {"lr-schedule", FLAG_STRING, &schedule, "cosine or piecewise", "S", NULL},
        {"max-lr", FLAG_FLOAT, &max_lr, "cosine: peak learning rate", "LR", NULL},
        {"min-lr", FLAG_FLOAT, &min_lr, "cosine: final learning rate", "LR", NULL},
        {"decay-epochs", FLAG_INT, &decay_epochs, "cosine: epochs to decay over", "N", "--epochs"},
        {"milestones", FLAG_STRING, &milestones,
         "piecewise: increasing step counts, e.g. 1000,2000", "M1,M2", NULL},
        {"learning-rates", FLAG_STRING, &rates, "piecewise: one rate per milestone", "R1,R2", NULL},
        {"warmup-epochs", FLAG_INT, &warmup, "linear warmup epochs", "W", NULL},
        {"momentum", FLAG_FLOAT, &momentum, "SGD momentum", "M", NULL},
        {"weight-decay", FLAG_FLOAT, &wd, "L2 weight decay", "WD", NULL},
        {"decay-all", FLAG_BOOL, &decay_all,
         "also decay depthwise weights, BN parameters and biases (excluded without it)", NULL,
         NULL},
        {"label-smoothing", FLAG_FLOAT, &smoothing, "MindSpore label smoothing e", "E", NULL},
        {"ckpt-dir", FLAG_STRING, &ckpt_dir, "checkpoints, labels and the training log", "DIR",
         NULL},
        {"keep-checkpoint-max", FLAG_INT, &keep, "checkpoints kept", "N", NULL},
        {"save-every-steps", FLAG_INT, &save_every,
         "also checkpoint every N steps; --keep-checkpoint-max counts these too", "N",
         "per epoch only"},
        {"workers", FLAG_INT, &workers, "data loader threads, at most the cores", "N", NULL},
        {"seed", FLAG_INT, &seed, "seed for init, data order and augmentation", "S", NULL},
        {"resume", FLAG_STRING, &resume,
         "auto (the latest valid checkpoint in --ckpt-dir) or a checkpoint file", "auto|FILE",
         NULL},
        {"init", FLAG_STRING, &init, "start from safetensors weights (timm names)", "W", NULL},
        {"max-steps", FLAG_INT, &max_steps, "stop after this many steps, with a checkpoint", "N",
         "no limit"},
        {"no-eval", FLAG_BOOL, &no_eval, "skip the evaluation after each epoch", NULL, NULL},
        MBN_FLAG_DEVICES(&c),
        MBN_FLAG_ALPHA(&c),
        MBN_FLAG_RESOLUTION(&c),
        MBN_FLAG_NUM_CLASSES(&c, "the data's"),
        {"quiet", FLAG_BOOL, &quiet, "no progress output", NULL, NULL},
        MBN_FLAG_JSON(&c),
    };
    char description[1600];
    snprintf(
        description, sizeof description,
        "Trains MobileNet V1 with momentum SGD, a cosine or piecewise schedule and "
        "label-smoothed cross-entropy (the seed's recipe), evaluating top-1/top-5 after each "
        "epoch and checkpointing to --ckpt-dir.\n\n"
        "Data-parallel: --device 0,1 (or all) trains one rank per listed device in this "
        "process; `mpirun -np N mbn train ...` trains N ranks, one device each (the local "
        "rank's among those --device matches; default every GPU), on one machine or many. "
        "--batch-size is per rank; gradients are averaged every step in a fixed order, so "
        "N MPI ranks, N in-process devices and one process with --accumulate N give the "
        "same weights. Rank 0 logs, evaluates, checkpoints and prints. This mbn was built "
        "%s.\n\n"
        "Ctrl-C (SIGINT) or SIGTERM finishes the current step, writes a checkpoint and "
        "exits with status 1 (\"interrupted\": true with --json); --resume auto continues from "
        "there, bit-identically with the same ranks (with others: at the same image of the "
        "epoch).",
        mbn_mpi_available() ? "with MPI" : "without MPI (rebuild with libopenmpi-dev for mpirun)");
    MbnCli cli = MBN_CLI("train", "mbn train --data DIR [--epochs N] [--batch-size B] [flags]",
                         description, flags, NULL, 0);
    int rc = mbn_cli_parse(&cli, argc, argv);
    if (rc || cli.help) return report(&cli, rc);
    if (!data) return report(&cli, mbn_fail(MBN_EUSAGE, "--data is required"));
    if (epochs < 1)
        rc = mbn_fail(MBN_EUSAGE, "--epochs %d: must be at least 1", epochs);
    else if (batch < 2)
        rc = mbn_fail(MBN_EUSAGE,
                      "--batch-size %d: training needs at least 2 images per device "
                      "(BatchNorm statistics)",
                      batch);
    else if (!(smoothing >= 0 && smoothing < 1))
        rc = mbn_fail(MBN_EUSAGE, "--label-smoothing %g: must be in [0, 1)", (double)smoothing);
    else if (!(momentum >= 0 && momentum < 1))
        rc = mbn_fail(MBN_EUSAGE, "--momentum %g: must be in [0, 1)", (double)momentum);
    else if (!(wd >= 0))
        rc = mbn_fail(MBN_EUSAGE, "--weight-decay %g: must be >= 0", (double)wd);
    else if (keep < 1)
        rc = mbn_fail(MBN_EUSAGE, "--keep-checkpoint-max %d: must be >= 1", keep);
    else if (workers < 0)
        rc = mbn_fail(MBN_EUSAGE, "--workers %d: must be >= 0", workers);
    else if (accumulate < 1 || accumulate > 1024)
        rc = mbn_fail(MBN_EUSAGE, "--accumulate %d: must be in 1..1024", accumulate);
    else if (save_every < 0)
        rc = mbn_fail(MBN_EUSAGE, "--save-every-steps %d: must be >= 0", save_every);
    else if (max_steps < 0)
        rc = mbn_fail(MBN_EUSAGE, "--max-steps %d: must be >= 0", max_steps);
    else if (seed < 0)
        rc = mbn_fail(MBN_EUSAGE, "--seed %d: must be >= 0", seed);
    if (rc) return report(&cli, rc);
    MbnTrainConfig cfg;
    memset(&cfg, 0, sizeof cfg);
    if (!strcmp(schedule, "cosine")) {
        cfg.lr.kind = MBN_LR_COSINE;
        if (milestones || rates)
            rc = mbn_fail(MBN_EUSAGE, "--milestones/--learning-rates need --lr-schedule piecewise");
    } else if (!strcmp(schedule, "piecewise")) {
        rc = mbn_lr_parse_piecewise(&cfg.lr, milestones, rates);
    } else {
        rc = mbn_fail(MBN_EUSAGE, "--lr-schedule %s: expected cosine or piecewise", schedule);
    }
    cfg.lr.max_lr = max_lr;
    cfg.lr.min_lr = min_lr;
    cfg.lr.decay_epochs = decay_epochs;
    cfg.lr.warmup_epochs = warmup;
    if (rc == MBN_OK && decay_epochs < 0)
        rc = mbn_fail(MBN_EUSAGE, "--decay-epochs %d: must be at least 1", decay_epochs);
    if (rc == MBN_OK && warmup >= epochs)
        rc = mbn_fail(MBN_EUSAGE, "--warmup-epochs %d: must be fewer than --epochs %d", warmup,
                      epochs);
    if (rc == MBN_OK) {
        MbnLrSchedule probe = cfg.lr;
        if (probe.decay_epochs == 0) probe.decay_epochs = 1;
        rc = mbn_lr_validate(&probe);
    }
    MbnArch probe_arch; /* the network flags' ranges, before touching the data */
    if (rc == MBN_OK)
        rc = mbn_arch_build(&probe_arch, c.alpha, c.resolution, c.num_classes ? c.num_classes : 2);
    /* The paths, before any work. Under an MPI launcher rank 0 checks them and reports; the
     * other ranks, whose machines (or MPMD command lines) may differ, leave them to the run,
     * which names the rank in its error. */
    bool check_paths = rc == MBN_OK && mbn_mpi_env_rank() == 0;
    if (check_paths) rc = mbn_cli_input_dir("--data", data);
    if (check_paths && rc == MBN_OK && init) rc = mbn_cli_input_file("--init", init);
    if (check_paths && rc == MBN_OK && resume && strcmp(resume, "auto") != 0)
        rc = mbn_cli_input_file("--resume", resume);
    struct stat st;
    if (check_paths && rc == MBN_OK && stat(ckpt_dir, &st) == 0 && !S_ISDIR(st.st_mode))
        rc = mbn_fail(MBN_EUSAGE, "--ckpt-dir %s: not a folder", ckpt_dir);
    if (rc) return report(&cli, rc);
    cfg.alpha = c.alpha;
    cfg.resolution = c.resolution;
    cfg.num_classes = c.num_classes;
    cfg.data_dir = data;
    cfg.batch_size = batch;
    cfg.accumulate = accumulate;
    cfg.workers = workers;
    cfg.epochs = epochs;
    cfg.momentum = momentum;
    cfg.weight_decay = wd;
    cfg.decay_all = decay_all;
    cfg.smoothing = smoothing;
    cfg.seed = (uint64_t)seed;
    cfg.ckpt_dir = ckpt_dir;
    cfg.keep_max = keep;
    cfg.save_every_steps = save_every;
    cfg.resume = resume;
    cfg.init_path = init;
    cfg.eval = !no_eval;
    cfg.max_steps = max_steps;
    cfg.quiet = quiet || c.json;
    MbnTrainRanks ranks;
    MbnTrainResult res;
    memset(&res, 0, sizeof res);
    rc = mbn_train_ranks_open(&ranks, c.device);
    if (rc == MBN_OK) {
        cfg.devices = ranks.devices;
        cfg.n_devices = ranks.n_devices;
        rc = flag_wording(mbn_train(&cfg, &ranks.comm, &res));
    }
    bool rank0 = ranks.comm.rank == 0;
    if (rc == MBN_OK && rank0) {
        if (res.skipped) mbn_warn("%lld unusable images were skipped", (long long)res.skipped);
        rc = print_result(&res, c.json);
    }
    int status = res.interrupted ? 1 : 0;
    if (rc != MBN_OK && res.failed_everywhere && !rank0) {
        status = 1; /* a non-finite loss stops every rank at the same step: rank 0 reports it */
    } else if (rc != MBN_OK) {
        if (ranks.comm.world > 1 && !res.failed_everywhere) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", mbn_last_error());
            mbn_fail(rc, "rank %d of %d: %s", ranks.comm.rank, ranks.comm.world, msg);
        }
        status = mbn_cli_report(&cli, rc);
    }
    return mbn_train_ranks_end(&ranks, status, rc == MBN_OK || res.failed_everywhere);
}
