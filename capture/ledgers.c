/* ledgers — see ledgers.h. */
#include "capture/ledgers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE (1 << 20) /* no ledger line is that long */

void ledgers_init(struct ledgers *l)
{
	memset(l, 0, sizeof *l);
}

void ledgers_free(struct ledgers *l)
{
	if (!l)
		return;
	free(l->probe);
	free(l->origin);
	free(l->proxy);
	memset(l, 0, sizeof *l);
}

bool ledgers_run_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n < 1 || n > LEDGERS_RUN_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= 'A' && id[i] <= 'Z') || (id[i] >= 'a' && id[i] <= 'z') ||
		      (id[i] >= '0' && id[i] <= '9') || id[i] == '.' || id[i] == '_' || id[i] == '-'))
			return false;
	return true;
}

static void str_field(json_t *o, const char *k, char *out, size_t outlen)
{
	const char *s = json_string_value(json_object_get(o, k));
	snprintf(out, outlen, "%s", s ? s : "");
}

static long long int_field(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	if (json_is_real(v) && json_real_value(v) >= -1e18 && json_real_value(v) <= 1e18)
		return (long long)json_real_value(v);
	return JOIN_UNKNOWN;
}

static bool bool_field(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static double real_field(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* Grows an array of elem-sized items by one; returns the new, zeroed slot or NULL. */
static void *grow(void **arr, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void *na = realloc(*arr, nc * elem);
		if (!na)
			return NULL;
		*arr = na;
		*cap = nc;
	}
	void *slot = (char *)*arr + (*n)++ * elem;
	memset(slot, 0, elem);
	return slot;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool add_probe(struct ledgers *l, json_t *o)
{
	struct jprobe *r = grow((void **)&l->probe, &l->nprobe, &l->probe_cap, sizeof *r);
	if (!r)
		return false;
	str_field(o, "id", r->id, sizeof r->id);
	str_field(o, "local", r->local, sizeof r->local);
	str_field(o, "remote", r->remote, sizeof r->remote);
	str_field(o, "class", r->cls, sizeof r->cls);
	str_field(o, "phase", r->phase, sizeof r->phase);
	str_field(o, "detail", r->detail, sizeof r->detail);
	str_field(o, "proto", r->proto, sizeof r->proto);
	r->expected = int_field(o, "bytes_expected");
	r->received = int_field(o, "bytes_received");
	r->wire_received = int_field(o, "wire_received");
	r->sent = int_field(o, "bytes_sent");
	r->status = (int)int_field(o, "status");
	r->t = real_field(o, "t");
	r->latency_s = real_field(o, "latency_ms") / 1000.0;
	/* The path from the proxy URL and the target's scheme, as the probe chose it: SOCKS5
	 * and CONNECT relay bytes, a forward proxy rewrites requests. */
	const char *url = json_string_value(json_object_get(o, "url"));
	const char *proxy = json_string_value(json_object_get(o, "proxy"));
	r->plain = url && starts_with(url, "http:");
	r->socks = proxy && starts_with(proxy, "socks5");
	r->path = !proxy || !proxy[0] ? JPATH_DIRECT : r->socks || !r->plain ? JPATH_TUNNEL : JPATH_FORWARD;
	return true;
}

static bool add_origin(struct ledgers *l, json_t *o)
{
	struct jorigin *r = grow((void **)&l->origin, &l->norigin, &l->origin_cap, sizeof *r);
	if (!r)
		return false;
	str_field(o, "id", r->id, sizeof r->id);
	str_field(o, "peer", r->peer, sizeof r->peer);
	str_field(o, "local", r->local, sizeof r->local);
	str_field(o, "end", r->end, sizeof r->end);
	r->conn = int_field(o, "conn");
	r->req = int_field(o, "req");
	r->status = (int)int_field(o, "status");
	r->bytes_written = int_field(o, "bytes_written");
	r->bytes_received = int_field(o, "bytes_received");
	r->body_bytes = int_field(o, "body_bytes");
	r->acked_close = int_field(o, "bytes_acked_at_close");
	r->acked_after = int_field(o, "bytes_acked_after_response");
	r->conn_written = int_field(o, "conn_bytes_written");
	r->has_end = r->end[0] != '\0';
	const char *proto = json_string_value(json_object_get(o, "proto"));
	r->h3 = proto && strcmp(proto, "h3") == 0 && json_is_integer(json_object_get(o, "stream"));
	r->rst_received = bool_field(o, "rst_received");
	r->fin_received = bool_field(o, "fin_received");
	r->fin_sent = bool_field(o, "fin_sent");
	r->tls = bool_field(o, "tls");
	r->t = real_field(o, "t");
	return true;
}

static void proxy_dir(json_t *o, struct jproxy_dir *d)
{
	d->received = int_field(o, "received");
	d->sent = int_field(o, "sent");
	d->short_sends = int_field(o, "short_sends");
	d->dropped = int_field(o, "dropped");
}

static bool add_proxy(struct ledgers *l, json_t *o)
{
	struct jproxy *r = grow((void **)&l->proxy, &l->nproxy, &l->proxy_cap, sizeof *r);
	if (!r)
		return false;
	str_field(o, "id", r->id, sizeof r->id);
	str_field(o, "kind", r->kind, sizeof r->kind);
	str_field(o, "client_peer", r->client_peer, sizeof r->client_peer);
	str_field(o, "client_local", r->client_local, sizeof r->client_local);
	str_field(o, "upstream_local", r->upstream_local, sizeof r->upstream_local);
	str_field(o, "upstream_peer", r->upstream_peer, sizeof r->upstream_peer);
	str_field(o, "first_close", r->first_close, sizeof r->first_close);
	str_field(o, "client_end", r->client_end, sizeof r->client_end);
	str_field(o, "upstream_end", r->upstream_end, sizeof r->upstream_end);
	str_field(o, "fault", r->fault, sizeof r->fault);
	proxy_dir(json_object_get(o, "down"), &r->down);
	proxy_dir(json_object_get(o, "up"), &r->up);
	long long reply = int_field(o, "reply");
	r->reply = reply >= 0 && reply <= 65535 ? (int)reply : -1;
	r->shut_client = bool_field(o, "shutdown_write_client");
	r->shut_upstream = bool_field(o, "shutdown_write_upstream");
	r->t = real_field(o, "t");
	return true;
}

bool ledgers_add(struct ledgers *l, json_t *o, const char *run)
{
	if (!json_is_object(o))
		return false;
	bool (*add)(struct ledgers *, json_t *) = NULL;
	if (json_object_get(o, "bytes_expected") && json_object_get(o, "class"))
		add = add_probe;
	else if (json_object_get(o, "bytes_written"))
		add = add_origin;
	else if (json_object_get(o, "kind") && json_is_object(json_object_get(o, "down")))
		add = add_proxy;
	if (!add)
		return false;
	if (l->run_id[0]) {
		const char *own = json_string_value(json_object_get(o, "run"));
		const char *line_run = own ? own : run;
		if (!line_run || strcmp(line_run, l->run_id) != 0) {
			l->other_runs++;
			return true;
		}
	}
	return add(l, o);
}

/* A run.json: one object whose "failures" are probe records. Returns 1 when doc is one
 * (and was read), 0 when it is not. */
static int load_run_file(struct ledgers *l, json_t *doc)
{
	if (!json_is_object(doc) || !json_object_get(doc, "schema"))
		return 0;
	const char *run = json_string_value(json_object_get(doc, "run_id"));
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(doc, "failures"), i, v)
		if (!ledgers_add(l, v, run))
			l->bad_lines++;
	return 1;
}

int ledgers_load(struct ledgers *l, const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -errno;
	json_error_t jerr;
	json_t *whole = json_loadf(fp, JSON_DISABLE_EOF_CHECK, &jerr);
	int is_run = load_run_file(l, whole);
	json_decref(whole);
	if (is_run) {
		fclose(fp);
		return 0;
	}
	rewind(fp);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (n > MAX_LINE) {
			l->bad_lines++;
			continue;
		}
		size_t k = (size_t)n;
		while (k && (line[k - 1] == '\n' || line[k - 1] == '\r' || line[k - 1] == ' '))
			k--;
		if (!k)
			continue;
		json_t *o = json_loadb(line, k, 0, &jerr);
		if (!o || !ledgers_add(l, o, NULL))
			l->bad_lines++;
		json_decref(o);
	}
	free(line);
	int rc = ferror(fp) ? -EIO : 0;
	fclose(fp);
	return rc;
}
