/* svg — see svg.h. */
#include "reports/svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ledger.h"
#include "reports/text.h"

#define W 900
#define H 280
#define L 64.0           /* plot area */
#define R (W - 16.0)
#define T 14.0
#define B (H - 38.0)

static const char *const run_colors[REPORT_MAX_RUNS] = {"#2b7bb9", "#d9480f", "#2f9e44", "#9c36b5",
							"#c2255c", "#1098ad", "#e67700", "#5c940d"};
/* One per class, SPEC order (ok first, unused in failure charts). */
static const char *const class_colors[TP_CLASS_COUNT] = {
	"#40c057", "#868e96", "#495057", "#f08c00", "#e8590c", "#d6336c", "#ae3ec9",
	"#7048e8", "#4263eb", "#c92a2a", "#e03131", "#f76707", "#1c7ed6", "#5f3dc4"};

const char *svg_run_color(size_t run) { return run_colors[run % REPORT_MAX_RUNS]; }
const char *svg_class_color(int cls) { return cls >= 0 && cls < TP_CLASS_COUNT ? class_colors[cls] : "#888"; }

static void open_svg(FILE *out, const char *id, const char *what)
{
	fprintf(out, "<svg id=\"%s\" class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
		     "aria-label=\"%s\">\n<title>%s</title>\n",
		id, W, H, W, H, what, what);
}

static void hgrid(FILE *out, double y, const char *label)
{
	fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		     "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
		L, y, R, y, L - 5, y + 4, label);
}

static void vgrid(FILE *out, double x, const char *label)
{
	fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		     "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
		x, T, x, B, x, B + 16, label);
}

void svg_legend(FILE *out, const struct report_run *runs, size_t n)
{
	fprintf(out, "<p class=\"legend\">");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<span><i class=\"sw\" style=\"background:%s\"></i>", svg_run_color(i));
		report_escape(out, runs[i].label);
		fprintf(out, "</span>");
	}
	fprintf(out, "</p>\n");
}

/* ---- latency by percentile ---- */

static double nines_of(double pct) { return pct >= 99.99 ? 4.0 : -log10(1.0 - pct / 100.0); }
static double pct_of(double nines) { return 100.0 * (1.0 - pow(10.0, -nines)); }

/* Latency (ms) at percentile pct: from the histogram, else the run's stated points. */
static double latency_at(const struct report_run *run, double pct)
{
	if (run->hist && run->hist->total)
		return (double)hist_percentile(run->hist, pct) / 1000.0;
	json_t *lat = json_object_get(run->doc, "latency_ms");
	static const struct {
		double pct;
		const char *key;
	} pts[] = {{0, "min"}, {50, "p50"}, {90, "p90"}, {99, "p99"}, {99.9, "p999"}, {100, "max"}};
	/* Step function through the stated points: the value of the next stated one. */
	for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++)
		if (pct <= pts[i].pct && json_is_number(json_object_get(lat, pts[i].key)))
			return json_number_value(json_object_get(lat, pts[i].key));
	return json_number_value(json_object_get(lat, "max"));
}

void svg_percentiles(FILE *out, const struct report_run *runs, size_t n)
{
	enum { STEPS = 160 };
	double lo = INFINITY, hi = 0;
	for (size_t r = 0; r < n; r++)
		for (int k = 0; k <= STEPS; k++) {
			double v = latency_at(&runs[r], pct_of(4.0 * k / STEPS));
			if (v > 0 && v < lo)
				lo = v;
			if (v > hi)
				hi = v;
		}
	if (!(hi > 0)) {
		fprintf(out, "<p id=\"percentiles\" class=\"mute\">no latency data</p>\n");
		return;
	}
	double e0 = floor(log10(lo)), e1 = ceil(log10(hi));
	if (e1 <= e0)
		e1 = e0 + 1;
	open_svg(out, "percentiles", "latency by percentile, log scale");
	static const char *const xl[] = {"p0", "p90", "p99", "p99.9", "p99.99"};
	for (int k = 0; k <= 4; k++)
		vgrid(out, L + (R - L) * k / 4.0, xl[k]);
	for (double e = e0; e <= e1; e++) {
		char label[32];
		snprintf(label, sizeof label, "%g ms", pow(10, e));
		hgrid(out, B - (B - T) * (e - e0) / (e1 - e0), label);
	}
	for (size_t r = 0; r < n; r++) {
		fprintf(out, "<polyline class=\"curve\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
			svg_run_color(r));
		for (int k = 0; k <= STEPS; k++) {
			double nines = 4.0 * k / STEPS, v = latency_at(&runs[r], pct_of(nines));
			double ly = v > 0 ? log10(v) : e0;
			fprintf(out, "%.1f,%.1f ", L + (R - L) * nines / 4.0, B - (B - T) * (ly - e0) / (e1 - e0));
		}
		fprintf(out, "\"/>\n");
		static const double marks[] = {50, 90, 99, 99.9, 99.99};
		for (size_t k = 0; k < sizeof marks / sizeof marks[0]; k++) {
			double v = latency_at(&runs[r], marks[k]), ly = v > 0 ? log10(v) : e0;
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>", L + (R - L) * nines_of(marks[k]) / 4.0,
				B - (B - T) * (ly - e0) / (e1 - e0), svg_run_color(r));
			report_escape(out, runs[r].label);
			fprintf(out, " p%g: %.3f ms</title></circle>\n", marks[k], v);
		}
	}
	fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">percentile</text>\n</svg>\n", (L + R) / 2,
		H - 4);
	svg_legend(out, runs, n);
}

