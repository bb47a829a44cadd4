/* qrelay_ledger — a QUIC tunnel's ledger line (docs/ledgers.md "Reference proxy
 * ledger", QUIC tunnels): the fields of a TCP tunnel's line, with the client leg being
 * the QUIC stream, and a "quic" object of the stream's own facts. Built with lib/jsonw
 * into a bounded buffer. */
#include "proxy-under-test/qrelay.h"


#include "lib/jsonw.h"
#include "proxy-under-test/relay.h"
#include "proxy-under-test/server.h"

#define QRELAY_LINE_MAX 4096

static void str_or_null(struct jsonw *w, const char *key, const char *v)
{
	jsonw_key(w, key);
	if (v && v[0])
		jsonw_string(w, v);
	else
		jsonw_null(w);
}

static void code_or_null(struct jsonw *w, const char *key, bool has, uint64_t code)
{
	jsonw_key(w, key);
	if (has)
		jsonw_uint(w, code);
	else
		jsonw_null(w);
}

/* One direction as the TCP lines have it (wire_sent = sent: a tunnel rewrites nothing). */
static void dir_object(struct jsonw *w, const char *key, const struct qrelay_dir *d)
{
	struct relay_dir r = {d->received, d->sent, d->recv_ops, d->send_ops, d->short_sends, d->dropped,
			      d->sent};
	relay_dir_json(w, key, &r);
}

/* The "quic" object: the stream's counters as of its close, and how the connection
 * ended when it ended first. */
static void quic_object(struct jsonw *w, const struct qtun *t)
{
	const struct quic_stream_stats *s = &t->qstats;
	const struct quic_conn *q = &t->qc->q;
	jsonw_key(w, "quic");
	jsonw_object_begin(w);
	jsonw_field_string(w, "framing", t->framing == QF_H3 ? "h3" : "socks5");
	jsonw_field_uint(w, "conn", t->qc->number);
	jsonw_field_int(w, "stream", t->stream_id);
	jsonw_field_uint(w, "stream_written", s->bytes_written);
	jsonw_field_uint(w, "stream_sent", s->bytes_sent);
	jsonw_field_uint(w, "stream_acked", s->bytes_acked);
	jsonw_field_uint(w, "stream_received", s->bytes_received);
	jsonw_field_uint(w, "stream_consumed", s->bytes_consumed);
	if (t->framing == QF_H3) {
		jsonw_field_uint(w, "body_written", t->body_written);
		jsonw_field_uint(w, "body_acked", t->body_acked);
		jsonw_field_uint(w, "body_received", t->body_received);
	}
	jsonw_field_bool(w, "fin_sent", s->fin_sent);
	jsonw_field_bool(w, "fin_acked", s->fin_acked);
	jsonw_field_bool(w, "fin_received", s->fin_received);
	code_or_null(w, "reset_sent", s->reset_sent, s->reset_code_sent);
	code_or_null(w, "reset_received", s->reset_received, s->reset_code_received);
	code_or_null(w, "stop_sending_sent", s->stop_sending_sent, s->stop_sending_code_sent);
	code_or_null(w, "stop_sending_received", s->stop_sending_received,
		     s->stop_sending_code_received);
	jsonw_field_uint(w, "credit_stalls", s->credit_stalls);
	jsonw_field_uint(w, "conn_credit_stalls", s->conn_credit_stalls);
	jsonw_field_bool(w, "credit_withheld", t->credit_stalled);
	jsonw_key(w, "conn_close");
	if (q->state >= QUIC_ST_CLOSING && t->conn_closed) {
		jsonw_object_begin(w);
		jsonw_field_string(w, "reason", quic_close_reason_name(q->close.reason));
		jsonw_field_bool(w, "by_peer", q->close.by_peer);
		jsonw_field_bool(w, "app", q->close.app);
		jsonw_field_uint(w, "code", q->close.code);
		jsonw_object_end(w);
	} else {
		jsonw_null(w);
	}
	jsonw_object_end(w);
}

/* fault_acted: null without faults, else whether each of them acted. */
static void acted_field(struct jsonw *w, const struct qtun *t)
{
	jsonw_key(w, "fault_acted");
	if (!t->faults.n) {
		jsonw_null(w);
		return;
	}
	bool all = true;
	for (size_t i = 0; i < t->faults.n; i++)
		all = all && t->fault_acts[i] > 0;
	jsonw_bool(w, all);
}

void qrelay_write_ledger(const struct qtun *t)
{
	struct proxy_worker *pw = t->qc->ql->w;
	struct ledger_file *ledger = &pw->shared->ledger;
	if (!ledger_is_open(ledger))
		return;
	char faults[FAULT_SPECS_MAX];
	fault_set_specs(&t->faults, faults, sizeof faults);
	char line[QRELAY_LINE_MAX];
	struct jsonw w;
	jsonw_init(&w, line, sizeof line);
	jsonw_object_begin(&w);
	str_or_null(&w, "id", t->id);
	jsonw_field_string(&w, "kind", t->framing == QF_H3 ? "connect" : "socks5");
	jsonw_field_string(&w, "transport", "quic");
	jsonw_field_uint(&w, "tunnel", t->number);
	jsonw_field_string(&w, "client_peer", t->qc->peer);
	jsonw_field_string(&w, "client_local", t->qc->local);
	str_or_null(&w, "upstream_local", t->local);
	str_or_null(&w, "upstream_peer", t->peer);
	str_or_null(&w, "target", t->target);
	dir_object(&w, "down", &t->down);
	dir_object(&w, "up", &t->up);
	str_or_null(&w, "first_close", t->first_close);
	jsonw_field_string(&w, "client_end", relay_end_name(t->client_end));
	jsonw_field_string(&w, "upstream_end", relay_end_name(t->end));
	jsonw_field_bool(&w, "shutdown_write_client", t->fin_to_client);
	jsonw_field_bool(&w, "shutdown_write_upstream", t->shut_wr);
	jsonw_key(&w, "reply");
	if (t->reply >= 0)
		jsonw_int(&w, t->reply);
	else
		jsonw_null(&w);
	str_or_null(&w, "fault", faults);
	acted_field(&w, t);
	str_or_null(&w, "fault_key", t->fault_key);
	quic_object(&w, t);
	jsonw_field_real(&w, "t", t->t);
	jsonw_field_real(&w, "duration_ms", (double)(loop_now(&pw->loop) - t->start_us) / 1000.0);
	/* "run" is added by ledger_write_line, as on every ledger line. */
	jsonw_object_end(&w);
	long len = jsonw_finish(&w);
	ledger_write_line(ledger, line, len); /* a line it cannot build or write counts in lost */
}
