/* output — see output.h. */
#include "capture/output.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "capture/quicout.h"

static json_t *jint(long long v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *end_json(double t, uint64_t off)
{
	if (!t)
		return json_null();
	return json_pack("{s:f,s:I}", "t", t, "offset", (json_int_t)off);
}

static json_t *tls_json(const struct flow_dir *d)
{
	const struct tlsrec *t = &d->tls;
	if (t->state == TLSREC_UNKNOWN || t->state == TLSREC_NOT_TLS)
		return json_null();
	char nb[16];
	json_t *o = json_pack("{s:s,s:I,s:I,s:b,s:I}", "state", tlsrec_state_name(t->state),
			      "records", (json_int_t)t->records, "app_records",
			      (json_int_t)t->app_records, "ccs", t->ccs_seen, "alerts",
			      (json_int_t)t->alerts);
	if (t->state == TLSREC_LOST)
		json_object_set_new(o, "lost_because", json_string(t->lost_by_cut ? "snaplen" : "gap"));
	if (t->sni[0])
		json_object_set_new(o, "sni", json_string(t->sni));
	if (t->server_hello)
		json_object_set_new(o, "version", json_string(tlsrec_version_name(t->version)));
	if (t->alerts) {
		const struct tlsrec_alert *al = &t->last_alert;
		json_object_set_new(o, "last_alert",
				    al->encrypted ?
					    json_pack("{s:b,s:I}", "encrypted", 1, "offset", (json_int_t)al->off) :
					    json_pack("{s:s,s:s,s:I}", "level",
						      al->level == 2 ? "fatal" : al->level == 1 ? "warning" : "unknown",
						      "name", tlsrec_alert_name(al->desc, nb, sizeof nb),
						      "offset", (json_int_t)al->off));
	}
	if (d->fin_t || d->rst_t)
		json_object_set_new(o, "close", json_string(tlsrec_close_name(d->tls_close)));
	return o;
}

static json_t *http_json(const struct flow_dir *d)
{
	const struct httpscan *h = &d->http;
	if (h->mode == HS_UNKNOWN || h->mode == HS_OTHER)
		return json_null();
	json_t *o = json_pack("{s:s,s:I,s:I,s:I}", "mode", httpscan_mode_name(h->mode), "messages",
			      (json_int_t)h->messages, "complete", (json_int_t)h->complete,
			      "body_bytes", (json_int_t)h->body_bytes);
	if (h->last_status)
		json_object_set_new(o, "last_status", json_integer(h->last_status));
	if (h->probe_id[0])
		json_object_set_new(o, "probe_id", json_string(h->probe_id));
	if (h->mode == HS_TUNNEL)
		json_object_set_new(o, "tunnel_offset", json_integer((json_int_t)h->tunnel_off));
	if (h->error)
		json_object_set_new(o, "error", json_string(http1_strerror(h->error)));
	if (d->early_fin)
		json_object_set_new(o, "early_fin_expected_end",
				    d->early_fin_expected == UINT64_MAX ?
					    json_null() : json_integer((json_int_t)d->early_fin_expected));
	return o;
}

static json_t *dir_json(const struct flow_dir *d)
{
	const struct tcpreasm *r = &d->r;
	json_t *o = json_object();
	json_object_set_new(o, "packets", json_integer((json_int_t)d->packets));
	json_object_set_new(o, "bytes", json_integer((json_int_t)flow_dir_bytes(d)));
	json_object_set_new(o, "payload_on_wire", json_integer((json_int_t)d->wire_payload));
	json_object_set_new(o, "captured", json_integer((json_int_t)r->bytes_data));
	json_object_set_new(o, "uncaptured", json_integer((json_int_t)r->bytes_uncaptured));
	json_object_set_new(o, "missed", json_integer((json_int_t)r->bytes_missed));
	json_object_set_new(o, "gaps", json_integer((json_int_t)r->gaps));
	json_object_set_new(o, "highest_seq", json_integer((json_int_t)r->highest));
	json_object_set_new(o, "acked", d->acked_valid ? json_integer((json_int_t)flow_dir_acked(d)) :
							 json_null());
	json_object_set_new(o, "retrans_segments", json_integer((json_int_t)r->retrans_segments));
	json_object_set_new(o, "retrans_bytes", json_integer((json_int_t)r->retrans_bytes));
	json_object_set_new(o, "overlap_differs", json_integer((json_int_t)r->overlap_differs));
	json_object_set_new(o, "out_of_order", json_integer((json_int_t)r->ooo_segments));
	json_object_set_new(o, "zero_windows", json_integer((json_int_t)d->zero_windows));
	json_object_set_new(o, "bad_checksums", json_integer((json_int_t)d->bad_csum));
	json_object_set_new(o, "syn", json_boolean(r->syn_seen));
	json_object_set_new(o, "window_scale", d->wscale >= 0 ? json_integer(d->wscale) : json_null());
	json_object_set_new(o, "fin", end_json(d->fin_t, r->fin_off));
	json_object_set_new(o, "rst", end_json(d->rst_t, r->rst_off));
	json_object_set_new(o, "http", http_json(d));
	json_object_set_new(o, "tls", tls_json(d));
	return o;
}

static json_t *flags_json(uint32_t flags)
{
	static const char *const names[] = {"partial", "early_fin", "rst_by_orig", "rst_by_resp",
					    "rst_after_fin", "gap", "tls_truncation",
					    "overlap_differs"};
	json_t *a = json_array();
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
		if (flags & (1u << i))
			json_array_append_new(a, json_string(names[i]));
	return a;
}

static json_t *flow_json(const struct flow *f)
{
	char a[64], b[64];
	struct tp_verdict v;
	flow_verdict(f, &v);
	json_t *o = json_object();
	json_object_set_new(o, "orig", json_string(flow_end_format(f, 0, a, sizeof a)));
	json_object_set_new(o, "resp", json_string(flow_end_format(f, 1, b, sizeof b)));
	json_object_set_new(o, "ip", json_integer(f->ip_version));
	json_object_set_new(o, "start", json_real(f->t_first));
	json_object_set_new(o, "duration_s", json_real(f->t_last - f->t_first));
	json_object_set_new(o, "conn_state", json_string(flow_conn_state(f)));
	json_object_set_new(o, "history", json_string(f->history));
	json_object_set_new(o, "flags", flags_json(f->flags));
	json_object_set_new(o, "rtt_ms", f->t_syn && f->t_synack ?
					     json_real((f->t_synack - f->t_syn) * 1e3) : json_null());
	json_object_set_new(o, "handshake_ms", f->t_syn && f->t_ack ?
						   json_real((f->t_ack - f->t_syn) * 1e3) : json_null());
	json_object_set_new(o, "orig_to_resp", dir_json(&f->dir[0]));
	json_object_set_new(o, "resp_to_orig", dir_json(&f->dir[1]));
	json_object_set_new(o, "verdict", tp_verdict_to_json(&v));
	return o;
}

static json_t *chain_json(const struct chain *c, bool down)
{
	const struct chain_wire *w = &c->wire;
	json_t *wire = json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}", "unit", "stream", "origin_acked",
				 jint(down ? w->origin_acked : JOIN_UNKNOWN), "origin_leg", jint(w->origin_leg),
				 "proxy_received", jint(w->proxy_received), "proxy_sent",
				 jint(w->proxy_sent), "client_leg", jint(w->client_leg));
	return json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "unit", "message", "expected",
			 jint(down ? c->expected : JOIN_UNKNOWN), "probe_body",
			 jint(down ? c->probe_body : JOIN_UNKNOWN), "origin_wrote", jint(c->origin_wrote),
			 "origin_leg", jint(c->origin_leg), "proxy_received", jint(c->proxy_received),
			 "proxy_sent", jint(c->proxy_sent), "client_leg", jint(c->client_leg), "probe",
			 jint(c->probe), "wire", wire);
}

