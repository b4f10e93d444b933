/* The preprocessing record (io/data/preprocess.h) as text key/value pairs, the one form it takes
 * in checkpoint meta (string entries), safetensors "__metadata__" and ONNX metadata_props:
 *
 *   preprocess.version        "1"
 *   preprocess.resolution     "32"               network input side, px
 *   preprocess.channels       "gray" | "rgb"
 *   preprocess.pad_to         "32"               0: no padding
 *   preprocess.resize         "shorter_side_center_crop"
 *   preprocess.crop_fraction  "1" | "0.875"      shorter side -> round(resolution / fraction)
 *   preprocess.interpolation  "bilinear"         half-pixel centres, no antialiasing
 *   preprocess.pixel_divisor  "255"
 *   preprocess.mean           "0.485,0.456,0.406"
 *   preprocess.std            "0.229,0.224,0.225"
 *   preprocess.layout         "NHWC"             (mbn's own input; the ONNX graph takes NCHW)
 *
 * Numbers are written as the shortest decimal that reads back as the same float. A file without
 * preprocess.version has no record; one with a version this mbn does not know, or a value it
 * cannot apply, is refused with an error naming the key. */
#ifndef MBN_IO_FORMATS_PREPROCESS_RECORD_H
#define MBN_IO_FORMATS_PREPROCESS_RECORD_H
#include <stdbool.h>

#include "io/data/preprocess.h"
#include "io/formats/checkpoint.h"
#include "io/formats/safetensors.h"

#define MBN_PREPROCESS_RECORD_VERSION 1
#define MBN_PREPROCESS_MAX_PAIRS 12

typedef struct {
    char key[32];
    char value[64];
} MbnRecordPair;

/* Fills pairs (MBN_PREPROCESS_MAX_PAIRS entries of room); returns how many. */
int mbn_preprocess_to_pairs(const MbnPreprocess *p, int resolution, MbnRecordPair *pairs);

/* Looks a key up in whatever holds the pairs; NULL when absent. */
typedef const char *(*MbnRecordLookup)(const void *source, const char *key);

/* Reads the record from `source`. No record: *p = the ImageNet defaults with recorded = false,
 * MBN_OK. A record: recorded = true and *resolution (when not NULL) gets its resolution. Bad
 * record: MBN_EFAIL naming `file` and the key. */
int mbn_preprocess_from_pairs(MbnRecordLookup lookup, const void *source, const char *file,
                              MbnPreprocess *p, int *resolution);

/* The record in a checkpoint's meta (string entries) and in safetensors metadata. Writing an
 * unrecorded pipeline (recorded = false) writes nothing, so defaults never pose as a record. */
int mbn_preprocess_write_ckpt(MbnCheckpoint *ck, const MbnPreprocess *p, int resolution);
int mbn_preprocess_read_ckpt(const MbnCheckpoint *ck, const char *file, MbnPreprocess *p);
int mbn_preprocess_read_st(const MbnStMetadata *meta, const char *file, MbnPreprocess *p,
                           int *resolution);

#endif
