#include "data_util.h"

#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

int tu_failures;

int tu_tempdir(char *out, size_t cap) {
    if (cap < 32) return -1;
    strcpy(out, "/tmp/mbn_test_XXXXXX");
    return mkdtemp(out) ? 0 : -1;
}

void tu_rmtree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            tu_rmtree(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

int tu_mkdirs(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        mkdir(tmp, 0755);
        *p = '/';
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

int tu_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    return fclose(f) == 0 && w == n ? 0 : -1;
}

const char *tu_path(const char *fmt, ...) {
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, 4096, fmt, ap);
    va_end(ap);
    return b;
}

uint8_t *tu_jpeg(const uint8_t *pix, int w, int h, int pf, int subsamp, int quality, size_t *size) {
    tjhandle tj = tjInitCompress();
    if (!tj) return NULL;
    unsigned char *jpeg = NULL;
    unsigned long n = 0;
    int rc = tjCompress2(tj, pix, w, 0, h, pf, &jpeg, &n, subsamp, quality, 0);
    tjDestroy(tj);
    if (rc != 0) {
        tjFree(jpeg);
        return NULL;
    }
    uint8_t *out = malloc(n);
    if (out) memcpy(out, jpeg, n);
    tjFree(jpeg);
    *size = n;
    return out;
}

void tu_pattern(uint8_t *rgb, int w, int h, unsigned seed) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(x * 255 / (w > 1 ? w - 1 : 1));
            p[1] = (uint8_t)(y * 255 / (h > 1 ? h - 1 : 1));
            p[2] = (uint8_t)(((x / 8 + y / 8 + seed) & 1) ? 200 : 40);
        }
}

int tu_write_png(const char *path, const uint8_t *pix, int w, int h, int channels) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    im.format = channels == 1 ? PNG_FORMAT_GRAY : channels == 4 ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    return png_image_write_to_file(&im, path, 0, pix, 0, NULL) ? 0 : -1;
}