static json_t *request_json(const struct jrequest *q)
{
	struct tp_verdict ok;
	tp_verdict_init(&ok, TP_V_OK, -1);
	const struct jprobe *r = q->probe;
	return json_pack("{s:o,s:s,s:s,s:b,s:o,s:o,s:o}", "id", r->id[0] ? json_string(r->id) : json_null(),
			 "class", r->cls, "phase", r->phase, "origin_line", q->origin != NULL, "down",
			 chain_json(&q->down, true), "up", chain_json(&q->up, false), "verdict",
			 tp_verdict_to_json(q->verdict ? q->verdict : &ok));
}

static json_t *flow_ref_json(const struct flow *f)
{
	char x[64], y[64];
	if (!f)
		return json_null();
	return json_pack("{s:s,s:s}", "orig", flow_end_format(f, 0, x, sizeof x), "resp",
			 flow_end_format(f, 1, y, sizeof y));
}

static json_t *tunnel_json(const struct join *j, const struct tunnel *t, const struct cap_analysis *a,
			   bool all_requests)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", t->id[0] ? json_string(t->id) : json_null());
	json_object_set_new(o, "local", json_string(t->local));
	json_object_set_new(o, "requests", json_integer((json_int_t)t->nrequests));
	json_object_set_new(o, "failed", json_integer((json_int_t)t->nfailed));
	if (t->first_failed)
		json_object_set_new(o, "probe_class", json_string(t->first_failed->cls));
	json_object_set_new(o, "client_flow", flow_ref_json(t->client_flow));
	json_object_set_new(o, "origin_flow", flow_ref_json(t->origin_flow));
	json_object_set_new(o, "quic_flow", quicout_ref_json(t->quic_flow));
	json_object_set_new(o, "down", chain_json(&t->down, true));
	json_object_set_new(o, "up", chain_json(&t->up, false));
	json_object_set_new(o, "verdict", tp_verdict_to_json(&t->verdict));
	/* A connection that lost something shows each of its requests; the others are in
	 * its totals (a soak's ok requests would outweigh everything else). */
	json_t *reqs = json_array();
	for (size_t i = 0; (t->nfailed || all_requests) && i < t->nrequests; i++)
		json_array_append_new(reqs, request_json(&j->req[t->first + i]));
	json_object_set_new(o, "per_request", reqs);
	if (a && a->have_stats)
		json_object_set_new(o, "pcap_dropped", json_integer((json_int_t)a->ps_drop));
	return o;
}

