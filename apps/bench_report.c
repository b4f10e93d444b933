/* `mbn bench --report FILE.html`: one self-contained page a user can open anywhere (inline CSS
 * and SVG; no scripts, fonts or network), so a vendor comparison is something to look at:
 * a summary table (one row per device), images/s side by side when there are several devices,
 * and a bar chart of per-layer milliseconds per device (training: forward and backward
 * stacked in one bar per layer). The page is also well-formed XML, so tests can parse it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/bench.h"
#include "base/error.h"
#include "io/formats/atomic_file.h"

#define CHART_W 1100 /* SVG width in px */
#define LABEL_W 90   /* layer-name column */
#define VALUE_W 170  /* room right of the longest bar for its value */
#define ROW_H 17
#define BAR_H 12
#define TOP 34 /* legend and axis labels */

static void put_escaped(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            /* Control characters are not allowed in XML 1.0 text. */
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                fputc(*s, f);
            else
                fputc(' ', f);
        }
    }
}

/* A bar: one layer, its forward and (training) backward milliseconds. */
typedef struct {
    char name[24];
    double fwd, bwd;
} Bar;

static int find_bar(const Bar *bars, int n, const char *name) {
    for (int b = 0; b < n; b++)
        if (strcmp(bars[b].name, name) == 0) return b;
    return -1;
}

/* Groups "X" and "X.bwd" profile rows into one bar per layer: the network's layers in network
 * order first, then whatever else was timed (weight transposes, loss, SGD) in the order it
 * ran. A row timing two layers in one kernel ("dw2+pw2", the fused inference pair) takes the
 * place of its first layer. Layers the profile never saw get no bar. */
static int collect_bars(const MbnBenchResult *r, Bar *bars, int max) {
    const MbnProfile *p = &r->prof;
    int n = 0;
    for (int l = 0; l < r->arch.n_layers && n < max; l++) {
        memset(&bars[n], 0, sizeof bars[n]);
        snprintf(bars[n].name, sizeof bars[n].name, "%s", r->arch.layers[l].name);
        n++;
    }
    bool seen[MBN_PROFILE_MAX_LAYERS] = {false};
    for (int l = 0; l < p->n_layers; l++) {
        char base[24];
        snprintf(base, sizeof base, "%s", p->layer_names[l]);
        size_t len = strlen(base);
        bool bwd = len > 4 && strcmp(base + len - 4, ".bwd") == 0;
        if (bwd) base[len - 4] = 0;
        int b = find_bar(bars, n, base);
        const char *plus = strchr(base, '+');
        if (b < 0 && plus) {
            char first[24];
            snprintf(first, sizeof first, "%.*s", (int)(plus - base), base);
            b = find_bar(bars, n, first);
            if (b >= 0 && !seen[b])
                snprintf(bars[b].name, sizeof bars[b].name, "%s", base);
            else
                b = -1;
        }
        if (b < 0) {
            if (n == max) continue;
            b = n++;
            memset(&bars[b], 0, sizeof bars[b]);
            snprintf(bars[b].name, sizeof bars[b].name, "%s", base);
        }
        seen[b] = true;
        if (bwd)
            bars[b].bwd += p->layer_ms[l];
        else
            bars[b].fwd += p->layer_ms[l];
    }
    int kept = 0;
    for (int b = 0; b < n; b++)
        if (seen[b]) bars[kept++] = bars[b];
    return kept;
}

