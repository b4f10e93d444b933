/* Decodes arbitrary bytes as an image (JPEG or PNG by signature) and runs the train and eval
 * pre-processing on it, as the loader does, and the preprocessing records `mbn infer` and the
 * library apply (ImageNet; IDX-style gray with padding to 32). Any crash, leak or UB is a bug;
 * errors are the expected outcome for most inputs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "io/data/augment.h"
#include "io/data/image_decode.h"
#include "io/data/preprocess.h"
#include "base/rng.h"

#define RES 48

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static float out[RES * RES * 3];
    MbnRng rng;
    mbn_rng_seed(&rng, size);
    (void)mbn_augment_encoded(data, size, "fuzz", RES, true, &rng, out);
    (void)mbn_augment_encoded(data, size, "fuzz", RES, false, NULL, out);
    /* A tiny target makes DCT scaling pick 1/8; a larger one keeps full size. */
    (void)mbn_augment_encoded(data, size, "fuzz", 8, false, NULL, out);
    MbnPreprocess photo, gray;
    mbn_preprocess_imagenet(&photo);
    mbn_preprocess_small(&gray, true);
    (void)mbn_preprocess_encoded(&photo, data, size, "fuzz", RES, out);
    (void)mbn_preprocess_encoded(&gray, data, size, "fuzz", RES, out);
    int w, h;
    if (mbn_image_probe(data, size, "fuzz", &w, &h) == 0) {
        MbnImage img;
        if (mbn_image_decode(data, size, "fuzz", 1.0, &img) == 0) mbn_image_free(&img);
    }
    return 0;
}
