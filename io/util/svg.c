#include "io/util/svg.h"

#include <math.h>
#include <string.h>

void mbn_svg_escape(FILE *f, const char *text) {
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '&')
            fputs("&amp;", f);
        else if (*c == '<')
            fputs("&lt;", f);
        else if (*c == '>')
            fputs("&gt;", f);
        else if (*c == '"')
            fputs("&quot;", f);
        else if (*c >= 0x20 || *c == '\t')
            fputc(*c, f); /* XML 1.0 allows no other control characters */
    }
}

void mbn_svg_begin(MbnSvg *s, FILE *f, int width, int height, const char *title) {
    s->f = f;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n<title>",
            width, height, width, height);
    mbn_svg_escape(f, title);
    fprintf(f, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", width, height);
}

void mbn_svg_end(MbnSvg *s) {
    fputs("</svg>\n", s->f);
}

void mbn_svg_text(MbnSvg *s, double x, double y, const char *anchor, double size, const char *extra,
                  const char *text) {
    fprintf(s->f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%g\"%s%s>", x, y,
            anchor, size, extra ? " " : "", extra ? extra : "");
    mbn_svg_escape(s->f, text);
    fputs("</text>\n", s->f);
}

void mbn_svg_line(MbnSvg *s, double x0, double y0, double x1, double y1, const char *color,
                  double width, const char *dash) {
    fprintf(s->f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
            "stroke-width=\"%g\"%s%s%s/>\n",
            x0, y0, x1, y1, color, width, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
            dash ? "\"" : "");
}

void mbn_svg_nice_range(double *lo, double *hi, int max_ticks, double *step) {
    if (!(*hi > *lo)) {
        double pad = fabs(*lo) > 0 ? fabs(*lo) * 0.1 : 1.0;
        *lo -= pad;
        *hi += pad;
    }
    double raw = (*hi - *lo) / (max_ticks > 1 ? max_ticks - 1 : 1);
    double mag = pow(10.0, floor(log10(raw)));
    double norm = raw / mag;
    double nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
    *step = nice * mag;
    /* A small tolerance keeps values already on a tick (0.1 = 1 * 0.1) from moving out. */
    *lo = floor(*lo / *step + 1e-9) * *step;
    *hi = ceil(*hi / *step - 1e-9) * *step;
}

double mbn_svg_x(const MbnSvgAxes *ax, double x) {
    return ax->left + (x - ax->x0) / (ax->x1 - ax->x0) * ax->width;
}

double mbn_svg_y(const MbnSvgAxes *ax, double y) {
    return ax->top + ax->height - (y - ax->y0) / (ax->y1 - ax->y0) * ax->height;
}

/* Tick label: %g of the value, with the rounding noise of repeated steps removed. */
static void tick_label(char *buf, size_t cap, double v, double step) {
    if (fabs(v) < step * 1e-6) v = 0;
    snprintf(buf, cap, "%.6g", v);
}

void mbn_svg_axes(MbnSvg *s, const MbnSvgAxes *ax, double x_step, double y_step, double y_scale,
                  const char *title, const char *x_label, const char *y_label) {
    char buf[64];
    double right = ax->left + ax->width, bottom = ax->top + ax->height;
    fputs("<g class=\"axes\">\n", s->f);
    for (int k = 0;; k++) {
        double v = ax->y0 + k * y_step;
        if (v > ax->y1 + y_step * 1e-6) break;
        double y = mbn_svg_y(ax, v);
        mbn_svg_line(s, ax->left, y, right, y, "#e4e4e4", 1, NULL);
        tick_label(buf, sizeof buf, v * y_scale, y_step * y_scale);
        mbn_svg_text(s, ax->left - 6, y + 4, "end", 11, "fill=\"#444\"", buf);
    }
    for (int k = 0;; k++) {
        double v = ax->x0 + k * x_step;
        if (v > ax->x1 + x_step * 1e-6) break;
        double x = mbn_svg_x(ax, v);
        mbn_svg_line(s, x, ax->top, x, bottom, "#f0f0f0", 1, NULL);
        mbn_svg_line(s, x, bottom, x, bottom + 4, "#444", 1, NULL);
        tick_label(buf, sizeof buf, v, x_step);
        mbn_svg_text(s, x, bottom + 16, "middle", 11, "fill=\"#444\"", buf);
    }
    fprintf(s->f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#444\" stroke-width=\"1\"/>\n",
            ax->left, ax->top, ax->width, ax->height);
    mbn_svg_text(s, ax->left, ax->top - 8, "start", 14, "font-weight=\"bold\"", title);
    mbn_svg_text(s, ax->left + ax->width / 2, bottom + 34, "middle", 12, NULL, x_label);
    char rot[96];
    double yl = ax->left - 46, ym = ax->top + ax->height / 2;
    snprintf(rot, sizeof rot, "transform=\"rotate(-90 %.1f %.1f)\"", yl, ym);
    mbn_svg_text(s, yl, ym, "middle", 12, rot, y_label);
    fputs("</g>\n", s->f);
}

void mbn_svg_series(MbnSvg *s, const MbnSvgAxes *ax, const double *x, const double *y, int n,
                    const char *color, const char *dash, bool markers, const char *run,
                    const char *series) {
    int points = 0;
    for (int i = 0; i < n; i++)
        points += !isnan(x[i]) && !isnan(y[i]);
    fputs("<polyline class=\"series\" data-run=\"", s->f);
    mbn_svg_escape(s->f, run);
    fprintf(s->f, "\" data-series=\"%s\" data-points=\"%d\" fill=\"none\" stroke=\"%s\" ", series,
            points, color);
    fprintf(s->f, "stroke-width=\"1.6\" stroke-linejoin=\"round\"%s%s%s points=\"",
            dash ? " stroke-dasharray=\"" : "", dash ? dash : "", dash ? "\"" : "");
    bool first = true;
    for (int i = 0; i < n; i++) {
        if (isnan(x[i]) || isnan(y[i])) continue;
        fprintf(s->f, "%s%.1f,%.1f", first ? "" : " ", mbn_svg_x(ax, x[i]), mbn_svg_y(ax, y[i]));
        first = false;
    }
    fputs("\"/>\n", s->f);
    for (int i = 0; markers && i < n; i++)
        if (!isnan(x[i]) && !isnan(y[i]))
            fprintf(s->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                    mbn_svg_x(ax, x[i]), mbn_svg_y(ax, y[i]), color);
}
