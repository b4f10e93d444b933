/* A small writer for self-contained SVG charts (no scripts, no external fonts or links: the
 * generic "sans-serif" family, so any browser or viewer renders it offline): the document,
 * escaped text, and line-chart axes with "nice" ticks (1, 2 or 5 times a power of ten), a grid,
 * and polylines in data coordinates. Used by `mbn plot`. */
#ifndef MBN_IO_UTIL_SVG_H
#define MBN_IO_UTIL_SVG_H
#include <stdbool.h>
#include <stdio.h>

typedef struct {
    FILE *f;
} MbnSvg;

/* Axes: the plot area in SVG units and the data range it shows. */
typedef struct {
    double left, top, width, height;
    double x0, x1, y0, y1;
} MbnSvgAxes;

void mbn_svg_begin(MbnSvg *s, FILE *f, int width, int height, const char *title);
void mbn_svg_end(MbnSvg *s);
/* Text at (x, y) (baseline), anchor "start", "middle" or "end"; extra attributes are written as
 * given (e.g. "font-weight=\"bold\""), the text is escaped. */
void mbn_svg_text(MbnSvg *s, double x, double y, const char *anchor, double size, const char *extra,
                  const char *text);
void mbn_svg_line(MbnSvg *s, double x0, double y0, double x1, double y1, const char *color,
                  double width, const char *dash);
/* Writes text with &, <, >, " escaped (and control characters dropped). */
void mbn_svg_escape(FILE *f, const char *text);

/* Rounds [lo, hi] outwards to nice tick values; *step is the tick spacing. A zero-width range
 * is widened around its value. */
void mbn_svg_nice_range(double *lo, double *hi, int max_ticks, double *step);
/* Frame, grid and tick labels of ax (ticks every x_step / y_step from x0 / y0; labels printed
 * with "%g", the y labels multiplied by y_scale: 100 for percent), the title above and the axis
 * labels. */
void mbn_svg_axes(MbnSvg *s, const MbnSvgAxes *ax, double x_step, double y_step, double y_scale,
                  const char *title, const char *x_label, const char *y_label);
double mbn_svg_x(const MbnSvgAxes *ax, double x);
double mbn_svg_y(const MbnSvgAxes *ax, double y);
/* One series as a <polyline> in data coordinates (NaN points are skipped), with
 * data-run/data-series attributes naming it and data-points its point count; with markers,
 * also a circle at every point. */
void mbn_svg_series(MbnSvg *s, const MbnSvgAxes *ax, const double *x, const double *y, int n,
                    const char *color, const char *dash, bool markers, const char *run,
                    const char *series);

#endif
