/* out — see out.h. */
#include "check/out.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "lib/version.h"

/* Columns are counted in characters, not bytes: rules hold "§" (two bytes). */
static void pad(FILE *f, const char *s, int width)
{
	int chars = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		chars += (*p & 0xc0) != 0x80;
	fputs(s, f);
	for (; chars < width; chars++)
		fputc(' ', f);
}

void ckout_header(FILE *f)
{
	pad(f, "ID", 34);
	pad(f, "RESULT", 7);
	pad(f, "RULE", 22);
	fputs("TITLE\n", f);
}

static void facts(FILE *f, const struct ck_outcome *o)
{
	for (size_t i = 0; i < o->nfacts; i++) {
		const struct ck_fact *k = &o->facts[i];
		if (k->is_num)
			fprintf(f, "%s%s=%" PRIu64, i ? " " : "", k->key, k->num);
		else
			fprintf(f, "%s%s=%s", i ? " " : "", k->key, k->str);
	}
}

void ckout_row(FILE *f, const struct battery_row *row)
{
	const struct ck_def *d = row->def;
	pad(f, d->id, 33);
	fputc(' ', f);
	pad(f, ck_result_name(row->out.result), 7);
	pad(f, d->rule, 21);
	fprintf(f, " %s\n", d->title);
	if (row->out.detail[0])
		fprintf(f, "    %s\n", row->out.detail);
	if (row->out.nfacts) {
		fputs("    evidence: ", f);
		facts(f, &row->out);
		fputc('\n', f);
	}
	fflush(f);
}

void ckout_totals(FILE *f, const struct battery_run *run)
{
	fprintf(f, "%zu checks: %u passed, %u failed, %u skipped, %u warned\n", run->n, run->passed,
		run->failed, run->skipped, run->warned);
}

void ckout_redact(const char *url, char *out, size_t cap)
{
	const char *scheme = strstr(url, "://");
	const char *start = scheme ? scheme + 3 : url;
	const char *at = strchr(start, '@');
	const char *colon = at ? memchr(start, ':', (size_t)(at - start)) : NULL;
	if (!colon) {
		snprintf(out, cap, "%s", url);
		return;
	}
	snprintf(out, cap, "%.*s:***%s", (int)(colon - url), url, at);
}

void ckout_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			/* Control bytes cannot appear in XML 1.0 text: shown as '?'. */
			fputc((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' ? '?' : *s, f);
		}
	}
}

static FILE *open_out(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "tunnelprobe check: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

static int close_out(FILE *f, const char *path)
{
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		fprintf(stderr, "tunnelprobe check: writing %s failed\n", path);
		return -EIO;
	}
	return 0;
}

static json_t *evidence_json(const struct ck_outcome *o)
{
	json_t *ev = json_object();
	for (size_t i = 0; i < o->nfacts; i++) {
		const struct ck_fact *k = &o->facts[i];
		json_object_set_new(ev, k->key,
				    k->is_num ? json_integer((json_int_t)k->num) : json_string(k->str));
	}
	return ev;
}

int ckout_json(const char *path, const struct ck_args *a, const struct battery_run *run)
{
	char url[512];
	json_t *root = json_object(), *checks = json_array(), *plist = json_array();
	ckout_redact(a->proxy_url ? a->proxy_url : "", url, sizeof url);
	json_object_set_new(root, "version", json_string(TP_VERSION));
	json_object_set_new(root, "proxy", a->proxy_url ? json_string(url) : json_null());
	json_object_set_new(root, "gateway",
			    a->gateway_url ? json_string(a->gateway_url) : json_null());
	for (unsigned bit = 1; bit < CK_PROFILE_ALL; bit <<= 1)
		if (a->profiles & bit)
			json_array_append_new(plist, json_string(ck_profile_name(bit)));
	json_object_set_new(root, "profiles", plist);
	for (size_t i = 0; i < run->n; i++) {
		const struct battery_row *row = &run->rows[i];
		json_t *c = json_object();
		json_object_set_new(c, "id", json_string(row->def->id));
		json_object_set_new(c, "title", json_string(row->def->title));
		json_object_set_new(c, "profile", json_string(ck_profile_name(row->def->profile)));
		json_object_set_new(c, "rule", json_string(row->def->rule));
		json_object_set_new(c, "result", json_string(ck_result_name(row->out.result)));
		json_object_set_new(c, "detail", json_string(row->out.detail));
		json_object_set_new(c, "evidence", evidence_json(&row->out));
		json_object_set_new(c, "ms", json_integer((json_int_t)row->out.ms));
		json_array_append_new(checks, c);
	}
	json_object_set_new(root, "checks", checks);
	json_object_set_new(root, "passed", json_integer(run->passed));
	json_object_set_new(root, "failed", json_integer(run->failed));
	json_object_set_new(root, "skipped", json_integer(run->skipped));
	json_object_set_new(root, "warned", json_integer(run->warned));
	int rc = json_dump_file(root, path, JSON_INDENT(1) | JSON_PRESERVE_ORDER) == 0 ? 0 : -EIO;
	if (rc < 0)
		fprintf(stderr, "tunnelprobe check: cannot write %s\n", path);
	json_decref(root);
	return rc;
}