/* ---- time series ---- */

struct column {
	double completed, ok;
	double failed[TP_CLASS_COUNT];
	double p50, p99;
	bool any;
};

/* Bins a run's time series into at most SVG_MAX_COLUMNS columns of *width seconds.
 * Returns the number of columns (0 when none); *cols is malloc'ed. */
static size_t columns_of(json_t *doc, struct column **cols, double *width)
{
	json_t *series = json_object_get(doc, "timeseries");
	double step = (double)json_integer_value(json_object_get(doc, "timeseries_step_s"));
	if (step < 1)
		step = 1;
	double tmax = 0;
	size_t i;
	json_t *s;
	json_array_foreach(series, i, s) {
		double t = json_number_value(json_object_get(s, "t"));
		if (t >= 0 && t + step > tmax && t < 1e9)
			tmax = t + step;
	}
	*cols = NULL;
	if (tmax <= 0)
		return 0;
	*width = fmax(step, ceil(tmax / SVG_MAX_COLUMNS));
	size_t n = (size_t)ceil(tmax / *width);
	if (n > SVG_MAX_COLUMNS)
		n = SVG_MAX_COLUMNS;
	if (!(*cols = calloc(n, sizeof **cols)))
		return 0;
	json_array_foreach(series, i, s) {
		double t = json_number_value(json_object_get(s, "t"));
		if (!(t >= 0) || t >= tmax)
			continue;
		size_t c = (size_t)(t / *width);
		if (c >= n)
			c = n - 1;
		struct column *col = &(*cols)[c];
		col->any = true;
		col->completed += (double)json_integer_value(json_object_get(s, "completed"));
		col->ok += (double)json_integer_value(json_object_get(s, "ok"));
		const char *key;
		json_t *v;
		json_object_foreach(json_object_get(s, "failed"), key, v) {
			int cls = tp_class_from_name(key);
			if (cls > 0)
				col->failed[cls] += (double)json_integer_value(v);
		}
		col->p50 = fmax(col->p50, json_number_value(json_object_get(s, "p50_ms")));
		col->p99 = fmax(col->p99, json_number_value(json_object_get(s, "p99_ms")));
	}
	return n;
}

struct binned {
	struct column *cols;
	size_t n;
	double width;
};

static double bin_runs(const struct report_run *runs, size_t n, struct binned *b)
{
	double span = 0;
	for (size_t r = 0; r < n; r++) {
		b[r].n = columns_of(runs[r].doc, &b[r].cols, &b[r].width);
		span = fmax(span, (double)b[r].n * b[r].width);
	}
	return span;
}

static void free_bins(struct binned *b, size_t n)
{
	for (size_t r = 0; r < n; r++)
		free(b[r].cols);
}

static void time_axis(FILE *out, double span)
{
	for (int k = 0; k <= 5; k++) {
		char label[32];
		snprintf(label, sizeof label, "%.3gs", span * k / 5.0);
		vgrid(out, L + (R - L) * k / 5.0, label);
	}
}

