/* ImageNet layout: DIR/train/<class>/<image>, DIR/val/<class>/<image>. Classes are the sorted
 * folder names of train/ (torchvision ImageFolder; byte order = Python's code-point order for
 * UTF-8 names); val/ folders map to them by name. Only files directly inside a class folder with
 * a JPEG/jpg/jpeg/png extension (any case) are samples; they are decoded later, so a corrupt
 * file is found (and skipped) by the loader, not here. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/error.h"
#include "io/data/augment.h"
#include "io/data/readers.h"

typedef struct {
    char **items;
    int n, cap;
} NameList;

static void names_free(NameList *l) {
    for (int i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = l->cap = 0;
}

static int names_push(NameList *l, const char *s) {
    if (l->n == l->cap) {
        int c = l->cap ? l->cap * 2 : 64;
        char **grown = realloc(l->items, sizeof *grown * (size_t)c);
        if (!grown) return mbn_fail(MBN_EFAIL, "out of host memory listing %s", s);
        l->items = grown;
        l->cap = c;
    }
    if (!(l->items[l->n] = strdup(s))) return mbn_fail(MBN_EFAIL, "out of host memory");
    l->n++;
    return MBN_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_image_ext(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return false;
    return strcasecmp(dot, ".jpeg") == 0 || strcasecmp(dot, ".jpg") == 0 ||
           strcasecmp(dot, ".png") == 0;
}

/* Sorted entries of dir: sub-folders when want_dirs, else image files. An entry that cannot be
 * stat'ed (a broken symlink) counts as a file so the loader reports it by name. */
static int list_dir(const char *dir, bool want_dirs, NameList *out) {
    DIR *d = opendir(dir);
    if (!d) return mbn_fail(MBN_EFAIL, "%s: cannot open folder: %s", dir, strerror(errno));
    struct dirent *e;
    int rc = MBN_OK;
    while (rc == MBN_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue; /* ., .., and hidden files (macOS ._* debris) */
        char path[2200];
        if (mbn_path_join(path, sizeof path, dir, e->d_name) != MBN_OK) {
            mbn_warn("%s/%s: path too long, ignored", dir, e->d_name);
            continue;
        }
        bool is_dir = mbn_is_dir(path);
        if (want_dirs ? is_dir : (!is_dir && has_image_ext(e->d_name)))
            rc = names_push(out, e->d_name);
    }
    closedir(d);
    if (rc == MBN_OK && out->n > 1) qsort(out->items, (size_t)out->n, sizeof(char *), cmp_str);
    return rc;
}

static int add_samples(MbnDataset *ds, const char *class_dir, int label, int64_t *cap) {
    NameList files = {0};
    MBN_TRY(list_dir(class_dir, false, &files));
    if (files.n == 0) mbn_warn("%s: no images in class folder", class_dir);
    int rc = MBN_OK;
    for (int i = 0; i < files.n && rc == MBN_OK; i++) {
        if (ds->count == *cap) {
            int64_t c = *cap ? *cap * 2 : 1024;
            char **p = realloc(ds->paths, sizeof *p * (size_t)c);
            int32_t *l = realloc(ds->labels, sizeof *l * (size_t)c);
            if (p) ds->paths = p;
            if (l) ds->labels = l;
            if (!p || !l) {
                rc = mbn_fail(MBN_EFAIL, "out of host memory listing %s", class_dir);
                break;
            }
            *cap = c;
        }
        char path[2300];
        rc = mbn_path_join(path, sizeof path, class_dir, files.items[i]);
        if (rc == MBN_OK && !(ds->paths[ds->count] = strdup(path)))
            rc = mbn_fail(MBN_EFAIL, "out of host memory");
        if (rc == MBN_OK) ds->labels[ds->count++] = label;
    }
    names_free(&files);
    return rc;
}

static int find_class(const MbnDataset *ds, const char *name) {
    char *const *hit =
        bsearch(&name, ds->class_names, (size_t)ds->num_classes, sizeof(char *), cmp_str);
    return hit ? (int)(hit - ds->class_names) : -1;
}

/* Classes from train/ (or, for an eval-only folder with no train/, from val/). */
static int read_classes(MbnDataset *ds, const char *class_root) {
    NameList classes = {0};
    MBN_TRY(list_dir(class_root, true, &classes));
    if (classes.n == 0) {
        names_free(&classes);
        return mbn_fail(MBN_EFAIL, "%s: no class folders", class_root);
    }
    ds->class_names = classes.items;
    ds->num_classes = classes.n;
    return MBN_OK;
}

static bool imagefolder_detect(const char *dir) {
    char train[1100], val[1100];
    return (mbn_path_join(train, sizeof train, dir, "train") == MBN_OK && mbn_is_dir(train)) ||
           (mbn_path_join(val, sizeof val, dir, "val") == MBN_OK && mbn_is_dir(val));
}

/* Samples are image files, decoded (JPEG/PNG) on demand: a corrupt one is only found here. */
static int imagefolder_sample(const MbnDataset *ds, int64_t idx, int res, bool train, MbnRng *rng,
                              float *out) {
    return mbn_augment_file(ds->paths[idx], res, train, rng, out);
}

static int imagefolder_sample_recorded(const MbnDataset *ds, int64_t idx, const MbnPreprocess *p,
                                       int res, float *out) {
    return mbn_preprocess_file(p, ds->paths[idx], res, out);
}

/* Photos: the ImageNet eval pipeline (resize the shorter side to res / 0.875, centre crop). */
static void imagefolder_pipeline(const MbnDataset *ds, MbnPreprocess *p) {
    (void)ds;
    mbn_preprocess_imagenet(p);
}

static int imagefolder_open(MbnDataset *ds) {
    char train[1100], split_dir[1100];
    MBN_TRY(mbn_path_join(train, sizeof train, ds->root, "train"));
    MBN_TRY(mbn_path_join(split_dir, sizeof split_dir, ds->root,
                          ds->split == MBN_SPLIT_TRAIN ? "train" : "val"));
    if (!mbn_is_dir(split_dir))
        return mbn_fail(MBN_EFAIL, "%s: missing (no %s split)", split_dir,
                        ds->split == MBN_SPLIT_TRAIN ? "train" : "val");
    MBN_TRY(read_classes(ds, mbn_is_dir(train) ? train : split_dir));
    NameList folders = {0};
    MBN_TRY(list_dir(split_dir, true, &folders));
    int64_t cap = 0;
    int rc = MBN_OK;
    for (int i = 0; i < folders.n && rc == MBN_OK; i++) {
        int label = find_class(ds, folders.items[i]);
        if (label < 0) {
            rc = mbn_fail(MBN_EFAIL, "%s/%s: class folder not in %s", split_dir, folders.items[i],
                          train);
            break;
        }
        char class_dir[2200];
        rc = mbn_path_join(class_dir, sizeof class_dir, split_dir, folders.items[i]);
        if (rc == MBN_OK) rc = add_samples(ds, class_dir, label, &cap);
    }
    names_free(&folders);
    if (rc == MBN_OK && ds->count == 0)
        rc = mbn_fail(MBN_EFAIL, "%s: no images (.JPEG/.jpg/.jpeg/.png) in any class folder",
                      split_dir);
    return rc;
}

const MbnDataReader mbn_reader_imagefolder = {
    "imagefolder",      imagefolder_detect,          imagefolder_open,
    imagefolder_sample, imagefolder_sample_recorded, imagefolder_pipeline};
