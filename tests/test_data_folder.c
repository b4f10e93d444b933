/* ImageNet-layout folders built here from JPEGs/PNGs encoded by the test (RGB, grayscale, CMYK,
 * PNG) plus every kind of bad entry the loader must survive: truncated JPEG, zero-byte file, text
 * named .JPEG, PNG named .JPEG (decodes: the format is sniffed), a header claiming 60000x60000, a
 * FIFO and a broken symlink (tests run as root, so chmod 000 would not stop reads; a mode-000
 * file is added only when not root), an empty class folder; then datasets with no classes, no val
 * split, unknown val classes, and nothing usable. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "base/error.h"
#include "io/util/file_read.h"
#include "io/data/augment.h"
#include "io/data/dataset.h"
#include "io/data/image_decode.h"
#include "io/data/loader.h"
#include "io/data/readers.h"
#include "tests/support/data_util.h"
#include "tests/support/testutil.h"

#define W 64
#define H 48

static uint8_t rgb[W * H * 3], gray[W * H], cmyk[W * H * 4];
static int expected_bad;

static void write_jpeg(const char *path, const uint8_t *pix, int w, int h, int pf, int ss) {
    size_t n = 0;
    uint8_t *j = tu_jpeg(pix, w, h, pf, ss, 95, &n);
    T_CHECK(j && t_write_file(path, j, n) == 0, "encode %s", path);
    free(j);
}

/* Patches the SOF0 frame size of a JPEG held in buf. */
static bool patch_sof(uint8_t *b, size_t n, int w, int h) {
    for (size_t i = 2; i + 9 < n; i++)
        if (b[i] == 0xFF && b[i + 1] == 0xC0) {
            b[i + 5] = (uint8_t)(h >> 8), b[i + 6] = (uint8_t)h;
            b[i + 7] = (uint8_t)(w >> 8), b[i + 8] = (uint8_t)w;
            return true;
        }
    return false;
}

static void write_bad_files(const char *dir) {
    size_t n = 0;
    uint8_t *j = tu_jpeg(rgb, W, H, TJPF_RGB, TJSAMP_420, 95, &n);
    T_CHECK(t_write_file(t_path("%s/trunc.JPEG", dir), j, n / 2) == 0, "trunc");
    T_CHECK(patch_sof(j, n, 60000, 60000), "SOF0 found");
    T_CHECK(t_write_file(t_path("%s/bomb.JPEG", dir), j, n) == 0, "bomb");
    free(j);
    T_CHECK(t_write_file(t_path("%s/zero.JPEG", dir), "", 0) == 0, "zero");
    T_CHECK(t_write_file(t_path("%s/text.JPEG", dir), "hello, not an image\n", 20) == 0, "text");
    T_CHECK(mkfifo(t_path("%s/fifo.JPEG", dir), 0644) == 0, "mkfifo");
    T_CHECK(symlink("/nonexistent/target.jpg", t_path("%s/broken.jpg", dir)) == 0, "symlink");
    T_CHECK(t_write_file(t_path("%s/notes.txt", dir), "ignored", 7) == 0, "txt");
    expected_bad = 6;
    if (geteuid() != 0) {
        const char *p = t_path("%s/noperm.JPEG", dir);
        T_CHECK(t_write_file(p, "x", 1) == 0 && chmod(p, 0) == 0, "chmod");
        expected_bad++;
    } else {
        fprintf(stderr,
                "note: running as root, chmod-000 case skipped (FIFO/broken symlink used)\n");
    }
}

static void build_tree(const char *root) {
    char cat[256], dog[256]; /* tu_path's buffers rotate: keep our own copies */
    snprintf(cat, sizeof cat, "%s/train/cat", root);
    snprintf(dog, sizeof dog, "%s/train/dog", root);
    T_CHECK(t_mkdirs(cat) == 0 && t_mkdirs(dog) == 0, "mkdirs");
    T_CHECK(t_mkdirs(t_path("%s/train/empty", root)) == 0, "mkdir empty");
    write_jpeg(t_path("%s/a.JPEG", cat), rgb, W, H, TJPF_RGB, TJSAMP_444);
    write_jpeg(t_path("%s/b.jpg", cat), gray, W, H, TJPF_GRAY, TJSAMP_GRAY);
    write_jpeg(t_path("%s/c.jpeg", cat), cmyk, W, H, TJPF_CMYK, TJSAMP_444);
    T_CHECK(tu_write_png(t_path("%s/d.png", cat), rgb, W, H, 3) == 0, "png");
    T_CHECK(tu_write_png(t_path("%s/e.PNG", cat), gray, W, H, 1) == 0, "gray png");
    write_jpeg(t_path("%s/f.JPEG", dog), rgb, W, H, TJPF_RGB, TJSAMP_420);
    T_CHECK(tu_write_png(t_path("%s/png_as.JPEG", dog), rgb, W, H, 3) == 0, "png as jpeg");
    write_bad_files(dog);
    T_CHECK(t_mkdirs(t_path("%s/val/cat", root)) == 0 && t_mkdirs(t_path("%s/val/dog", root)) == 0,
            "val");
    write_jpeg(t_path("%s/val/cat/v1.JPEG", root), rgb, W, H, TJPF_RGB, TJSAMP_420);
    write_jpeg(t_path("%s/val/dog/v2.JPEG", root), rgb, W, H, TJPF_RGB, TJSAMP_420);
}