static json_t *input_json(const struct cap_analysis *a)
{
	static const char *const skip_names[PKT_E_COUNT + 1] = {
		"other", "truncated", "unsupported_link", "not_ip", "not_tcp",
		"bad_ip", "bad_tcp", "fragment", "bad_udp"};
	json_t *skipped = json_object();
	for (int i = 0; i <= PKT_E_COUNT; i++)
		if (a->skipped[i])
			json_object_set_new(skipped, skip_names[i], json_integer((json_int_t)a->skipped[i]));
	const struct flow_table *ft = &a->flows;
	json_t *in = json_object();
	json_object_set_new(in, a->live ? "iface" : "file",
			    json_string(a->live ? a->opt.iface : a->opt.read_path));
	json_object_set_new(in, "linktype", json_integer(a->linktype));
	json_object_set_new(in, "link", json_string(pkt_link_name(a->linktype)));
	json_object_set_new(in, "snaplen", json_integer(a->snaplen));
	json_object_set_new(in, "frames", json_integer((json_int_t)a->frames));
	json_object_set_new(in, "tcp_frames", json_integer((json_int_t)a->tcp_frames));
	json_object_set_new(in, "udp_frames", json_integer((json_int_t)a->udp_frames));
	json_object_set_new(in, "quic_flows", json_integer((json_int_t)qflow_table_quic(&a->quic)));
	json_object_set_new(in, "udp_datagrams_refused", json_integer((json_int_t)a->quic.datagrams_left_out));
	json_object_set_new(in, "bytes_captured", json_integer((json_int_t)a->bytes_captured));
	json_object_set_new(in, "bytes_wire", json_integer((json_int_t)a->bytes_wire));
	json_object_set_new(in, "payload_cut_frames", json_integer((json_int_t)a->payload_cut_frames));
	json_object_set_new(in, "skipped", skipped);
	json_object_set_new(in, "bad_checksums", json_integer((json_int_t)ft->bad_csum));
	json_object_set_new(in, "max_flows", json_integer((json_int_t)ft->max_flows));
	json_object_set_new(in, "flows_refused", json_integer((json_int_t)ft->flows_left_out));
	json_object_set_new(in, "flows_refused_exact", json_boolean(ft->left_out_exact));
	json_object_set_new(in, "segments_refused", json_integer((json_int_t)ft->segments_left_out));
	json_object_set_new(in, "first", json_real(a->t_first));
	json_object_set_new(in, "last", json_real(a->t_last));
	json_object_set_new(in, "read_error", a->read_error[0] ? json_string(a->read_error) : json_null());
	return in;
}

/* Everything but the entries of "flows", "quic_flows" and "tunnels" (empty arrays for
 * the caller to fill). */
