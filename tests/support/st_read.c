/* TEST HELPER ONLY: see st_read.h. A tiny JSON parser for the safetensors header. */
#include "tests/support/st_read.h"
#include "tests/support/testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end;
    int err;
} Js;

static void ws(Js *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static int expect(Js *j, char c) {
    ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    j->err = 1;
    return 0;
}

static int peek(Js *j, char c) {
    ws(j);
    return j->p < j->end && *j->p == c;
}

static void str(Js *j, char *out, size_t cap) {
    size_t n = 0;
    if (!expect(j, '"')) return;
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if (c == '\\' && j->p < j->end) {
            c = *j->p++;
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
            else if (c == 'u') { /* keep it simple: replace \uXXXX by '?' */
                j->p += 4;
                c = '?';
            }
        }
        if (n + 1 < cap) out[n++] = c;
    }
    out[n] = 0;
    expect(j, '"');
}

static long long num(Js *j) {
    ws(j);
    char *e;
    long long v = strtoll(j->p, &e, 10);
    if (e == j->p) j->err = 1;
    j->p = e;
    return v;
}

static void skip_value(Js *j);

static void skip_value(Js *j) {
    ws(j);
    if (j->p >= j->end) {
        j->err = 1;
        return;
    }
    char buf[8];
    if (*j->p == '"') {
        str(j, buf, sizeof buf);
    } else if (*j->p == '{' || *j->p == '[') {
        char close = *j->p == '{' ? '}' : ']';
        int obj = *j->p == '{';
        j->p++;
        if (peek(j, close)) {
            j->p++;
            return;
        }
        for (;;) {
            if (obj) {
                str(j, buf, sizeof buf);
                expect(j, ':');
            }
            skip_value(j);
            if (j->err) return;
            if (peek(j, ',')) {
                j->p++;
                continue;
            }
            expect(j, close);
            return;
        }
    } else {
        while (j->p < j->end && *j->p != ',' && *j->p != '}' && *j->p != ']')
            j->p++;
    }
}

int st_open(StFile *f, const char *path) {
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        printf("st_read: cannot open %s\n", path);
        return -1;
    }
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    f->buf = malloc(sz > 0 ? (size_t)sz : 1);
    f->size = (size_t)sz;
    if (!f->buf || fread(f->buf, 1, f->size, fp) != f->size) {
        fclose(fp);
        printf("st_read: cannot read %s\n", path);
        return -1;
    }
    fclose(fp);
    if (f->size < 8) goto bad;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = (hl << 8) | f->buf[i];
    if (hl > f->size - 8) goto bad;
    f->data_off = 8 + (size_t)hl;
    Js j = {(const char *)f->buf + 8, (const char *)f->buf + 8 + hl, 0};
    int cap = 64, mcap = 16;
    f->e = malloc((size_t)cap * sizeof *f->e);
    f->meta_key = malloc((size_t)mcap * sizeof *f->meta_key);
    f->meta_val = malloc((size_t)mcap * sizeof *f->meta_val);
    if (!expect(&j, '{')) goto bad;
    if (peek(&j, '}')) return 0;
    for (;;) {
        char key[160];
        str(&j, key, sizeof key);
        expect(&j, ':');
        if (j.err) goto bad;
        if (strcmp(key, "__metadata__") == 0) {
            expect(&j, '{');
            if (!peek(&j, '}'))
                for (;;) {
                    if (f->n_meta == mcap) {
                        mcap *= 2;
                        f->meta_key = realloc(f->meta_key, (size_t)mcap * sizeof *f->meta_key);
                        f->meta_val = realloc(f->meta_val, (size_t)mcap * sizeof *f->meta_val);
                    }
                    str(&j, f->meta_key[f->n_meta], sizeof f->meta_key[0]);
                    expect(&j, ':');
                    str(&j, f->meta_val[f->n_meta], sizeof f->meta_val[0]);
                    if (j.err) goto bad;
                    f->n_meta++;
                    if (peek(&j, ',')) {
                        j.p++;
                        continue;
                    }
                    break;
                }
            expect(&j, '}');
        } else {
            if (f->n == cap) {
                cap *= 2;
                f->e = realloc(f->e, (size_t)cap * sizeof *f->e);
            }
            StEntry *e = &f->e[f->n];
            memset(e, 0, sizeof *e);
            snprintf(e->name, sizeof e->name, "%s", key);
            expect(&j, '{');
            for (;;) {
                char field[32];
                str(&j, field, sizeof field);
                expect(&j, ':');
                if (strcmp(field, "dtype") == 0) {
                    str(&j, e->dtype, sizeof e->dtype);
                } else if (strcmp(field, "shape") == 0) {
                    expect(&j, '[');
                    if (peek(&j, ']'))
                        j.p++;
                    else
                        for (;;) {
                            long long v = num(&j);
                            if (e->ndim < 8) e->shape[e->ndim++] = v;
                            if (peek(&j, ',')) {
                                j.p++;
                                continue;
                            }
                            expect(&j, ']');
                            break;
                        }
                } else if (strcmp(field, "data_offsets") == 0) {
                    expect(&j, '[');
                    e->begin = (size_t)num(&j);
                    expect(&j, ',');
                    e->end = (size_t)num(&j);
                    expect(&j, ']');
                } else {
                    skip_value(&j);
                }
                if (j.err) goto bad;
                if (peek(&j, ',')) {
                    j.p++;
                    continue;
                }
                break;
            }
            expect(&j, '}');
            if (j.err || e->end < e->begin || e->end > f->size - f->data_off) goto bad;
            f->n++;
        }
        if (j.err) goto bad;
        if (peek(&j, ',')) {
            j.p++;
            continue;
        }
        expect(&j, '}');
        break;
    }
    if (j.err) goto bad;
    return 0;