static double max_diff(const uint8_t *a, const uint8_t *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

static void decode_file(const char *path, MbnImage *img) {
    uint8_t *buf = NULL;
    size_t len = 0;
    img->rgb = NULL;
    int rc = mbn_read_file(path, MBN_IMAGE_MAX_FILE_BYTES, &buf, &len);
    if (rc == MBN_OK) rc = mbn_image_decode(buf, len, path, 1.0, img);
    T_CHECK(rc == MBN_OK && img->w == W && img->h == H, "decode %s: %s", path, mbn_last_error());
    free(buf);
}

static void check_decoding(const char *root) {
    MbnImage img;
    uint8_t gray3[W * H * 3];
    for (int i = 0; i < W * H * 3; i++)
        gray3[i] = gray[i / 3];
    decode_file(t_path("%s/train/cat/a.JPEG", root), &img);
    if (img.rgb)
        T_CHECK(max_diff(img.rgb, rgb, sizeof rgb) < 40, "RGB JPEG: max diff %g",
                max_diff(img.rgb, rgb, sizeof rgb));
    mbn_image_free(&img);
    decode_file(t_path("%s/train/cat/b.jpg", root), &img);
    if (img.rgb)
        T_CHECK(max_diff(img.rgb, gray3, sizeof gray3) < 12, "gray JPEG replicated: %g",
                max_diff(img.rgb, gray3, sizeof gray3));
    mbn_image_free(&img);
    /* cmyk holds (R, G, B, 255) in Adobe's inverted convention: it must come back as rgb. */
    decode_file(t_path("%s/train/cat/c.jpeg", root), &img);
    if (img.rgb)
        T_CHECK(max_diff(img.rgb, rgb, sizeof rgb) < 40, "CMYK JPEG: max diff %g",
                max_diff(img.rgb, rgb, sizeof rgb));
    mbn_image_free(&img);
    decode_file(t_path("%s/train/cat/d.png", root), &img);
    if (img.rgb) T_CHECK(max_diff(img.rgb, rgb, sizeof rgb) == 0, "PNG is lossless");
    mbn_image_free(&img);
    decode_file(t_path("%s/train/cat/e.PNG", root), &img);
    if (img.rgb) T_CHECK(max_diff(img.rgb, gray3, sizeof gray3) == 0, "gray PNG replicated");
    mbn_image_free(&img);
    decode_file(t_path("%s/train/dog/png_as.JPEG", root), &img);
    mbn_image_free(&img);
    /* RGBA PNG: alpha dropped (as PIL's convert("RGB")), not composited onto black. */
    uint8_t rgba[W * H * 4];
    for (int i = 0; i < W * H; i++) {
        memcpy(rgba + 4 * i, rgb + 3 * i, 3);
        rgba[4 * i + 3] = (uint8_t)(i * 13);
    }
    const char *p = t_path("%s/rgba.png", root);
    T_CHECK(tu_write_png(p, rgba, W, H, 4) == 0, "rgba png");
    decode_file(p, &img);
    if (img.rgb) T_CHECK(max_diff(img.rgb, rgb, sizeof rgb) == 0, "RGBA PNG keeps the colours");
    mbn_image_free(&img);
}

static void check_bad(const char *root, const char *name, const char *expect) {
    const char *p = t_path("%s/train/dog/%s", root, name);
    float out[16 * 16 * 3];
    int rc = mbn_augment_file(p, 16, false, NULL, out);
    T_CHECK(rc == MBN_EFAIL && strstr(mbn_last_error(), p) && strstr(mbn_last_error(), expect),
            "%s: rc %d, message '%s' should name the file and say '%s'", name, rc, mbn_last_error(),
            expect);
}

/* DCT-domain scaling picks the smallest of 1/8, 1/4, 1/2, 1 still >= the requested scale (the
 * other TurboJPEG factors have no SIMD IDCT and decode slower than full size). */
static void check_dct_scaling(void) {
    enum { BW = 512, BH = 384 };
    uint8_t *big = malloc(BW * BH * 3);
    tu_pattern(big, BW, BH, 3);
    size_t n = 0;
    uint8_t *j = tu_jpeg(big, BW, BH, TJPF_RGB, TJSAMP_420, 90, &n);
    struct {
        double need;
        int w, h;
    } cases[] = {{1.0, 512, 384},  {0.3, 256, 192},  {0.125, 64, 48}, {0.01, 64, 48},
                 {0.51, 512, 384}, {0.26, 256, 192}, {0.2, 128, 96}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        MbnImage img;
        int rc = mbn_image_decode(j, n, "big.jpg", cases[i].need, &img);
        T_CHECK(rc == MBN_OK && img.w == cases[i].w && img.h == cases[i].h,
                "scale %g: %dx%d, expected %dx%d", cases[i].need, img.w, img.h, cases[i].w,
                cases[i].h);
        mbn_image_free(&img);
    }
    /* Eval at 32 px (resize to 37) of a 512x384 photo decodes at 1/8 and must stay close to
     * the full-size decode (both are bilinear from nearly the same signal). */
    float a[32 * 32 * 3], b[32 * 32 * 3];
    T_CHECK(mbn_augment_encoded(j, n, "big.jpg", 32, false, NULL, a) == MBN_OK, "eval");
    MbnImage full;
    T_CHECK(mbn_image_decode(j, n, "big.jpg", 1.0, &full) == MBN_OK, "full decode");
    MbnWindow win;
    mbn_aug_eval_window(BW, BH, 32, &win);
    T_CHECK(mbn_aug_resample(full.rgb, full.w, full.h, &win, 32, false, b) == MBN_OK, "resample");
    double sum = 0;
    for (int i = 0; i < 32 * 32 * 3; i++)
        sum += fabs(a[i] - b[i]);
    T_CHECK(sum / (32 * 32 * 3) < 0.25, "scaled vs full decode mean |diff| %g (normalised units)",
            sum / (32 * 32 * 3));
    mbn_image_free(&full);
    free(j);
    free(big);
}

static void check_dataset(const char *root) {
    MbnDataset *ds = NULL;
    int rc = mbn_dataset_open(root, MBN_SPLIT_TRAIN, &ds);
    T_CHECK(rc == MBN_OK, "open: %s", mbn_last_error());
    if (!ds) return;
    T_CHECK(ds->format == &mbn_reader_imagefolder && ds->num_classes == 3, "classes %d",
            ds->num_classes);
    T_CHECK(!strcmp(ds->class_names[0], "cat") && !strcmp(ds->class_names[1], "dog") &&
                !strcmp(ds->class_names[2], "empty"),
            "sorted class names");
    int64_t want = 5 + 2 + expected_bad;
    T_CHECK(ds->count == want, "count %lld, expected %lld", (long long)ds->count, (long long)want);
    T_CHECK(ds->labels[0] == 0 && strstr(ds->paths[0], "cat/a.JPEG"), "first sample %s",
            ds->paths[0]);
    T_CHECK(ds->labels[ds->count - 1] == 1, "last sample is a dog");
    for (int64_t i = 0; i < ds->count; i++)
        T_CHECK(!strstr(ds->paths[i], "notes.txt"), "txt listed");

    /* Evaluation pass: bad files skipped, batches shrink, each good image delivered once. */
    MbnLoaderConfig cfg = {.batch_size = 4,
                           .resolution = 24,
                           .workers = 2,
                           .seed = 1,
                           .train = false,
                           .drop_last = false,
                           .rank = 0,
                           .world = 1};
    MbnLoader *ld = NULL;
    T_CHECK(mbn_loader_create(ds, &cfg, &ld) == MBN_OK, "loader: %s", mbn_last_error());
    if (ld) {
        T_CHECK(mbn_loader_start_epoch(ld, 0, 0) == MBN_OK, "start");
        MbnBatch b;
        int total = 0;
        while ((rc = mbn_loader_next(ld, &b)) == MBN_OK && b.n > 0)
            total += b.n;
        T_CHECK(rc == MBN_OK, "next: %s", mbn_last_error());
        T_CHECK(total == 7, "eval delivered %d images, expected 7 usable", total);
        T_CHECK(mbn_loader_skipped(ld) == expected_bad, "skipped %lld, expected %d",
                (long long)mbn_loader_skipped(ld), expected_bad);
        mbn_loader_destroy(ld);
    }
    /* Training pass: drop_last, every batch full (bad samples replaced by following ones). */
    cfg.train = cfg.drop_last = true;
    T_CHECK(mbn_loader_create(ds, &cfg, &ld) == MBN_OK, "loader: %s", mbn_last_error());
    if (ld) {
        T_CHECK(mbn_loader_batches_per_epoch(ld) == want / 4, "batches");
        T_CHECK(mbn_loader_start_epoch(ld, 0, 0) == MBN_OK, "start");
        MbnBatch b;
        int batches = 0;
        while (mbn_loader_next(ld, &b) == MBN_OK && b.n > 0) {
            T_CHECK(b.n == 4, "train batch %d has %d images", batches, b.n);
            batches++;
        }
        T_CHECK(batches == want / 4, "%d batches", batches);
        mbn_loader_destroy(ld);
    }
    mbn_dataset_free(ds);

    rc = mbn_dataset_open(root, MBN_SPLIT_VAL, &ds);
    T_CHECK(rc == MBN_OK && ds && ds->count == 2 && ds->num_classes == 3 && ds->labels[1] == 1,
            "val split: %s", mbn_last_error());
    mbn_dataset_free(ds);
    T_CHECK(t_mkdirs(t_path("%s/val/zebra", root)) == 0, "mkdir");
    rc = mbn_dataset_open(root, MBN_SPLIT_VAL, &ds);
    T_CHECK(rc == MBN_EFAIL && strstr(mbn_last_error(), "zebra"), "unknown val class: %s",
            mbn_last_error());
}

static void check_broken_layouts(void) {
    char root[64];
    MbnDataset *ds = NULL;
    t_tempdir(root, sizeof root);
    T_CHECK(mbn_dataset_open(t_path("%s/nope", root), MBN_SPLIT_TRAIN, &ds) == MBN_EUSAGE,
            "missing dir is a usage error");
    T_CHECK(mbn_dataset_open(root, MBN_SPLIT_TRAIN, &ds) == MBN_EFAIL &&
                strstr(mbn_last_error(), "no dataset found"),
            "empty dir: %s", mbn_last_error());
    T_CHECK(t_mkdirs(t_path("%s/train", root)) == 0, "mkdir");
    T_CHECK(mbn_dataset_open(root, MBN_SPLIT_TRAIN, &ds) == MBN_EFAIL &&
                strstr(mbn_last_error(), "no class folders"),
            "no classes: %s", mbn_last_error());
    T_CHECK(t_mkdirs(t_path("%s/train/x", root)) == 0, "mkdir");
    T_CHECK(mbn_dataset_open(root, MBN_SPLIT_TRAIN, &ds) == MBN_EFAIL &&
                strstr(mbn_last_error(), "no images"),
            "no images: %s", mbn_last_error());
    T_CHECK(t_write_file(t_path("%s/train/x/bad.JPEG", root), "junk", 4) == 0, "write");
    T_CHECK(mbn_dataset_open(root, MBN_SPLIT_VAL, &ds) == MBN_EFAIL &&
                strstr(mbn_last_error(), "val"),
            "no val split: %s", mbn_last_error());
    /* Nothing usable: the dataset opens (files are only listed) but the loader says so. */
    T_CHECK(mbn_dataset_open(root, MBN_SPLIT_TRAIN, &ds) == MBN_OK, "open: %s", mbn_last_error());
    MbnLoaderConfig cfg = {.batch_size = 1,
                           .resolution = 8,
                           .workers = 1,
                           .seed = 1,
                           .train = true,
                           .drop_last = true,
                           .rank = 0,
                           .world = 1};
    MbnLoader *ld = NULL;
    if (ds && mbn_loader_create(ds, &cfg, &ld) == MBN_OK) {
        MbnBatch b;
        mbn_loader_start_epoch(ld, 0, 0);
        int rc = mbn_loader_next(ld, &b);
        T_CHECK(rc == MBN_EFAIL && strstr(mbn_last_error(), "no usable image"), "all bad: %s",
                mbn_last_error());
        mbn_loader_destroy(ld);
    }
    mbn_dataset_free(ds);
    t_rmtree(root);
}

int main(void) {
    tu_pattern(rgb, W, H, 0);
    for (int i = 0; i < W * H; i++) {
        gray[i] = (uint8_t)((rgb[3 * i] + rgb[3 * i + 1] * 2 + rgb[3 * i + 2]) / 4);
        for (int c = 0; c < 3; c++)
            cmyk[4 * i + c] = rgb[3 * i + c];
        cmyk[4 * i + 3] = 255;
    }
    char root[64];
    t_tempdir(root, sizeof root);
    build_tree(root);
    check_decoding(root);
    check_bad(root, "trunc.JPEG", "corrupt JPEG");
    check_bad(root, "zero.JPEG", "empty file");
    check_bad(root, "text.JPEG", "not a JPEG or PNG");
    check_bad(root, "bomb.JPEG", "exceeds");
    check_bad(root, "fifo.JPEG", "not a regular file");
    check_bad(root, "broken.jpg", "cannot open");
    check_dct_scaling();
    check_dataset(root);
    check_broken_layouts();
    t_rmtree(root);
    return t_summary("test_data_folder");
}