int ckout_junit(const char *path, const struct ck_args *a, const struct battery_run *run)
{
	FILE *f = open_out(path);
	if (!f)
		return -EIO;
	uint64_t ms = 0;
	for (size_t i = 0; i < run->n; i++)
		ms += run->rows[i].out.ms;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<testsuites>\n<testsuite name=\"tunnelprobe check\" tests=\"%zu\" failures=\"%u\" "
		   "skipped=\"%u\" time=\"%.3f\">\n",
		run->n, run->failed, run->skipped, (double)ms / 1000);
	for (size_t i = 0; i < run->n; i++) {
		const struct battery_row *row = &run->rows[i];
		fputs("  <testcase classname=\"", f);
		ckout_escape(f, ck_profile_name(row->def->profile));
		fputs("\" name=\"", f);
		ckout_escape(f, row->def->id);
		fprintf(f, "\" time=\"%.3f\">", (double)row->out.ms / 1000);
		if (row->out.result == CK_FAIL || row->out.result == CK_SKIP) {
			fputs(row->out.result == CK_FAIL ? "<failure message=\"" : "<skipped message=\"", f);
			ckout_escape(f, row->out.detail);
			fputs("\"/>", f);
		}
		fputs("<system-out>", f);
		ckout_escape(f, ck_result_name(row->out.result));
		fputs(": ", f);
		ckout_escape(f, row->def->title);
		fputs(" (", f);
		ckout_escape(f, row->def->rule);
		fputs(")", f);
		fputs("</system-out></testcase>\n", f);
	}
	fputs("</testsuite>\n</testsuites>\n", f);
	(void)a;
	return close_out(f, path);
}

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
	"table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;"
	"padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}"
	".pass{color:#176f2c}.fail{color:#b00020;font-weight:bold}.skip{color:#777}"
	".warn{color:#a15c00}code{font-size:12px;color:#444}.sum span{margin-right:1.5em}";

static void html_row(FILE *f, const struct battery_row *row)
{
	const char *res = ck_result_name(row->out.result);
	fputs("<tr><td><code>", f);
	ckout_escape(f, row->def->id);
	fprintf(f, "</code></td><td class=\"%s\">%s</td><td>", res, res);
	ckout_escape(f, row->def->title);
	fputs("</td><td>", f);
	ckout_escape(f, row->def->rule);
	fputs("</td><td>", f);
	ckout_escape(f, row->out.detail);
	fputs("<br><code>", f);
	for (size_t i = 0; i < row->out.nfacts; i++) {
		const struct ck_fact *k = &row->out.facts[i];
		char num[32];
		snprintf(num, sizeof num, "%" PRIu64, k->num);
		fputs(i ? " " : "", f);
		ckout_escape(f, k->key);
		fputc('=', f);
		ckout_escape(f, k->is_num ? num : k->str);
	}
	fputs("</code></td></tr>\n", f);
}

int ckout_html(const char *path, const struct ck_args *a, const struct battery_run *run)
{
	FILE *f = open_out(path);
	if (!f)
		return -EIO;
	char url[512], profiles[128];
	ckout_redact(a->proxy_url ? a->proxy_url : (a->gateway_url ? a->gateway_url : ""), url,
		     sizeof url);
	fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>tunnelprobe check: ");
	ckout_escape(f, url);
	fprintf(f, "</title><style>%s</style></head><body>\n<h1>tunnelprobe check</h1>\n<p>", css);
	ckout_escape(f, url);
	fputs(" &middot; profiles ", f);
	ckout_escape(f, ck_profiles_format(a->profiles, profiles, sizeof profiles));
	fprintf(f, " &middot; tunnelprobe %s</p>\n<p class=\"sum\"><span class=\"pass\">%u passed</span>"
		   "<span class=\"fail\">%u failed</span><span class=\"skip\">%u skipped</span>"
		   "<span class=\"warn\">%u warned</span></p>\n<table><tr><th>check</th><th>result</th>"
		   "<th>title</th><th>rule</th><th>detail and evidence</th></tr>\n",
		TP_VERSION, run->passed, run->failed, run->skipped, run->warned);
	for (size_t i = 0; i < run->n; i++)
		html_row(f, &run->rows[i]);
	fputs("</table>\n</body></html>\n", f);
	return close_out(f, path);
}