void svg_throughput(FILE *out, const struct report_run *runs, size_t n)
{
	struct binned b[REPORT_MAX_RUNS] = {{0}};
	double span = bin_runs(runs, n, b), ymax = 0;
	for (size_t r = 0; r < n; r++)
		for (size_t c = 0; c < b[r].n; c++)
			ymax = fmax(ymax, b[r].cols[c].completed / b[r].width);
	if (span <= 0 || ymax <= 0) {
		fprintf(out, "<p id=\"throughput\" class=\"mute\">no time series in the run file</p>\n");
		free_bins(b, n);
		return;
	}
	open_svg(out, "throughput", "requests completed and failed per second");
	time_axis(out, span);
	for (int k = 0; k <= 4; k++) {
		char label[32];
		snprintf(label, sizeof label, "%.4g/s", ymax * k / 4.0);
		hgrid(out, B - (B - T) * k / 4.0, label);
	}
	double slot = (R - L) / (span > 0 ? span : 1);
	for (size_t r = 0; r < n; r++) {
		/* Failures: a bar per column, stacked by class, side by side across runs. */
		double bw = fmax(1.5, slot * b[r].width / (double)n * 0.8);
		for (size_t c = 0; c < b[r].n; c++) {
			double x = L + slot * b[r].width * (double)c + bw * (double)r, y = B;
			for (int cls = 1; cls < TP_CLASS_COUNT; cls++) {
				double v = b[r].cols[c].failed[cls] / b[r].width;
				if (v <= 0)
					continue;
				double h = (B - T) * v / ymax;
				y -= h;
				fprintf(out, "<rect class=\"fail\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
					     "<title>", x, y, bw, h, svg_class_color(cls));
				report_escape(out, runs[r].label);
				fprintf(out, " %.0fs: %.4g/s %s</title></rect>\n", b[r].width * (double)c, v,
					tp_class_name(cls));
			}
		}
		fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", svg_run_color(r));
		for (size_t c = 0; c < b[r].n; c++)
			fprintf(out, "%.1f,%.1f ", L + slot * b[r].width * ((double)c + 0.5),
				B - (B - T) * b[r].cols[c].completed / b[r].width / ymax);
		fprintf(out, "\"/>\n");
		if (b[r].n <= 60)
			for (size_t c = 0; c < b[r].n; c++)
				fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
					L + slot * b[r].width * ((double)c + 0.5),
					B - (B - T) * b[r].cols[c].completed / b[r].width / ymax, svg_run_color(r));
	}
	fprintf(out, "</svg>\n");
	svg_legend(out, runs, n);
	free_bins(b, n);
}

void svg_latency_time(FILE *out, const struct report_run *runs, size_t n)
{
	struct binned b[REPORT_MAX_RUNS] = {{0}};
	double span = bin_runs(runs, n, b), ymax = 0;
	for (size_t r = 0; r < n; r++)
		for (size_t c = 0; c < b[r].n; c++)
			ymax = fmax(ymax, b[r].cols[c].p99);
	if (span <= 0 || ymax <= 0) {
		fprintf(out, "<p id=\"latency-time\" class=\"mute\">no per-second latency in the run file</p>\n");
		free_bins(b, n);
		return;
	}
	open_svg(out, "latency-time", "latency p50 (dashed) and p99 per second");
	time_axis(out, span);
	for (int k = 0; k <= 4; k++) {
		char label[32];
		snprintf(label, sizeof label, "%.4g ms", ymax * k / 4.0);
		hgrid(out, B - (B - T) * k / 4.0, label);
	}
	double slot = (R - L) / span;
	for (size_t r = 0; r < n; r++)
		for (int which = 0; which < 2; which++) {
			fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", svg_run_color(r),
				which ? "" : " stroke-dasharray=\"5 4\"");
			for (size_t c = 0; c < b[r].n; c++) {
				if (!b[r].cols[c].any)
					continue;
				double v = which ? b[r].cols[c].p99 : b[r].cols[c].p50;
				fprintf(out, "%.1f,%.1f ", L + slot * b[r].width * ((double)c + 0.5), B - (B - T) * v / ymax);
			}
			fprintf(out, "\"/>\n");
			if (b[r].n <= 60)
				for (size_t c = 0; c < b[r].n; c++)
					if (b[r].cols[c].any)
						fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
							L + slot * b[r].width * ((double)c + 0.5),
							B - (B - T) * (which ? b[r].cols[c].p99 : b[r].cols[c].p50) / ymax,
							svg_run_color(r));
		}
	fprintf(out, "</svg>\n");
	svg_legend(out, runs, n);
	free_bins(b, n);
}

