/* runfile_join — the capture join of lib/runfile.h ("joining"): a capture document's
 * tunnels and requests into a run's failures, verdicts and verdict counts. */
#include "lib/runfile.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static json_int_t geti(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static json_int_t add(json_int_t a, json_int_t b) { return runcount_add_sat(a, b); }

/* A capture tunnel's verdict object, or NULL when it has none. The one place that
 * knows capture.json before verdicts were data: a "verdict" sentence and a
 * "verdict_code" string, wrapped here as {code, text}. */
static json_t *tunnel_verdict(json_t *tunnel)
{
	json_t *v = json_object_get(tunnel, "verdict");
	if (json_is_object(v) && json_is_string(json_object_get(v, "code")))
		return json_incref(v);
	const char *code = json_string_value(json_object_get(tunnel, "verdict_code"));
	if (json_is_string(v) && code)
		return runfile_verdict_wrap(json_string_value(v), code);
	return NULL;
}

/* Whether v is a verdict with a code other than "unknown" (what a version 1 sentence
 * without its code became): one the capture's must not replace. */
static bool verdict_known(json_t *v)
{
	const char *code = json_string_value(json_object_get(v, "code"));
	return code && strcmp(code, "unknown") != 0;
}

/* "orig|resp" of a flow (the key flows are found by). */
static void flow_key(json_t *flow, char *key, size_t cap)
{
	const char *orig = json_string_value(json_object_get(flow, "orig"));
	const char *resp = json_string_value(json_object_get(flow, "resp"));
	snprintf(key, cap, "%s|%s", orig ? orig : "", resp ? resp : "");
}

static json_t *flow_flags(json_t *flags_by_flow, json_t *flow)
{
	char key[200];
	flow_key(flow, key, sizeof key);
	json_t *f = json_object_get(flags_by_flow, key);
	return f ? json_incref(f) : json_array();
}

/* Whether a tunnel's requests have verdicts of their own that are not ok. */
static bool has_failed_requests(json_t *tunnel)
{
	size_t i;
	json_t *q;
	json_array_foreach(json_object_get(tunnel, "per_request"), i, q) {
		const char *code = json_string_value(json_object_get(json_object_get(q, "verdict"), "code"));
		if (code && strcmp(code, "ok") != 0)
			return true;
	}
	return false;
}

/* v appended to verdicts when it has a code other than ok and there is room. */
static void add_failed_verdict(json_t *verdicts, json_t *v)
{
	const char *code = json_string_value(json_object_get(v, "code"));
	if (code && strcmp(code, "ok") != 0 && json_array_size(verdicts) < RUNFILE_MAX_VERDICTS)
		json_array_append(verdicts, v);
}

/* What doc gets once, from all tunnels: verdicts (each failed request's own where the
 * capture joined requests apart, else each tunnel's), verdict_counts (per tunnel),
 * capture. */
static void join_run_fields(json_t *doc, json_t *capture)
{
	json_t *verdicts = json_array(), *counts = json_object();
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(capture, "tunnels"), i, t) {
		json_t *v = tunnel_verdict(t);
		const char *code = json_string_value(json_object_get(v, "code"));
		if (code)
			json_object_set_new(counts, code, json_integer(add(geti(counts, code), 1)));
		if (has_failed_requests(t)) {
			size_t k;
			json_t *q;
			json_array_foreach(json_object_get(t, "per_request"), k, q) {
				json_t *qv = tunnel_verdict(q);
				add_failed_verdict(verdicts, qv);
				json_decref(qv);
			}
		} else {
			add_failed_verdict(verdicts, v);
		}
		json_decref(v);
	}
	if (!json_object_get(doc, "verdicts"))
		json_object_set(doc, "verdicts", verdicts);
	if (!json_object_get(doc, "verdict_counts"))
		json_object_set(doc, "verdict_counts", counts);
	json_t *input = json_object_get(capture, "input");
	if (!json_object_get(doc, "capture") && json_is_object(input)) {
		json_t *file = json_object_get(input, "file");
		json_object_set_new(doc, "capture",
				    json_pack("{s:O?,s:I,s:I}", "file", file ? file : json_object_get(input, "iface"),
					      "frames", geti(input, "frames"), "pcap_dropped",
					      geti(json_object_get(capture, "pcap_stats"), "dropped")));
	}
	json_decref(verdicts);
	json_decref(counts);
}

/* Whether a chain's wire object counts anything. */
static bool wire_known(json_t *wire)
{
	const char *key;
	json_t *v;
	json_object_foreach(wire, key, v)
		if (json_is_integer(v) && strcmp(key, "requests") != 0)
			return true;
	return false;
}