bad:
    printf("st_read: %s: malformed safetensors file\n", path);
    st_close(f);
    return -1;
}

void st_close(StFile *f) {
    free(f->buf);
    free(f->e);
    free(f->meta_key);
    free(f->meta_val);
    memset(f, 0, sizeof *f);
}

const StEntry *st_find(const StFile *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->e[i].name, name) == 0) return &f->e[i];
    return NULL;
}

size_t st_numel(const StEntry *e) {
    size_t n = 1;
    for (int i = 0; i < e->ndim; i++)
        n *= (size_t)e->shape[i];
    return n;
}

static void *copy(const StFile *f, const char *name, const char *dtype, size_t *n) {
    const StEntry *e = st_find(f, name);
    if (!e) {
        printf("st_read: no tensor \"%s\"\n", name);
        return NULL;
    }
    if (strcmp(e->dtype, dtype) != 0 || e->end - e->begin != st_numel(e) * 4) {
        printf("st_read: tensor \"%s\" is %s, not %s\n", name, e->dtype, dtype);
        return NULL;
    }
    size_t bytes = e->end - e->begin;
    void *out = malloc(bytes ? bytes : 1);
    if (!out) return NULL;
    memcpy(out, f->buf + f->data_off + e->begin, bytes); /* little-endian host assumed */
    if (n) *n = st_numel(e);
    return out;
}

float *st_f32(const StFile *f, const char *name, size_t *n) {
    return copy(f, name, "F32", n);
}

double *st_f64_want(const StFile *f, const char *name, size_t want) {
    size_t n = 0;
    float *v = st_f32(f, name, &n);
    if (!v || n != want) {
        printf("FATAL: %s: %zu floats, want %zu\n", name, v ? n : 0, want);
        exit(1);
    }
    double *d = T_NEW(double, n); /* kept reachable for LeakSanitizer, as every test buffer */
    for (size_t i = 0; i < n; i++)
        d[i] = v[i];
    free(v);
    return d;
}

int32_t *st_i32(const StFile *f, const char *name, size_t *n) {
    return copy(f, name, "I32", n);
}

const char *st_meta(const StFile *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_key[i], key) == 0) return f->meta_val[i];
    return NULL;
}

int st_to_tensorset(const StFile *f, const char *prefix, MbnTensorSet *set) {
    size_t pl = strlen(prefix);
    int added = 0;
    for (int i = 0; i < f->n; i++) {
        const StEntry *e = &f->e[i];
        if (strncmp(e->name, prefix, pl) != 0 || strcmp(e->dtype, "F32") != 0) continue;
        float *d = st_f32(f, e->name, NULL);
        if (!d) return -1;
        MbnHostTensor *t = mbn_tensors_add(set, e->name + pl, e->ndim, e->shape, d);
        free(d);
        if (!t) return -1;
        added++;
    }
    return added;
}

unsigned char *st_image(const char *header, const void *data, size_t dlen, size_t *len) {
    size_t h = strlen(header), hp = (h + 7) / 8 * 8;
    unsigned char *b = malloc(8 + hp + dlen + 1);
    if (!b) {
        printf("FATAL: out of memory\n");
        exit(1);
    }
    for (int k = 0; k < 8; k++)
        b[k] = (unsigned char)((uint64_t)hp >> (8 * k));
    memcpy(b + 8, header, h);
    memset(b + 8 + h, ' ', hp - h);
    if (dlen) memcpy(b + 8 + hp, data, dlen);
    *len = 8 + hp + dlen;
    return b;
}
