/* The input pipeline a model was trained for (SPEC §5 "Preprocessing record"): how any image,
 * whatever its format (IDX, CIFAR, JPEG, PNG, a caller's RGB buffer), becomes the network's
 * input at evaluation time. Training records it in every checkpoint and export, so eval, infer,
 * the library and ONNX users all see the picture the model learned from.
 *
 * The pipeline, in order (io/data/preprocess_record.h writes it as text):
 *   1. channels: "rgb" keeps the colours (grayscale images are replicated to 3 channels);
 *      "gray" (models trained on grayscale, e.g. Fashion-MNIST) turns colour images into
 *      luminance Y = (299 R + 587 G + 114 B + 500) / 1000 (PIL's convert("L"), exact for gray
 *      input) and replicates it to 3 channels;
 *   2. pad_to: an image with a side shorter than pad_to is zero-padded (pixel value 0, before
 *      normalisation), centred, to pad_to on that side (28x28 -> 32x32, 2 px each side); 0: never;
 *   3. resize + crop: the shorter side is resized to round(resolution / crop_fraction) (the longer
 *      side in proportion, truncated: torchvision Resize(int)), then the centre resolution x
 *      resolution is cropped (torchvision CenterCrop), in one bilinear pass with half-pixel
 *      centres and no antialiasing (io/data/augment.h); crop_fraction 1 on a square image is a
 *      plain resize;
 *   4. normalise: value / 255, minus mean, divided by std, per channel.
 * The ImageNet default (photos): rgb, no padding, crop_fraction 0.875, ImageNet mean/std.
 * IDX/CIFAR training: pad_to 32, crop_fraction 1 (gray for IDX, rgb for CIFAR). */
#ifndef MBN_IO_DATA_PREPROCESS_H
#define MBN_IO_DATA_PREPROCESS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { MBN_CHANNELS_RGB, MBN_CHANNELS_GRAY } MbnChannels;

typedef struct {
    bool recorded; /* false: defaults for a file that carries no record */
    MbnChannels channels;
    int pad_to;          /* 0: no padding */
    float crop_fraction; /* (0, 1] */
    float mean[3], std[3];
} MbnPreprocess;

/* Photos (ImageFolder training) and the default for files without a record. */
void mbn_preprocess_imagenet(MbnPreprocess *p);
/* In-memory IDX (gray) / CIFAR (rgb) training: pad to 32, plain resize. */
void mbn_preprocess_small(MbnPreprocess *p, bool gray);

struct MbnDataset;
/* The pipeline a model trained on this dataset is evaluated with (recorded = true): IDX gray /
 * CIFAR rgb padded to 32 with a plain resize, photos the ImageNet eval pipeline. */
void mbn_preprocess_for_dataset(const struct MbnDataset *ds, MbnPreprocess *p);

/* An 8-bit RGB image (w x h, rows row_stride bytes apart) through the pipeline into out
 * (res x res x 3 floats, HWC). MBN_EFAIL when out of memory or the size is invalid. */
int mbn_preprocess_rgb(const MbnPreprocess *p, const uint8_t *rgb, int w, int h, size_t row_stride,
                       int res, float *out);
/* An in-memory grayscale (channels 1) or RGB (channels 3) image. */
int mbn_preprocess_pixels(const MbnPreprocess *p, const uint8_t *pixels, int w, int h, int channels,
                          int res, float *out);
/* An encoded JPEG/PNG (name for messages); large JPEGs are decoded at a reduced DCT scale that
 * still leaves one source pixel per output pixel, as the eval pipeline has always done. */
int mbn_preprocess_encoded(const MbnPreprocess *p, const uint8_t *buf, size_t len, const char *name,
                           int res, float *out);
int mbn_preprocess_file(const MbnPreprocess *p, const char *path, int res, float *out);

/* One line for humans: "gray replicated to 3 channels, pad to 32, ...". */
void mbn_preprocess_describe(const MbnPreprocess *p, int res, char *out, size_t cap);

#endif