/* A round axis step giving about 5-10 ticks up to max. */
static double nice_step(double max) {
    if (!(max > 0)) return 1;
    double raw = max / 6, mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void axis(FILE *f, double max, double scale, int height) {
    double step = nice_step(max);
    for (int t = 0; t * step <= max * 1.0001 && t < 40; t++) {
        double x = LABEL_W + t * step * scale;
        fprintf(f,
                "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
                "<text class=\"tick\" x=\"%.1f\" y=\"%d\">%g</text>\n",
                x, TOP - 6, x, height - 4, x, TOP - 10, t * step);
    }
}

static void layer_chart(FILE *f, const MbnBenchResult *r, int index) {
    Bar bars[MBN_PROFILE_MAX_LAYERS];
    int n = collect_bars(r, bars, MBN_PROFILE_MAX_LAYERS);
    double max = 0, total = 0;
    for (int b = 0; b < n; b++) {
        if (bars[b].fwd + bars[b].bwd > max) max = bars[b].fwd + bars[b].bwd;
        total += bars[b].fwd + bars[b].bwd;
    }
    if (!(max > 0)) max = 1;
    double scale = (CHART_W - LABEL_W - VALUE_W) / (max * 1.02);
    int height = TOP + n * ROW_H + 8;
    fprintf(f,
            "<svg class=\"layers\" id=\"layers-%d\" xmlns=\"http://www.w3.org/2000/svg\" "
            "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
            index, CHART_W, height, CHART_W, height);
    fprintf(f, "<text class=\"unit\" x=\"%d\" y=\"12\">ms per step</text>\n", LABEL_W);
    if (r->train)
        fprintf(f,
                "<rect class=\"fwd\" x=\"%d\" y=\"3\" width=\"12\" height=\"10\"/>"
                "<text class=\"legend\" x=\"%d\" y=\"12\">forward</text>"
                "<rect class=\"bwd\" x=\"%d\" y=\"3\" width=\"12\" height=\"10\"/>"
                "<text class=\"legend\" x=\"%d\" y=\"12\">backward</text>\n",
                CHART_W - 250, CHART_W - 234, CHART_W - 150, CHART_W - 134);
    axis(f, max, scale, height);
    for (int b = 0; b < n; b++) {
        int y = TOP + b * ROW_H;
        double w1 = bars[b].fwd * scale, w2 = bars[b].bwd * scale, ms = bars[b].fwd + bars[b].bwd;
        fprintf(f, "<g class=\"bar\" data-layer=\"");
        put_escaped(f, bars[b].name);
        fprintf(f, "\"><text class=\"name\" x=\"%d\" y=\"%d\">", LABEL_W - 6, y + BAR_H - 1);
        put_escaped(f, bars[b].name);
        fprintf(f, "</text>");
        fprintf(f, "<rect class=\"fwd\" x=\"%d\" y=\"%d\" width=\"%.2f\" height=\"%d\"><title>",
                LABEL_W, y, w1, BAR_H);
        put_escaped(f, bars[b].name);
        fprintf(f, "%s: %.3f ms</title></rect>", r->train ? " forward" : "", bars[b].fwd);
        if (r->train && bars[b].bwd > 0) {
            fprintf(f,
                    "<rect class=\"bwd\" x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\"><title>",
                    LABEL_W + w1, y, w2, BAR_H);
            put_escaped(f, bars[b].name);
            fprintf(f, " backward: %.3f ms</title></rect>", bars[b].bwd);
        }
        fprintf(f, "<text class=\"value\" x=\"%.2f\" y=\"%d\">%.2f ms (%.1f%%)</text></g>\n",
                LABEL_W + w1 + w2 + 5, y + BAR_H - 1, ms, total > 0 ? 100 * ms / total : 0.0);
    }
    fprintf(f, "</svg>\n");
}

/* Images/s side by side, when the page compares several devices. */
static void throughput_chart(FILE *f, const MbnBenchResult *r, int n) {
    const int label_w = 330;
    double max = 0;
    for (int i = 0; i < n; i++)
        if (r[i].images_per_s > max) max = r[i].images_per_s;
    if (!(max > 0)) max = 1;
    double scale = (CHART_W - label_w - 120) / (max * 1.02);
    int height = 10 + n * 24;
    fprintf(f,
            "<svg class=\"throughput\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">\n",
            CHART_W, height, CHART_W, height);
    for (int i = 0; i < n; i++) {
        int y = 5 + i * 24;
        fprintf(f, "<text class=\"name\" x=\"%d\" y=\"%d\">%d: ", label_w - 6, y + 13,
                r[i].device_index);
        put_escaped(f, r[i].device);
        fprintf(f,
                "</text><rect class=\"fwd\" x=\"%d\" y=\"%d\" width=\"%.2f\" height=\"17\"/>"
                "<text class=\"value\" x=\"%.2f\" y=\"%d\">%.1f images/s</text>\n",
                label_w, y, r[i].images_per_s * scale, label_w + r[i].images_per_s * scale + 5,
                y + 13, r[i].images_per_s);
    }
    fprintf(f, "</svg>\n");
}

static void summary_table(FILE *f, const MbnBenchResult *r, int n) {
    fputs("<table class=\"summary\">\n<thead><tr><th>device</th><th>mode</th><th>batch</th>"
          "<th>images/s</th><th>ms/step</th><th>median ms</th><th>GFLOP/s</th><th>% of peak</th>"
          "<th>launches/step</th><th>device memory</th><th>tuning</th></tr></thead>\n<tbody>\n",
          f);
    for (int i = 0; i < n; i++) {
        fprintf(f, "<tr><td class=\"dev\">%d: ", r[i].device_index);
        put_escaped(f, r[i].device);
        fprintf(f, " <span class=\"type\">(%s)</span></td><td>%s</td><td>%d</td>", r[i].device_type,
                r[i].train ? "train" : "infer", r[i].batch);
        fprintf(f, "<td>%.1f</td><td>%.2f</td><td>%.2f</td><td>%.1f</td>", r[i].images_per_s,
                r[i].ms_per_step, r[i].median_ms_per_step, r[i].gflops);
        if (r[i].peak_gflops > 0)
            fprintf(f, "<td>%.1f%% <span class=\"type\">of %.0f</span></td>",
                    100 * r[i].gflops / r[i].peak_gflops, r[i].peak_gflops);
        else
            fputs("<td>n/a</td>", f);
        fprintf(f, "<td>%.0f</td>", r[i].launches_per_step);
        if (r[i].device_memory_bytes >= 0)
            fprintf(f, "<td>%.1f MiB</td>", (double)r[i].device_memory_bytes / (1024.0 * 1024.0));
        else
            fputs("<td>n/a</td>", f);
        fputs("<td>", f);
        put_escaped(f, r[i].tuning[0] ? r[i].tuning : "untuned");
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
}

static const char *style =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "margin:24px;color:#222;max-width:1140px}\n"
    "h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:28px 0 2px}\n"
    "p.note{color:#555;font-size:13px;margin:4px 0 14px;line-height:1.45}\n"
    "table.summary{border-collapse:collapse;font-size:13px;margin:8px 0 16px}\n"
    "table.summary th,table.summary td{border:1px solid #ccc;padding:4px 8px;text-align:right}\n"
    "table.summary th{background:#f0f0f0}table.summary td.dev{text-align:left}\n"
    "span.type{color:#777}\n"
    "svg{display:block;font-family:system-ui,'DejaVu Sans',sans-serif;font-size:11px}\n"
    "rect.fwd{fill:#4477aa}rect.bwd{fill:#ee7733}line.grid{stroke:#e3e3e3}\n"
    "text.name{text-anchor:end;fill:#222}text.value{fill:#444}\n"
    "text.tick{text-anchor:middle;fill:#777}text.unit,text.legend{fill:#444}\n";

static void page(FILE *f, const MbnBenchResult *r, int n) {
    const MbnArch *a = &r[0].arch;
    char when[64] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    fprintf(f, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n"
               "<head>\n<meta charset=\"utf-8\"/>\n");
    char label[32];
    mbn_arch_label(a, label, sizeof label);
    fprintf(f, "<title>mbn bench: MobileNet V1 %s</title>\n<style>\n%s</style>\n</head>\n", label,
            style);
    fprintf(f, "<body>\n<h1>mbn bench: MobileNet V1 %s, %d classes</h1>\n", label, a->num_classes);
    fprintf(f,
            "<p class=\"note\">%s. Random inputs; times are per step (one batch), per-layer "
            "times from OpenCL profiling events. GFLOP/s counts 2 flops per multiply-accumulate "
            "of the convolutions and the classifier (%.0f M MACs per image): inference the "
            "forward pass (%.3f GFLOP per image), training forward + weight gradients + input "
            "gradients except the stem's (%.3f GFLOP per image); BatchNorm, ReLU6, pooling, "
            "loss and SGD are not counted. Peak: the device's fp32 FMA rate measured by mbn's "
            "own kernel (cl/peak.cl).</p>\n",
            when, (double)a->macs / 1e6, mbn_arch_flop_per_image(a, false) * 1e-9,
            mbn_arch_flop_per_image(a, true) * 1e-9);
    summary_table(f, r, n);
    if (n > 1) {
        fputs("<h2>Throughput</h2>\n", f);
        throughput_chart(f, r, n);
    }
    for (int i = 0; i < n; i++) {
        fprintf(f, "<h2>%d: ", r[i].device_index);
        put_escaped(f, r[i].device);
        fprintf(f, ": %s, batch %d, %.1f images/s, %.2f ms/step</h2>\n",
                r[i].train ? "training" : "inference", r[i].batch, r[i].images_per_s,
                r[i].ms_per_step);
        layer_chart(f, &r[i], i);
    }
    fputs("</body>\n</html>\n", f);
}

int mbn_bench_write_html(const char *path, const MbnBenchResult *results, int n) {
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) return mbn_fail(MBN_EFAIL, "--report %s: out of memory", path);
    page(mem, results, n);
    if (fclose(mem) != 0) {
        free(text);
        return mbn_fail(MBN_EFAIL, "--report %s: out of memory", path);
    }
    MbnAtomicFile a;
    int rc = mbn_atomic_open(&a, path);
    if (rc == MBN_OK) rc = mbn_atomic_write(&a, text, len);
    if (rc == MBN_OK)
        rc = mbn_atomic_commit(&a);
    else
        mbn_atomic_abort(&a);
    free(text);
    return rc == MBN_OK ? MBN_OK : mbn_fail_context(MBN_EFAIL, "--report");
}
