/* mbn: MobileNet V1 image classification on any OpenCL device, as a C library (SPEC §7).
 *
 *   MbnModel *m;
 *   if (mbn_model_open("model.ckpt", NULL, &m) != 0) { puts(mbn_last_error()); return 1; }
 *   int cls[5];
 *   float prob[5];
 *   if (mbn_model_classify_file(m, "cat.jpg", 5, cls, prob) == 0) {
 *       const char *name = mbn_model_label(m, cls[0]);
 *       printf("%s %.3f\n", name ? name : "?", prob[0]);
 *   }
 *   mbn_model_close(m);
 *
 * Build: cc app.c $(pkg-config --cflags --libs mbn)
 *
 * Models: an mbn checkpoint (.ckpt) or safetensors weights in timm's names (.safetensors). The
 * preprocessing the model was trained for (its record: channels, padding of small images,
 * resize and centre crop, mean/std) is applied to every image; a file without a record gets
 * the ImageNet evaluation defaults (mbn_model_preprocessing says which).
 *
 * Errors: every function that can fail returns 0 on success and a non-zero MBN_STATUS_* code
 * on failure; mbn_last_error() then gives the reason as one line ("x.ckpt: checksum mismatch
 * (file damaged)"), the same text the mbn command prints after "mbn: error: " (which names
 * parameters as its flags: "--batch-size 0" where the library says "batch_size 0"). The library
 * never prints to stdout. On stderr it prints only what the mbn command prints in the same
 * situation, as "mbn: warning: ..." or "mbn: ..." lines, or hands them to the callback of
 * mbn_set_log_callback instead: a note "compiling kernels for <device> (first run only)" before
 * the first model of a shape and batch on a device compiles its kernels (seconds; once per
 * device and process; later runs use the drivers' caches), a warning when a driver rejects a
 * cached program or a tuning entry, the OpenCL build log when the kernels fail to build, a
 * warning naming each unreadable file in mbn_model_classify_files, and, only when the
 * environment variable MBN_KERNELS forces a kernel family (a testing knob), which ops had to run
 * another kernel, when a model is closed.
 *
 * Threads: one MbnModel must not be used by two threads at the same time (calls on the same
 * handle must be serialised by the caller). Different models may be used concurrently from
 * different threads, also when they share a device (on PoCL, whose queues must not run at the
 * same time, models on one device take turns for their device work). mbn_model_open and
 * mbn_model_close may be called from any thread at any time. mbn_last_error() is per thread: it
 * reports the last failure of a call made by the calling thread.
 *
 * Devices: all models opened on the same OpenCL device share one OpenCL context, one compiled
 * program and CLBlast's compiled kernels (so a second model opens without compiling anything);
 * each model has its own command queue and kernel objects. This sharing is the library's only
 * process-wide state besides the per-thread error message: a registry of open devices, guarded
 * by a mutex, holding a device only while a model on it is open. */
#ifndef MBN_H
#define MBN_H

#ifdef __cplusplus
extern "C" {
#endif

#define MBN_VERSION_MAJOR 0
#define MBN_VERSION_MINOR 1
#define MBN_VERSION_PATCH 0

/* Return codes (0 is success). */
#define MBN_STATUS_OK 0
#define MBN_STATUS_FAILED 1       /* a runtime failure: unreadable file, device error, ... */
#define MBN_STATUS_BAD_ARGUMENT 2 /* invalid argument: NULL pointer, top_k out of range, ... */

typedef struct MbnModel MbnModel;

/* Opens a checkpoint or safetensors file on a device: NULL (or "") means the environment
 * variable MBN_DEVICE, else the first GPU, else the first OpenCL device; otherwise an index as
 * listed by `mbn devices` or a case-insensitive part of the device name, as `--device`. When
 * labels.txt (one class name per line) lies beside the file, its names are loaded. */
int mbn_model_open(const char *weights_path, const char *device, MbnModel **out);
int mbn_model_num_classes(const MbnModel *m);
/* Class name, or NULL when the model has no labels (or the index is out of range). */
const char *mbn_model_label(const MbnModel *m, int class_index);

/* The top_k classes of an image file (JPEG or PNG), highest probability first: classes[i] and
 * probs[i] for i < top_k (1 <= top_k <= number of classes). */
int mbn_model_classify_file(MbnModel *m, const char *image_path, int top_k, int *classes,
                            float *probs);
/* The same for 8-bit interleaved RGB pixels in memory, rows row_stride_bytes apart
 * (>= 3 * width); at most 16384 pixels per side and 100 megapixels, as for files. */
int mbn_model_classify_rgb(MbnModel *m, const unsigned char *rgb, int width, int height,
                           int row_stride_bytes, int top_k, int *classes, float *probs);
void mbn_model_close(MbnModel *m);
const char *mbn_last_error(void);

/* ---- beyond SPEC §7 ---- */

/* The network's input side in pixels (the resolution it was trained at). */
int mbn_model_resolution(const MbnModel *m);
/* One line describing the preprocessing applied to every image, ending in
 * " [defaults: no record]" when the file did not record it. */
const char *mbn_model_preprocessing(const MbnModel *m);
/* Replaces the class names with those of a labels file (one name per line, as many lines as the
 * model has classes). */
int mbn_model_load_labels(MbnModel *m, const char *labels_path);
/* Many files at once: images are decoded on up to `workers` threads (0: the number of cores)
 * and classified in batches of up to `batch_size`. Results for image i are at classes[i * top_k]
 * and probs[i * top_k]; status[i] is 0, or non-zero when that image could not be read (its
 * classes are then -1 and its probabilities 0; a warning naming the file goes to stderr, as the
 * mbn command prints it). Returns non-zero only when the run itself failed. */
int mbn_model_classify_files(MbnModel *m, const char *const *image_paths, int n, int top_k,
                             int batch_size, int workers, int *classes, float *probs, int *status);
/* "0.1.0" */
const char *mbn_version(void);
/* mbn_model_open in a precision: "fp32" (what mbn_model_open runs), "fp16" (the weights, with
 * BatchNorm folded in, and the activations stored as half and computed in float, or in half on
 * devices with cl_khr_fp16; about half the device memory; on the Fashion-MNIST and photo models
 * measured in docs/DEPLOY.md the same top-1 and probabilities within 1e-2 of fp32's) or
 * "auto" (fp16 where the device has cl_khr_fp16 and is measured faster with it, else fp32);
 * NULL means "fp32". Where the device shares memory with the host, the input image and the
 * probabilities go through mapped buffers instead of copies, in every precision. */
int mbn_model_open_precision(const char *weights_path, const char *device, const char *precision,
                             MbnModel **out);
/* The precision the model runs in: "fp32" or "fp16" (auto resolved). */
const char *mbn_model_precision(const MbnModel *m);

/* Where the library's warnings and notes go (see "Errors" above): callback(level, message,
 * user_data) with level MBN_LOG_WARNING or MBN_LOG_NOTE and the message without the "mbn: ..."
 * prefix, called from the thread that hit the event; NULL restores stderr. Process-wide (the
 * library's one setting that is): set it before opening models. */
#define MBN_LOG_WARNING 1
#define MBN_LOG_NOTE 2
typedef void (*MbnLogCallback)(int level, const char *message, void *user_data);
void mbn_set_log_callback(MbnLogCallback callback, void *user_data);

#ifdef __cplusplus
}
#endif

#endif