static json_t *capture_doc(const struct cap_analysis *a, const struct ledgers *l, const struct join *j)
{
	json_t *doc = json_object();
	json_object_set_new(doc, "schema", json_string("tunnelprobe.capture/4"));
	json_object_set_new(doc, "run_id", l->run_id[0] ? json_string(l->run_id) : json_null());
	json_object_set_new(doc, "input", a ? input_json(a) : json_null());
	json_object_set_new(doc, "pcap_stats", a && a->have_stats ?
		json_pack("{s:I,s:I,s:I}", "received", (json_int_t)a->ps_recv, "dropped",
			  (json_int_t)a->ps_drop, "if_dropped", (json_int_t)a->ps_ifdrop) :
		json_null());
	json_object_set_new(doc, "flows", json_array());
	json_object_set_new(doc, "quic_flows", json_array());
	json_object_set_new(doc, "ledgers", json_pack("{s:I,s:I,s:I,s:I}", "probe",
		(json_int_t)l->nprobe, "origin", (json_int_t)l->norigin, "proxy",
		(json_int_t)l->nproxy, "bad_lines", (json_int_t)l->bad_lines));
	json_object_set_new(doc, "ledger_lines_other_runs", json_integer((json_int_t)l->other_runs));
	json_t *counts = json_object();
	for (int v = 0; v < TP_V_COUNT; v++)
		if (j->counts[v])
			json_object_set_new(counts, tp_verdict_code_name(v), json_integer((json_int_t)j->counts[v]));
	json_object_set_new(doc, "tunnels", json_array());
	json_object_set_new(doc, "verdicts", counts);
	return doc;
}

json_t *capture_json(const struct cap_analysis *a, const struct ledgers *l, const struct join *j,
		     bool all_requests)
{
	json_t *doc = capture_doc(a, l, j);
	json_t *flows = json_object_get(doc, "flows"), *tunnels = json_object_get(doc, "tunnels");
	json_t *qflows = json_object_get(doc, "quic_flows");
	for (size_t i = 0; a && i < a->flows.n; i++)
		json_array_append_new(flows, flow_json(a->flows.flows[i]));
	for (size_t i = 0; a && i < a->quic.n; i++)
		if (a->quic.flows[i]->quic)
			json_array_append_new(qflows, quicout_flow_json(a->quic.flows[i]));
	for (size_t i = 0; i < j->n; i++)
		json_array_append_new(tunnels, tunnel_json(j, &j->t[i], a, all_requests));
	return doc;
}

/* Writes the n entries of an array one at a time, each built, written and freed. */
static int stream_array(FILE *out, size_t n, json_t *(*entry)(const void *ctx, size_t i), const void *ctx)
{
	int rc = 0;
	fputs("[", out);
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *e = entry(ctx, i);
		fputs(i ? ",\n  " : "\n  ", out);
		rc = e ? json_dumpf(e, out, JSON_COMPACT) : -1;
		json_decref(e);
	}
	fputs(n ? "\n ]" : "]", out);
	return rc;
}

struct stream_ctx {
	const struct cap_analysis *a;
	const struct join *j;
	bool all_requests;
	const struct qflow **quic; /* the QUIC flows among the UDP ones */
};

static json_t *flow_entry(const void *ctx, size_t i)
{
	return flow_json(((const struct stream_ctx *)ctx)->a->flows.flows[i]);
}

static json_t *quic_entry(const void *ctx, size_t i)
{
	return quicout_flow_json(((const struct stream_ctx *)ctx)->quic[i]);
}

static json_t *tunnel_entry(const void *ctx, size_t i)
{
	const struct stream_ctx *c = ctx;
	return tunnel_json(c->j, &c->j->t[i], c->a, c->all_requests);
}

int capture_json_write(FILE *out, const struct cap_analysis *a, const struct ledgers *l,
		       const struct join *j, bool all_requests)
{
	json_t *doc = capture_doc(a, l, j);
	if (!doc)
		return -ENOMEM;
	struct stream_ctx ctx = {a, j, all_requests, NULL};
	size_t nquic = 0;
	if (a && a->quic.n && !(ctx.quic = malloc(a->quic.n * sizeof *ctx.quic))) {
		json_decref(doc);
		return -ENOMEM;
	}
	for (size_t i = 0; a && i < a->quic.n; i++)
		if (a->quic.flows[i]->quic)
			ctx.quic[nquic++] = a->quic.flows[i];
	int rc = 0;
	const char *key;
	json_t *value;
	bool first = true;
	fputs("{", out);
	json_object_foreach(doc, key, value) {
		/* Our own keys: plain ASCII, nothing to escape. */
		fprintf(out, "%s\n \"%s\": ", first ? "" : ",", key);
		first = false;
		if (rc)
			break;
		/* Flows and tunnels one at a time: the document never holds them all. */
		if (strcmp(key, "flows") == 0)
			rc = stream_array(out, a ? a->flows.n : 0, flow_entry, &ctx);
		else if (strcmp(key, "quic_flows") == 0)
			rc = stream_array(out, nquic, quic_entry, &ctx);
		else if (strcmp(key, "tunnels") == 0)
			rc = stream_array(out, j->n, tunnel_entry, &ctx);
		else
			rc = json_dumpf(value, out, JSON_INDENT(1) | JSON_ENCODE_ANY);
	}
	fputs("\n}\n", out);
	json_decref(doc);
	free(ctx.quic);
	return rc || ferror(out) ? -EIO : 0;
}

