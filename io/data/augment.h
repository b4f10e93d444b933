/* Pre-processing to the network's input: float32 HWC (res x res x 3), normalised with the ImageNet
 * mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225) after scaling pixels to [0, 1].
 *
 * Resampling is plain bilinear with half-pixel centres (OpenCV INTER_LINEAR without its
 * fixed-point rounding; torch.nn.functional.interpolate(mode="bilinear", align_corners=False,
 * antialias=False); torchvision's tensor Resize with antialias=False). It is NOT PIL's
 * antialiased resize: when shrinking a lot it aliases, which DCT-domain JPEG scaling mostly
 * avoids by decoding large photos at 1/2, 1/4 or 1/8 size first. Interpolated values are kept in
 * float (not rounded back to uint8 as a PIL/uint8-tensor pipeline would).
 *
 * Photos (JPEG/PNG):
 *   train: torchvision RandomResizedCrop(res, scale=(0.08, 1), ratio=(3/4, 4/3)) with its exact
 *          sampling algorithm (10 attempts, then a centre crop of clamped aspect ratio), then a
 *          horizontal flip with p = 0.5; the RNG draws are crop, then flip;
 *   eval:  torchvision Resize(round(res / 0.875)) (short side; long side truncated as
 *          torchvision does) + CenterCrop(res), computed in one resampling pass.
 * In-memory IDX/CIFAR images (no randomness in either mode; the simple recipe the reference
 * numbers were measured with): grayscale replicated to 3 channels, images smaller than 32 px
 * zero-padded (pixel value 0, before normalisation) to 32 centred (28x28 gets 2 px each side),
 * then bilinearly resized to res when res differs from the padded size. */
#ifndef MBN_IO_DATA_AUGMENT_H
#define MBN_IO_DATA_AUGMENT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"

/* An integer crop rectangle in source pixels (torchvision's i, j, h, w = y, x, h, w). */
typedef struct {
    int x, y, w, h;
} MbnCrop;

/* A resampling window in source pixel coordinates: output pixel j covers
 * [x + j * w / res, x + (j + 1) * w / res); taps are clamped to the region
 * [cx0, cx1) x [cy0, cy1) (the crop for crop-then-resize, the whole image for resize-then-crop). */
typedef struct {
    double x, y, w, h;
    double cx0, cy0, cx1, cy1;
} MbnWindow;

/* torchvision RandomResizedCrop.get_params for a w x h image. */
void mbn_aug_random_crop(int w, int h, MbnRng *rng, MbnCrop *crop);
/* The window of Resize(round(res/0.875)) + CenterCrop(res) on a w x h image. */
void mbn_aug_eval_window(int w, int h, int res, MbnWindow *win);
/* The same for Resize(round(res / crop_fraction)) + CenterCrop(res); when that covers the whole
 * image (crop_fraction 1 on a square image) the window is exactly the image. */
void mbn_aug_eval_window_fraction(int w, int h, int res, double crop_fraction, MbnWindow *win);
/* The window that crops `crop` and resizes it to res. */
void mbn_aug_crop_window(const MbnCrop *crop, MbnWindow *win);
/* Bilinear resampling of an RGB8 image (w x h) through win to res x res, optional horizontal flip,
 * normalised into out (res*res*3 floats). MBN_EFAIL only when out of memory. */
int mbn_aug_resample(const uint8_t *rgb, int w, int h, const MbnWindow *win, int res, bool flip,
                     float *out);
/* The same with another per-channel mean and std (of pixel / 255). */
int mbn_aug_resample_norm(const uint8_t *rgb, int w, int h, const MbnWindow *win, int res,
                          bool flip, const float mean[3], const float std[3], float *out);

/* Decode an encoded image (JPEG/PNG bytes; `name` for messages) and pre-process it for train
 * (rng required) or eval. DCT scaling is chosen from the crop before decoding. */
int mbn_augment_encoded(const uint8_t *buf, size_t len, const char *name, int res, bool train,
                        MbnRng *rng, float *out);
/* Same for a file (what `mbn infer` uses with train = false, rng = NULL). */
int mbn_augment_file(const char *path, int res, bool train, MbnRng *rng, float *out);
/* An in-memory IDX/CIFAR image (h x w x channels uint8, channels 1 or 3), padded and resized as
 * described above. */
int mbn_augment_small(const uint8_t *pixels, int w, int h, int channels, int res, float *out);

#endif
