/* qtunnel — see qtunnel.h. */
#include "proxy-under-test/qtunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/socks5.h"
#include "proxy-under-test/auth.h"
#include "proxy-under-test/qrelay.h"
#include "proxy-under-test/server.h"

static const struct proxy_config *cfg_of(const struct qtun *t) { return t->qc->ql->w->cfg; }

/* ---- stream operations, whatever the framing ---- */

long qtunnel_write(struct qtun *t, const void *data, size_t len)
{
	if (t->hs) {
		long n = h3_stream_write(&t->qc->h3, t->hs, data, len);
		if (n > 0)
			t->body_written += (uint64_t)n;
		return n;
	}
	if (t->qs) {
		long n = quic_stream_write(&t->qc->q, t->qs, data, len, false);
		return n == -ENOTCONN ? -EPIPE : n;
	}
	return -EPIPE;
}

int qtunnel_finish(struct qtun *t)
{
	if (t->hs)
		return h3_stream_end(&t->qc->h3, t->hs);
	return t->qs ? quic_stream_finish(&t->qc->q, t->qs) : -EPIPE;
}

void qtunnel_reset(struct qtun *t, uint64_t code)
{
	if (t->hs) {
		h3_stream_reset(&t->qc->h3, t->hs, code);
	} else if (t->qs) {
		quic_stream_shutdown_write(&t->qc->q, t->qs, code);
		quic_stream_shutdown_read(&t->qc->q, t->qs, code);
	}
}

void qtunnel_stop_reading(struct qtun *t, uint64_t code)
{
	struct quic_stream *qs = t->hs ? t->hs->qs : t->qs;
	if (qs)
		quic_stream_shutdown_read(&t->qc->q, qs, code);
}

void qtunnel_consume(struct qtun *t, size_t n)
{
	if (t->hs)
		h3_stream_consume(&t->qc->h3, t->hs, n);
	else if (t->qs)
		quic_stream_consume(&t->qc->q, t->qs, n);
}

void qtunnel_set_credit(struct qtun *t, enum quic_credit mode)
{
	if (t->hs)
		h3_stream_set_credit(&t->qc->h3, t->hs, mode);
	else if (t->qs)
		quic_stream_set_credit(t->qs, mode);
}

const struct quic_stream_stats *qtunnel_stats(const struct qtun *t)
{
	if (t->hs)
		return h3_stream_quic(t->hs);
	return t->qs ? &t->qs->stats : &t->qstats;
}

/* ---- replies ---- */

/* The SOCKS5 reply for a failed connect (RFC 1928 §6), as the TCP listeners give. */
static uint8_t socks_rep_for(int err)
{
	switch (-err) {
	case EACCES: return SOCKS5_REP_NOT_ALLOWED;
	case ECONNREFUSED: return SOCKS5_REP_CONNECTION_REFUSED;
	case ENETUNREACH: return SOCKS5_REP_NETWORK_UNREACHABLE;
	case EHOSTUNREACH:
	case ETIMEDOUT:
	case ENOENT: return SOCKS5_REP_HOST_UNREACHABLE;
	default: return SOCKS5_REP_GENERAL_FAILURE;
	}
}

/* Control bytes of the socks5 framing (method choice, replies): stream bytes, never
 * tunnel bytes. The stream is new, so its buffer takes them whole. */
static void socks_send(struct qtun *t, const uint8_t *msg, int len)
{
	if (len > 0 && t->qs)
		quic_stream_write(&t->qc->q, t->qs, msg, (size_t)len, false);
}

/* A SOCKS5 failure reply, then FIN. The client finishes its side in turn (or the
 * tunnel's timer resets it). */
static void socks_fail(struct qtun *t, uint8_t rep)
{
	uint8_t out[32];
	t->reply = rep;
	socks_send(t, out, socks5_server_reply(out, sizeof out, rep, NULL));
	if (qtunnel_finish(t) == 0)
		t->fin_to_client = true;
}