static void fmt_count(char *out, size_t n, long long v)
{
	if (v < 0)
		snprintf(out, n, "?");
	else
		snprintf(out, n, "%lld", v);
}

static void print_chain(FILE *out, const char *name, const struct chain *c, bool down)
{
	char e[24], b[24], w[24], o[24], pr[24], ps[24], cl[24], p[24];
	char wa[24], wo[24], wpr[24], wps[24], wcl[24];
	fmt_count(e, sizeof e, c->expected);
	fmt_count(b, sizeof b, c->probe_body);
	fmt_count(w, sizeof w, c->origin_wrote);
	fmt_count(o, sizeof o, c->origin_leg);
	fmt_count(pr, sizeof pr, c->proxy_received);
	fmt_count(ps, sizeof ps, c->proxy_sent);
	fmt_count(cl, sizeof cl, c->client_leg);
	fmt_count(p, sizeof p, c->probe);
	fmt_count(wa, sizeof wa, c->wire.origin_acked);
	fmt_count(wo, sizeof wo, c->wire.origin_leg);
	fmt_count(wpr, sizeof wpr, c->wire.proxy_received);
	fmt_count(wps, sizeof wps, c->wire.proxy_sent);
	fmt_count(wcl, sizeof wcl, c->wire.client_leg);
	if (down) {
		fprintf(out, "    %s: origin wrote %s → origin leg %s → proxy %s/%s → client leg %s → probe read %s"
			" (application bytes; body %s of %s)\n", name, w, o, pr, ps, cl, p, b, e);
		fprintf(out, "      wire: origin acked %s, origin leg %s, proxy %s/%s, client leg %s"
			" (TCP bytes, TLS included)\n", wa, wo, wpr, wps, wcl);
	} else {
		fprintf(out, "    %s: probe sent %s → client leg %s → proxy %s/%s → origin leg %s → origin read %s"
			" (application bytes)\n", name, p, cl, pr, ps, o, w);
		fprintf(out, "      wire: client leg %s, proxy %s/%s, origin leg %s (TCP bytes, TLS included)\n",
			wcl, wpr, wps, wo);
	}
}

static bool flow_interesting(const struct flow *f)
{
	struct tp_verdict v;
	return flow_verdict(f, &v) != TP_V_OK;
}

static void summary_input(FILE *out, const struct cap_analysis *a)
{
	const struct flow_table *ft = &a->flows;
	fprintf(out, "capture: %s %s (%s, snaplen %d): %" PRIu64 " frames, %" PRIu64 " TCP, %zu flows",
		a->live ? "interface" : "file", a->live ? a->opt.iface : a->opt.read_path,
		pkt_link_name(a->linktype), a->snaplen, a->frames, a->tcp_frames, ft->n);
	if (a->udp_frames)
		fprintf(out, ", %" PRIu64 " UDP", a->udp_frames);
	uint64_t skipped = 0;
	for (int i = 0; i <= PKT_E_COUNT; i++)
		skipped += a->skipped[i];
	if (skipped)
		fprintf(out, ", %" PRIu64 " frames skipped (neither TCP nor UDP, or unreadable)", skipped);
	if (ft->bad_csum)
		fprintf(out, ", %" PRIu64 " bad checksums (offload, kept)", ft->bad_csum);
	fprintf(out, "\n");
	if (ft->flows_left_out)
		fprintf(out, "capture: the flow table is full at %zu flows: %s%" PRIu64 " more flows (%" PRIu64
			" segments) were left out and are in no verdict; --max-flows N raises the limit\n",
			ft->max_flows, ft->left_out_exact ? "" : "at least ", ft->flows_left_out,
			ft->segments_left_out);
	if (a->have_stats)
		fprintf(out, "capture: pcap received %" PRIu64 ", dropped %" PRIu64 ", interface dropped %" PRIu64 "\n",
			a->ps_recv, a->ps_drop, a->ps_ifdrop);
	if (a->payload_cut_frames)
		fprintf(out, "capture: payload cut by the snaplen in %" PRIu64
			" frames (byte counts are exact; TLS/HTTP scanning may have lost sync)\n",
			a->payload_cut_frames);
	if (a->read_error[0])
		fprintf(out, "capture: warning: %s\n", a->read_error);
}