void svg_classes(FILE *out, const struct report_run *runs, size_t n)
{
	const double row = 30, top = 8, left = 140, right = W - 16;
	int h = (int)(top * 2 + row * (double)n + 20);
	fprintf(out, "<svg id=\"classes-chart\" class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
		     "role=\"img\" aria-label=\"requests by class\">\n"
		     "<title>requests by class</title>\n", W, h, W, h);
	for (size_t r = 0; r < n; r++) {
		json_t *classes = json_object_get(runs[r].doc, "classes");
		double req = (double)json_integer_value(json_object_get(runs[r].doc, "requests"));
		double y = top + row * (double)r, x = left;
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 8, y + row / 2 + 4);
		report_escape(out, runs[r].label);
		fprintf(out, "</text>\n");
		for (int c = 0; c < TP_CLASS_COUNT && req > 0; c++) {
			double v = (double)json_integer_value(json_object_get(classes, tp_class_name(c)));
			if (v <= 0)
				continue;
			double w = (right - left) * v / req;
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", x,
				y + 4, w, row - 8, svg_class_color(c));
			report_escape(out, runs[r].label);
			fprintf(out, ": %s %.0f of %.0f (%.1f%%)</title></rect>\n", tp_class_name(c), v, req, 100 * v / req);
			if (w > 90)
				fprintf(out, "<text class=\"onbar\" x=\"%.1f\" y=\"%.1f\">%s %.0f</text>\n", x + 4,
					y + row / 2 + 4, tp_class_name(c), v);
			x += w;
		}
	}
	fprintf(out, "</svg>\n<p class=\"legend\">");
	for (int c = 0; c < TP_CLASS_COUNT; c++) {
		bool seen = false;
		for (size_t r = 0; r < n; r++)
			seen |= json_integer_value(json_object_get(json_object_get(runs[r].doc, "classes"), tp_class_name(c))) > 0;
		if (seen)
			fprintf(out, "<span><i class=\"sw\" style=\"background:%s\"></i>%s</span>", svg_class_color(c),
				tp_class_name(c));
	}
	fprintf(out, "</p>\n");
}

/* ---- per-phase latency ---- */

static const char *const phase_names[] = {"dns", "connect", "proxy", "tls", "first_byte"};

bool svg_has_phases(const struct report_run *runs, size_t n)
{
	for (size_t r = 0; r < n; r++)
		if (json_is_object(json_object_get(runs[r].doc, "phases_ms")))
			return true;
	return false;
}

/* One phase: a row per run, bars to p50, p90 and p99 (darker is lower), a tick at max
 * and the numbers beside them; one linear axis across the runs. */
static void phase_chart(FILE *out, const struct report_run *runs, size_t n, const char *phase)
{
	const double row = 26, top = 8, left = 140, right = W - 300;
	double xmax = 0;
	for (size_t r = 0; r < n; r++) {
		json_t *p = json_object_get(json_object_get(runs[r].doc, "phases_ms"), phase);
		xmax = fmax(xmax, json_number_value(json_object_get(p, "max")));
	}
	if (!(xmax > 0))
		return;
	int h = (int)(top * 2 + row * (double)n);
	fprintf(out, "<h3>%s</h3>\n<svg id=\"phase-%s\" class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		     "height=\"%d\" role=\"img\" aria-label=\"%s latency\">\n<title>%s latency (ms)</title>\n",
		phase, phase, W, h, W, h, phase, phase);
	static const struct {
		const char *key;
		const char *opacity;
	} bars[] = {{"p99", "0.35"}, {"p90", "0.6"}, {"p50", "1"}};
	for (size_t r = 0; r < n; r++) {
		json_t *p = json_object_get(json_object_get(runs[r].doc, "phases_ms"), phase);
		double y = top + row * (double)r;
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", left - 8, y + row / 2 + 4);
		report_escape(out, runs[r].label);
		fprintf(out, "</text>\n");
		if (!json_is_object(p)) {
			fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">n/a</text>\n", left, y + row / 2 + 4);
			continue;
		}
		for (size_t b = 0; b < sizeof bars / sizeof bars[0]; b++) {
			double v = json_number_value(json_object_get(p, bars[b].key));
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
				     "fill-opacity=\"%s\"><title>%s %.3f ms</title></rect>\n",
				left, y + 4, (right - left) * fmax(v, 0) / xmax, row - 8, svg_run_color(r), bars[b].opacity,
				bars[b].key, v);
		}
		double mx = json_number_value(json_object_get(p, "max"));
		double x = left + (right - left) * mx / xmax;
		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, y + 2, x,
			y + row - 2);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">p50 %.2f · p90 %.2f · p99 %.2f · max %.2f ms</text>\n",
			right + 8, y + row / 2 + 4, json_number_value(json_object_get(p, "p50")),
			json_number_value(json_object_get(p, "p90")), json_number_value(json_object_get(p, "p99")), mx);
	}
	fprintf(out, "</svg>\n");
}

void svg_phases(FILE *out, const struct report_run *runs, size_t n)
{
	for (size_t k = 0; k < sizeof phase_names / sizeof phase_names[0]; k++)
		phase_chart(out, runs, n, phase_names[k]);
	svg_legend(out, runs, n);
}