/* An HTTP/3 answer without a tunnel: the status and its fields, no body. */
static void h3_answer(struct qtun *t, int status, const struct h3_header *fields, size_t n)
{
	t->reply = status;
	h3_stream_set_credit(&t->qc->h3, t->hs, QUIC_CREDIT_AUTO); /* a body sent anyway is let in */
	if (h3_submit_response(&t->qc->h3, t->hs, status, fields, n, false) == 0)
		t->fin_to_client = true;
	qrelay_refused(t);
}

void qtunnel_reply_ok(struct qtun *t, const struct net_addr *bound)
{
	if (t->framing == QF_H3) {
		t->reply = 200;
		h3_submit_response(&t->qc->h3, t->hs, 200, NULL, 0, true);
		return;
	}
	struct socks5_addr b = {.atyp = SOCKS5_ATYP_IPV4};
	if (bound && bound->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)&bound->ss;
		memcpy(b.ip, &in4->sin_addr, 4);
		b.port = ntohs(in4->sin_port);
	}
	uint8_t out[32];
	t->reply = SOCKS5_REP_SUCCEEDED;
	socks_send(t, out, socks5_server_reply(out, sizeof out, SOCKS5_REP_SUCCEEDED, &b));
}

void qtunnel_refuse(struct qtun *t, int err)
{
	if (t->framing == QF_SOCKS5) {
		socks_fail(t, socks_rep_for(err));
		return;
	}
	if (err == -EACCES) {
		h3_answer(t, 403, NULL, 0);
		return;
	}
	/* RFC 9114 §4.4: a TCP connection that cannot be made is a stream error. */
	qtunnel_reset(t, QTUNNEL_CONNECT_ERROR);
	t->reset_code = QTUNNEL_CONNECT_ERROR;
	t->client_end = END_LOCAL_RST;
}

/* ---- CONNECT over HTTP/3 ---- */

static const char *field(const struct h3_stream *s, const char *name)
{
	for (size_t i = 0; i < s->nfields; i++)
		if (strcasecmp(s->fields[i].name, name) == 0)
			return s->fields[i].value;
	return NULL;
}

static void on_request(struct qconn *qc, struct h3_stream *s)
{
	struct qtun *t = qrelay_new(qc, s, NULL);
	if (!t) {
		h3_stream_reset(&qc->h3, s, H3_INTERNAL_ERROR);
		return;
	}
	s->user = t;
	h3_stream_set_credit(&qc->h3, s, QUIC_CREDIT_MANUAL);
	const char *id = field(s, "x-probe-id");
	snprintf(t->id, sizeof t->id, "%s", id ? id : ""); /* cut at SESSION_ID_MAX - 1 */
	const struct proxy_config *cfg = cfg_of(t);
	if (!s->method || strcmp(s->method, "CONNECT") != 0) {
		static const struct h3_header allow[] = {{"allow", "CONNECT"}};
		h3_answer(t, 405, allow, 1); /* a proxy, not a server: only CONNECT is served */
		return;
	}
	const char *auth = field(s, "proxy-authorization");
	if (cfg->require_auth &&
	    !(auth && auth_basic_ok(auth, strlen(auth), cfg->auth_user, cfg->auth_pass))) {
		static const struct h3_header challenge[] = {
			{"proxy-authenticate", "Basic realm=\"tunnelprobe\""}};
		h3_answer(t, 407, challenge, 1);
		return;
	}
	/* Plain CONNECT has an authority and neither :scheme nor :path (§4.4). */
	if (!s->authority || s->scheme || s->path ||
	    !session_parse_authority(s->authority, strlen(s->authority), t->host, &t->port)) {
		h3_answer(t, 400, NULL, 0);
		return;
	}
	qrelay_request(t);
}