/* The chain a failure gets: its request's (req, from per_request) when the capture
 * joined it apart on a connection that carried several requests, else the tunnel's
 * (the same counts for a connection of one request, with the connection's wire). TCP
 * counts exist per connection only: a request without its own gets the connection's
 * wire, marked with how many requests it carried. A new reference, or NULL. */
static json_t *failure_chain(json_t *tunnel, json_t *req)
{
	json_t *down = json_object_get(tunnel, "down");
	json_int_t n = geti(tunnel, "requests");
	if (!req || n <= 1 || !json_is_object(json_object_get(req, "down")))
		return json_is_object(down) ? json_incref(down) : NULL;
	json_t *chain = json_deep_copy(json_object_get(req, "down"));
	json_t *wire = json_object_get(down, "wire");
	if (chain && !wire_known(json_object_get(chain, "wire")) && wire_known(wire)) {
		json_t *cw = json_deep_copy(wire);
		json_object_set_new(cw, "requests", json_integer(n));
		json_object_set_new(chain, "wire", cw);
	}
	return chain;
}

/* The capture's tunnels by client address, its requests by probe id ([tunnel,
 * request]), its flows' flags by "orig|resp": what failures are joined through. */
struct join_index {
	json_t *by_local, *by_id, *flags;
};

static void join_index_make(struct join_index *x, json_t *capture)
{
	x->by_local = json_object();
	x->by_id = json_object();
	x->flags = json_object();
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(capture, "tunnels"), i, t) {
		const char *local = json_string_value(json_object_get(t, "local"));
		if (local && !json_object_get(x->by_local, local))
			json_object_set(x->by_local, local, t);
		size_t k;
		json_t *q;
		json_array_foreach(json_object_get(t, "per_request"), k, q) {
			const char *id = json_string_value(json_object_get(q, "id"));
			if (id && !json_object_get(x->by_id, id))
				json_object_set_new(x->by_id, id, json_pack("[O,O]", t, q));
		}
	}
	json_array_foreach(json_object_get(capture, "flows"), i, t) {
		char key[200];
		if (!json_is_array(json_object_get(t, "flags")))
			continue;
		flow_key(t, key, sizeof key);
		json_object_set(x->flags, key, json_object_get(t, "flags"));
	}
}

static void join_index_free(struct join_index *x)
{
	json_decref(x->by_local);
	json_decref(x->by_id);
	json_decref(x->flags);
}

/* Failure f joined to its request (req, NULL when matched by address only) and the
 * tunnel t that carried it. */
static void join_failure(json_t *f, json_t *t, json_t *req, json_t *flags)
{
	/* A request's own verdict; the tunnel's (its first failure's) only when it is
	 * this request's or the capture did not join requests apart. */
	json_t *v = req ? tunnel_verdict(req) : NULL;
	if (!v && (!req || geti(t, "requests") <= 1))
		v = tunnel_verdict(t);
	json_t *chain = failure_chain(t, req);
	if (!json_object_get(f, "chain") && chain)
		json_object_set(f, "chain", chain);
	if (v && !verdict_known(json_object_get(f, "verdict")))
		json_object_set(f, "verdict", v);
	if (!json_object_get(f, "flags"))
		json_object_set_new(f, "flags", json_pack("{s:o,s:o}", "client_leg",
							  flow_flags(flags, json_object_get(t, "client_flow")),
							  "origin_leg", flow_flags(flags, json_object_get(t, "origin_flow"))));
	json_decref(chain);
	json_decref(v);
}

int runfile_join_capture(json_t *doc, json_t *capture)
{
	struct join_index x;
	join_index_make(&x, capture);
	int joined = 0;
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(doc, "failures"), i, f) {
		const char *id = json_string_value(json_object_get(f, "id"));
		const char *local = json_string_value(json_object_get(f, "local"));
		json_t *hit = id ? json_object_get(x.by_id, id) : NULL;
		json_t *t = hit ? json_array_get(hit, 0) : local ? json_object_get(x.by_local, local) : NULL;
		if (!t || !json_is_object(f))
			continue;
		join_failure(f, t, json_array_get(hit, 1), x.flags);
		joined++;
	}
	join_run_fields(doc, capture);
	join_index_free(&x);
	return joined;
}

int runfile_join_capture_file(json_t *doc, const char *path, char *err, size_t cap)
{
	int rc = 0;
	json_t *capture = runfile_load_json(path, err, cap, &rc);
	if (!capture)
		return rc;
	if (!json_is_object(capture)) {
		snprintf(err, cap, "%s: not a capture document", path);
		json_decref(capture);
		return -EINVAL;
	}
	rc = runfile_join_capture(doc, capture);
	json_decref(capture);
	return rc;
}
