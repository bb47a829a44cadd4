/* quicout — see quicout.h. */
#include "capture/quicout.h"

#include <inttypes.h>

#include "lib/h3.h"
#include "lib/hex.h"
#include "lib/quic.h"

static json_t *cid_json(const uint8_t *cid, size_t len, bool have)
{
	char hex[2 * QUICHDR_MAX_CIDLEN + 1];
	return have ? json_string(hex_encode(cid, len, hex)) : json_null();
}

static json_t *time_json(double t)
{
	return t ? json_real(t) : json_null();
}

static json_t *dir_json(const struct qflow_dir *d)
{
	json_t *packets = json_object();
	for (int i = 0; i < QUICHDR_TYPE_COUNT; i++)
		if (d->packets[i])
			json_object_set_new(packets, quichdr_type_name(i), json_integer((json_int_t)d->packets[i]));
	json_t *o = json_object();
	json_object_set_new(o, "datagrams", json_integer((json_int_t)d->datagrams));
	json_object_set_new(o, "bytes", json_integer((json_int_t)d->bytes));
	json_object_set_new(o, "gso_frames", json_integer((json_int_t)d->gso_frames));
	json_object_set_new(o, "first", time_json(d->t_first));
	json_object_set_new(o, "last", time_json(d->t_last));
	json_object_set_new(o, "duration_s", json_real(d->t_last - d->t_first));
	json_object_set_new(o, "packets", packets);
	json_object_set_new(o, "undecodable", json_integer((json_int_t)d->undecodable));
	json_object_set_new(o, "snaplen_cut", json_integer((json_int_t)d->cut));
	json_object_set_new(o, "initials", json_pack("{s:i,s:i,s:i}", "opened", (int)d->initials_opened,
						     "failed", (int)d->initials_failed, "cut",
						     (int)d->initials_cut));
	return o;
}

/* The name of a CONNECTION_CLOSE code: a transport error (a TLS alert inside
 * CRYPTO_ERROR named too), or an HTTP/3 one for an application close. */
static void close_name(const struct qflow_close *c, char *out, size_t n)
{
	if (c->app)
		snprintf(out, n, "%s", h3_error_name(c->code));
	else if (c->code >= 0x100 && c->code <= 0x1ff)
		snprintf(out, n, "CRYPTO_ERROR (tls alert %s)", quic_alert_name((uint8_t)(c->code - 0x100)));
	else
		snprintf(out, n, "%s", quic_transport_error_name(c->code));
}

/* The close with an error a flow's Initials carried, the server's first; NULL when none. */
static const struct qflow_close *initial_close(const struct qflow *f, int *by)
{
	for (int d = 1; d >= 0; d--) {
		const struct qflow_close *c = &f->dir[d].close;
		if (c->seen && c->code != 0) {
			*by = d;
			return c;
		}
	}
	return NULL;
}

bool quicout_flagged(const struct qflow *f)
{
	int by;
	return f->quic && (initial_close(f, &by) || f->version_negotiation);
}

static json_t *close_json(const struct qflow *f)
{
	int by;
	const struct qflow_close *c = initial_close(f, &by);
	if (!c)
		return json_null();
	char name[96];
	close_name(c, name, sizeof name);
	json_t *o = json_object();
	json_object_set_new(o, "by", json_string(by ? "server" : "client"));
	json_object_set_new(o, "app", json_boolean(c->app));
	json_object_set_new(o, "code", json_integer((json_int_t)c->code));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "frame_type", c->app ? json_null() : json_integer((json_int_t)c->frame_type));
	json_object_set_new(o, "reason", json_string(c->reason));
	json_object_set_new(o, "t", json_real(c->t));
	return o;
}

json_t *quicout_flow_json(const struct qflow *f)
{
	char a[64], b[64], ver[16];
	int by;
	json_t *flags = json_array();
	if (initial_close(f, &by))
		json_array_append_new(flags, json_string("initial_close"));
	if (f->version_negotiation)
		json_array_append_new(flags, json_string("version_negotiation"));
	if (f->retry)
		json_array_append_new(flags, json_string("retry"));
	if (f->midstream)
		json_array_append_new(flags, json_string("midstream"));
	/* A handshake that completes always carries 1-RTT packets (HANDSHAKE_DONE). */
	if (!f->dir[0].packets[QUICHDR_SHORT] && !f->dir[1].packets[QUICHDR_SHORT])
		json_array_append_new(flags, json_string("handshake_only"));
	snprintf(ver, sizeof ver, "0x%08" PRIx32, f->version);
	const char *sni = f->dir[0].hello.sni;
	json_t *o = json_object();
	json_object_set_new(o, "client", json_string(qflow_end_format(f, 0, a, sizeof a)));
	json_object_set_new(o, "server", json_string(qflow_end_format(f, 1, b, sizeof b)));
	json_object_set_new(o, "ip", json_integer(f->ip_version));
	json_object_set_new(o, "start", json_real(f->t_first));
	json_object_set_new(o, "duration_s", json_real(f->t_last - f->t_first));
	json_object_set_new(o, "version", f->version ? json_string(ver) : json_null());
	json_object_set_new(o, "original_dcid", cid_json(f->odcid, f->odcidlen, f->have_odcid));
	json_object_set_new(o, "client_cid", cid_json(f->client_cid, f->client_cidlen, f->have_client_cid));
	json_object_set_new(o, "server_cid", cid_json(f->server_cid, f->server_cidlen, f->have_server_cid));
	json_object_set_new(o, "sni", sni[0] ? json_string(sni) : json_null());
	json_object_set_new(o, "flags", flags);
	json_object_set_new(o, "client_to_server", dir_json(&f->dir[0]));
	json_object_set_new(o, "server_to_client", dir_json(&f->dir[1]));
	json_object_set_new(o, "initial_close", close_json(f));
	return o;
}

json_t *quicout_ref_json(const struct qflow *f)
{
	char x[64], y[64];
	if (!f)
		return json_null();
	return json_pack("{s:s,s:s}", "client", qflow_end_format(f, 0, x, sizeof x), "server",
			 qflow_end_format(f, 1, y, sizeof y));
}

void quicout_summary(FILE *out, const struct qflow_table *t, bool all)
{
	size_t nq = qflow_table_quic(t);
	if (!t->datagrams)
		return;
	fprintf(out, "quic: %zu flows, %" PRIu64 " datagrams (of %" PRIu64 " UDP frames)", nq,
		t->quic_datagrams, t->datagrams);
	if (t->datagrams_left_out)
		fprintf(out, " (%" PRIu64 " datagrams of flows beyond --max-flows left out)",
			t->datagrams_left_out);
	fprintf(out, "\n");
	for (size_t i = 0; i < t->n; i++) {
		const struct qflow *f = t->flows[i];
		if (!f->quic || !(all || quicout_flagged(f)))
			continue;
		char a[64], b[64], name[96] = "";
		int by;
		const struct qflow_close *c = initial_close(f, &by);
		if (c)
			close_name(c, name, sizeof name);
		fprintf(out, "  %s -> %s  %" PRIu64 "/%" PRIu64 " datagrams, %" PRIu64 "/%" PRIu64 " bytes%s%s%s%s%s\n",
			qflow_end_format(f, 0, a, sizeof a), qflow_end_format(f, 1, b, sizeof b),
			f->dir[0].datagrams, f->dir[1].datagrams, f->dir[0].bytes, f->dir[1].bytes,
			c ? "  CONNECTION_CLOSE in an Initial by the " : "", c ? (by ? "server" : "client") : "",
			c ? ": " : "", name, f->version_negotiation ? "  version negotiation" : "");
	}
}