static void summary_flows(FILE *out, const struct cap_analysis *a, bool all_flows)
{
	size_t shown = 0;
	for (size_t i = 0; i < a->flows.n; i++) {
		const struct flow *f = a->flows.flows[i];
		if (!all_flows && !flow_interesting(f) && a->flows.n > 20)
			continue;
		if (shown++ == 0)
			fprintf(out, "flows:\n");
		char x[64], y[64], text[TP_VERDICT_TEXT_MAX];
		struct tp_verdict v;
		flow_verdict(f, &v);
		tp_verdict_render(&v, text, sizeof text);
		fprintf(out, "  %s → %s  %s %s  up %" PRIu64 " B, down %" PRIu64 " B%s%s  %s\n",
			flow_end_format(f, 0, x, sizeof x), flow_end_format(f, 1, y, sizeof y),
			flow_conn_state(f), f->history, flow_dir_bytes(&f->dir[0]), flow_dir_bytes(&f->dir[1]),
			f->dir[0].tls.sni[0] ? "  sni " : "", f->dir[0].tls.sni, text);
	}
	if (shown < a->flows.n)
		fprintf(out, "  (%zu flows with nothing to report not listed; --all-flows lists them)\n",
			a->flows.n - shown);
}

static void summary_tunnel(FILE *out, const struct cap_analysis *a, const struct join *j,
			   const struct tunnel *t)
{
	char text[TP_VERDICT_TEXT_MAX];
	fprintf(out, "tunnel %s (%s, %zu requests, %zu failed): %s", t->id[0] ? t->id : "-", t->local,
		t->nrequests, t->nfailed, tp_verdict_render(&t->verdict, text, sizeof text));
	if (a && a->have_stats)
		fprintf(out, " [pcap dropped %" PRIu64 "]", a->ps_drop);
	fprintf(out, "\n");
	print_chain(out, "down", &t->down, true);
	print_chain(out, "up", &t->up, false);
	/* A connection that carried several requests: each failed one on its own. */
	for (size_t i = 0; t->nrequests > 1 && i < t->nrequests; i++) {
		const struct jrequest *q = &j->req[t->first + i];
		if (q->verdict && q != t->deciding)
			fprintf(out, "  request %s: %s\n", q->probe->id[0] ? q->probe->id : "-",
				tp_verdict_render(q->verdict, text, sizeof text));
	}
}

void capture_summary(FILE *out, const struct cap_analysis *a, const struct ledgers *l,
		     const struct join *j, bool all_flows)
{
	if (a) {
		summary_input(out, a);
		summary_flows(out, a, all_flows);
		quicout_summary(out, &a->quic, all_flows);
	}
	if (l->nprobe || l->norigin || l->nproxy || l->other_runs) {
		fprintf(out, "ledgers: %zu probe records, %zu origin lines, %zu proxy lines%s", l->nprobe,
			l->norigin, l->nproxy, l->bad_lines ? " (some lines unreadable)" : "");
		if (l->run_id[0])
			fprintf(out, " of run %s (%" PRIu64 " lines of other runs left out)", l->run_id,
				l->other_runs);
		fprintf(out, "\n");
	}
	for (size_t i = 0; i < j->n; i++)
		summary_tunnel(out, a, j, &j->t[i]);
	if (j->n) {
		fprintf(out, "verdicts:");
		for (int v = 0; v < TP_V_COUNT; v++)
			if (j->counts[v])
				fprintf(out, " %s %zu", tp_verdict_code_name(v), j->counts[v]);
		fprintf(out, "\n");
	}
}

bool capture_all_ok(const struct cap_analysis *a, const struct join *j)
{
	if (j->n)
		return j->counts[TP_V_OK] == j->n;
	if (!a)
		return true;
	for (size_t i = 0; i < a->flows.n; i++)
		if (flow_interesting(a->flows.flows[i]))
			return false;
	return true;
}