static void on_h3(struct h3_conn *h, const struct h3_event *ev, void *arg)
{
	struct qconn *qc = arg;
	struct qtun *t = ev->stream ? ev->stream->user : NULL;
	(void)h;
	if (ev->type == H3_EV_QUIC) {
		qlisten_conn_event(qc, ev->quic);
		return;
	}
	if (ev->type == H3_EV_REQUEST) {
		on_request(qc, ev->stream);
		return;
	}
	if (!t)
		return;
	switch (ev->type) {
	case H3_EV_DATA:
		t->body_received += ev->len;
		qrelay_on_data(t, ev->data, ev->len);
		break;
	case H3_EV_END:
		qrelay_on_fin(t);
		break;
	case H3_EV_RESET:
		qrelay_on_reset(t, ev->code, false);
		break;
	case H3_EV_STOPPED:
		qrelay_on_reset(t, 0, true);
		break;
	case H3_EV_ERROR: /* lib/h3 failed the stream (a malformed message): ours, not theirs */
		if (t->client_end == END_OPEN)
			t->client_end = END_LOCAL_RST;
		qrelay_on_reset(t, ev->code, false);
		break;
	case H3_EV_ACKED:
		t->body_acked += ev->len;
		break;
	case H3_EV_WRITABLE:
		qrelay_on_writable(t);
		break;
	case H3_EV_CLOSED:
		t->qstats = *h3_stream_quic(ev->stream);
		t->hs = NULL;
		ev->stream->user = NULL;
		qrelay_on_closed(t, qc->q.state >= QUIC_ST_CLOSING);
		break;
	default:
		break;
	}
}

/* ---- SOCKS5 on QUIC streams ---- */

/* The SOCKS5 method choice: user/password when --auth asks for it, else none. */
static uint8_t socks_method(const struct proxy_config *cfg, const struct socks5_greeting *g)
{
	uint8_t want = cfg->require_auth ? SOCKS5_METHOD_USERPASS : SOCKS5_METHOD_NONE;
	return socks5_greeting_offers(g, want) ? want : SOCKS5_METHOD_UNACCEPTABLE;
}

/* Takes n handshake bytes from the front of the up buffer; their credit goes back. */
static void socks_take(struct qtun *t, size_t n)
{
	t->uoff += n;
	quic_stream_consume(&t->qc->q, t->qs, n);
}

/* The CONNECT request r bytes long at the front of the buffer. */
static void socks_request(struct qtun *t, const uint8_t *in, size_t len)
{
	uint8_t cmd;
	struct socks5_addr dst;
	int err = 0;
	int r = socks5_server_parse_request(in, len, &cmd, &dst, &err);
	if (r == SOCKS5_NEED_MORE)
		return;
	if (r < 0) {
		socks_fail(t, err == SOCKS5_E_ATYP ? SOCKS5_REP_ATYP_NOT_SUPPORTED
						   : SOCKS5_REP_GENERAL_FAILURE);
		qrelay_refused(t);
		return;
	}
	socks_take(t, (size_t)r);
	socks5_addr_host(&dst, t->host, sizeof t->host); /* a parsed address fits */
	t->port = dst.port;
	if (cmd != SOCKS5_CMD_CONNECT || t->port == 0) {
		socks_fail(t, cmd != SOCKS5_CMD_CONNECT ? SOCKS5_REP_COMMAND_NOT_SUPPORTED
							: SOCKS5_REP_GENERAL_FAILURE);
		qrelay_refused(t);
		return;
	}
	qrelay_request(t); /* what follows in the buffer is the tunnel's first bytes */
}

/* One handshake message at the front of the buffer. 1 taken (go on), 0 need more, -1
 * the handshake is over (a request went out, or a refusal). */
static int socks_step(struct qtun *t)
{
	const struct proxy_config *cfg = cfg_of(t);
	const uint8_t *in = t->ubuf + t->uoff;
	size_t len = t->ulen - t->uoff;
	uint8_t out[64];
	int err = 0, r;
	if (t->socks_step == 0) {
		struct socks5_greeting g;
		r = socks5_server_parse_greeting(in, len, &g, &err);
		if (r == SOCKS5_NEED_MORE)
			return 0;
		uint8_t method = r > 0 ? socks_method(cfg, &g) : SOCKS5_METHOD_UNACCEPTABLE;
		socks_send(t, out, socks5_server_method(out, sizeof out, method));
		if (method == SOCKS5_METHOD_UNACCEPTABLE) {
			/* "no acceptable methods" (RFC 1928 §3), then the end of the stream. */
			if (qtunnel_finish(t) == 0)
				t->fin_to_client = true;
			qrelay_refused(t);
			return -1;
		}
		socks_take(t, (size_t)r);
		t->socks_step = method == SOCKS5_METHOD_USERPASS ? 1 : 2;
		return 1;
	}
	if (t->socks_step == 1) {
		char user[256], pass[256];
		r = socks5_server_parse_userpass(in, len, user, pass, &err);
		if (r == SOCKS5_NEED_MORE)
			return 0;
		bool good = r > 0 && strcmp(user, cfg->auth_user) == 0 && strcmp(pass, cfg->auth_pass) == 0;
		socks_send(t, out, socks5_server_userpass_reply(out, sizeof out, good ? 0 : 1));
		if (!good) {
			if (qtunnel_finish(t) == 0)
				t->fin_to_client = true;
			qrelay_refused(t);
			return -1;
		}
		socks_take(t, (size_t)r);
		t->socks_step = 2;
		return 1;
	}
	socks_request(t, in, len);
	return t->state == QR_HANDSHAKE ? 0 : -1;
}

static void socks_data(struct qtun *t, const uint8_t *data, size_t len)
{
	if (t->state != QR_HANDSHAKE) {
		qrelay_on_data(t, data, len);
		return;
	}
	if (!qrelay_hold(t, data, len)) {
		qtunnel_reset(t, QTUNNEL_CANCELLED);
		qrelay_refused(t);
		return;
	}
	for (int i = 0; i < 3 && socks_step(t) > 0; i++)
		; /* greeting, auth, request: three messages at most */
}

void qtunnel_quic_event(struct qconn *qc, const struct quic_event *ev)
{
	struct quic_stream *s = ev->stream;
	struct qtun *t = s->user;
	if (qc->framing != QF_SOCKS5)
		return;
	switch (ev->type) {
	case QUIC_EV_STREAM_OPEN:
		if (s->id & 0x2) { /* a unidirectional stream means nothing here */
			quic_stream_set_credit(s, QUIC_CREDIT_AUTO);
			quic_stream_shutdown_read(&qc->q, s, H3_STREAM_CREATION_ERROR);
			return;
		}
		quic_stream_set_credit(s, QUIC_CREDIT_MANUAL);
		s->user = qrelay_new(qc, NULL, s);
		if (!s->user) {
			quic_stream_shutdown_write(&qc->q, s, H3_INTERNAL_ERROR);
			quic_stream_shutdown_read(&qc->q, s, H3_INTERNAL_ERROR);
		}
		break;
	case QUIC_EV_STREAM_DATA:
		if (t)
			socks_data(t, ev->data, ev->len);
		break;
	case QUIC_EV_STREAM_FIN:
		if (t)
			qrelay_on_fin(t);
		break;
	case QUIC_EV_STREAM_RESET:
		if (t)
			qrelay_on_reset(t, ev->code, false);
		break;
	case QUIC_EV_STREAM_STOPPED:
		if (t)
			qrelay_on_reset(t, 0, true);
		break;
	case QUIC_EV_STREAM_WRITABLE:
		if (t)
			qrelay_on_writable(t);
		break;
	case QUIC_EV_STREAM_CLOSED:
		if (t) {
			t->qstats = s->stats;
			t->qs = NULL;
			s->user = NULL;
			qrelay_on_closed(t, ev->conn_closed);
		}
		break;
	default:
		break;
	}
}

int qtunnel_attach(struct qconn *qc)
{
	if (strcmp(qc->q.alpn, "socks5") == 0) {
		qc->framing = QF_SOCKS5;
		return 0;
	}
	if (strcmp(qc->q.alpn, "h3") != 0)
		return -1;
	struct h3_opts o = {.cb = on_h3, .arg = qc};
	if (h3_conn_init(&qc->h3, &qc->q, &o) < 0)
		return -1;
	qc->framing = QF_H3;
	qc->h3_up = true;
	return 0;
}
