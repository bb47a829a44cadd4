/* tlsrec — see tlsrec.h. Hello messages are read through lib/pkt's checked readers. */
#include "lib/tlsrec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pkt.h"

enum { CT_CCS = 20, CT_ALERT = 21, CT_HANDSHAKE = 22, CT_APPDATA = 23, CT_HEARTBEAT = 24 };

/* A TLS 1.3 close_notify is 2 bytes + 1 content-type byte + the AEAD tag (16, or 8 for
 * CCM_8); we allow a little padding. */
#define PROBABLE_NOTIFY_MIN 11
#define PROBABLE_NOTIFY_MAX 24

void tlsrec_init(struct tlsrec *t)
{
	memset(t, 0, sizeof *t);
}

void tlsrec_free(struct tlsrec *t)
{
	if (!t)
		return;
	free(t->hs);
	t->hs = NULL;
	t->hs_len = 0;
}

static void read_sni(struct tlsrec *t, struct pkt_rd ext)
{
	uint16_t list_len, name_len;
	uint8_t type;
	struct pkt_rd list, name;
	if (!pkt_rd_be16(&ext, &list_len) || !pkt_rd_sub(&ext, list_len, &list))
		return;
	while (pkt_rd_u8(&list, &type) && pkt_rd_be16(&list, &name_len)) {
		if (!pkt_rd_sub(&list, name_len, &name))
			return;
		if (type == 0) {
			size_t n = name_len < sizeof t->sni - 1 ? name_len : sizeof t->sni - 1;
			for (size_t i = 0; i < n; i++) {
				uint8_t ch = name.p[i];
				t->sni[i] = ch >= 0x21 && ch < 0x7f ? (char)ch : '?';
			}
			t->sni[n] = '\0';
			return;
		}
	}
}

/* Parses a ClientHello or ServerHello body (after the 4-byte handshake header). */
static void parse_hello(struct tlsrec *t, uint8_t msg_type, struct pkt_rd c)
{
	uint16_t legacy, len16, suite, ext_total, ext_type, ext_len, version;
	uint8_t sid_len, len8, compression;
	if (!pkt_rd_be16(&c, &legacy) || !pkt_rd_skip(&c, 32) || !pkt_rd_u8(&c, &sid_len) ||
	    !pkt_rd_skip(&c, sid_len))
		return;
	if (msg_type == 1) {
		t->client_hello = true;
		/* cipher_suites<2..2^16-2>, legacy_compression_methods<1..2^8-1> */
		if (!pkt_rd_be16(&c, &len16) || !pkt_rd_skip(&c, len16) || !pkt_rd_u8(&c, &len8) ||
		    !pkt_rd_skip(&c, len8))
			return;
	} else {
		t->server_hello = true;
		t->version = legacy;
		if (!pkt_rd_be16(&c, &suite) || !pkt_rd_u8(&c, &compression))
			return;
	}
	struct pkt_rd exts, ext;
	if (!pkt_rd_be16(&c, &ext_total) || !pkt_rd_sub(&c, ext_total, &exts))
		return;
	while (pkt_rd_be16(&exts, &ext_type) && pkt_rd_be16(&exts, &ext_len)) {
		if (!pkt_rd_sub(&exts, ext_len, &ext))
			return;
		if (msg_type == 1 && ext_type == 0)
			read_sni(t, ext);
		else if (msg_type == 2 && ext_type == 43 && pkt_rd_be16(&ext, &version))
			t->version = version; /* supported_versions: the real one */
	}
}

static void collect_handshake(struct tlsrec *t, const uint8_t *data, size_t n)
{
	if (t->hs_done)
		return;
	if (!t->hs) {
		t->hs = malloc(TLSREC_MAX_HANDSHAKE);
		if (!t->hs) {
			t->hs_done = true;
			return;
		}
	}
	size_t room = TLSREC_MAX_HANDSHAKE - t->hs_len;
	size_t take = n < room ? n : room;
	memcpy(t->hs + t->hs_len, data, take);
	t->hs_len += (uint32_t)take;
	if (t->hs_len < 4)
		return;
	uint32_t msg_len = (uint32_t)t->hs[1] << 16 | (uint32_t)t->hs[2] << 8 | t->hs[3];
	if (msg_len > TLSREC_MAX_HANDSHAKE - 4) {
		t->hs_done = true; /* too long to read; record counting goes on */
	} else if (t->hs_len >= 4 + msg_len) {
		if (t->hs[0] == 1 || t->hs[0] == 2)
			parse_hello(t, t->hs[0], pkt_rd_init(t->hs + 4, msg_len));
		t->hs_done = true;
	}
	if (t->hs_done) {
		free(t->hs);
		t->hs = NULL;
		t->hs_len = 0;
	}
}

void tlsrec_feed_handshake(struct tlsrec *t, const uint8_t *data, size_t len)
{
	collect_handshake(t, data, len);
}

static void note_alert(struct tlsrec *t, struct tlsrec_alert a)
{
	if (t->alerts == 0)
		t->first_alert = a;
	t->last_alert = a;
	t->alerts++;
}

static bool plaintext_alert(const struct tlsrec *t)
{
	/* An encrypted alert is longer than 2 bytes; before ChangeCipherSpec every alert
	 * is plaintext. */
	return !t->ccs_seen || t->rec_len == 2;
}

static void record_done(struct tlsrec *t)
{
	t->records++;
	t->last_type = t->type;
	t->last_len = t->rec_len;
	t->last_off = t->rec_off;
	switch (t->type) {
	case CT_CCS:
		t->ccs_seen = true;
		break;
	case CT_APPDATA:
		t->app_records++;
		break;
	case CT_HANDSHAKE:
		t->handshake_records++;
		break;
	case CT_ALERT:
		if (!plaintext_alert(t))
			note_alert(t, (struct tlsrec_alert){.encrypted = true, .off = t->rec_off});
		break;
	}
	t->hdr_len = 0;
	t->alert_len = 0;
}

static bool header_valid(const uint8_t h[5], uint16_t *len)
{
	*len = (uint16_t)(h[3] << 8 | h[4]);
	return h[0] >= CT_CCS && h[0] <= CT_HEARTBEAT && h[1] == 3 && h[2] <= 4 &&
	       *len <= TLSREC_MAX_RECORD;
}

static void body(struct tlsrec *t, const uint8_t *data, size_t n)
{
	if (!data) {
		if (t->type == CT_HANDSHAKE && !t->ccs_seen)
			t->hs_done = true; /* the hello was cut; give up reading it */
		return;
	}
	if (t->type == CT_HANDSHAKE && !t->ccs_seen) {
		collect_handshake(t, data, n);
	} else if (t->type == CT_ALERT && plaintext_alert(t)) {
		for (size_t i = 0; i < n; i++) {
			t->alert_buf[t->alert_len++] = data[i];
			if (t->alert_len == 2) {
				note_alert(t, (struct tlsrec_alert){.level = t->alert_buf[0],
								    .desc = t->alert_buf[1],
								    .off = t->rec_off});
				t->alert_len = 0;
			}
		}
	}
}

void tlsrec_feed(struct tlsrec *t, const uint8_t *data, size_t len)
{
	while (len) {
		if (t->state != TLSREC_UNKNOWN && t->state != TLSREC_ACTIVE) {
			t->pos += len;
			return;
		}
		if (t->rec_left == 0 && (t->hdr_len < 5)) {
			if (!data) {
				t->state = TLSREC_LOST;
				t->lost_by_cut = true;
				continue;
			}
			if (t->hdr_len == 0)
				t->rec_off = t->pos;
			size_t take = 5u - t->hdr_len < len ? 5u - t->hdr_len : len;
			memcpy(t->hdr + t->hdr_len, data, take);
			t->hdr_len = (uint8_t)(t->hdr_len + take);
			data += take;
			len -= take;
			t->pos += take;
			if (t->hdr_len < 5)
				continue;
			uint16_t rl;
			if (!header_valid(t->hdr, &rl)) {
				t->state = t->records == 0 ? TLSREC_NOT_TLS : TLSREC_BROKEN;
				continue;
			}
			t->state = TLSREC_ACTIVE;
			t->type = t->hdr[0];
			t->rec_len = t->rec_left = rl;
			if (rl == 0)
				record_done(t);
			continue;
		}
		size_t n = t->rec_left < len ? t->rec_left : len;
		body(t, data, n);
		t->rec_left = (uint16_t)(t->rec_left - n);
		t->pos += n;
		len -= n;
		if (data)
			data += n;
		if (t->rec_left == 0)
			record_done(t);
	}
}

void tlsrec_gap(struct tlsrec *t, size_t len)
{
	if (t->state == TLSREC_UNKNOWN || t->state == TLSREC_ACTIVE) {
		/* Inside a record body the lengths still tell where the next header is. */
		if (t->hdr_len == 5 && t->rec_left >= len && t->rec_left > 0 &&
		    t->type != CT_HANDSHAKE && t->type != CT_ALERT) {
			t->rec_left = (uint16_t)(t->rec_left - len);
			t->pos += len;
			if (t->rec_left == 0)
				record_done(t);
			return;
		}
		t->state = TLSREC_LOST;
		t->lost_by_cut = false;
	}
	t->pos += len;
}

enum tlsrec_close tlsrec_close_kind(const struct tlsrec *t, bool tls13)
{
	if (t->state != TLSREC_ACTIVE || t->records == 0)
		return TLSREC_CLOSE_UNKNOWN;
	if (t->hdr_len > 0 || t->rec_left > 0)
		return TLSREC_CLOSE_MID_RECORD;
	if (t->last_type == CT_ALERT) {
		if (t->last_alert.encrypted)
			return TLSREC_CLOSE_ENCRYPTED_ALERT;
		return t->last_alert.desc == 0 ? TLSREC_CLOSE_NOTIFY : TLSREC_CLOSE_ALERT;
	}
	if (t->app_records == 0)
		return TLSREC_CLOSE_HANDSHAKE;
	if (t->last_type == CT_APPDATA && tls13 && t->last_len >= PROBABLE_NOTIFY_MIN &&
	    t->last_len <= PROBABLE_NOTIFY_MAX)
		return TLSREC_CLOSE_PROBABLE_NOTIFY;
	return TLSREC_CLOSE_NO_NOTIFY;
}

const char *tlsrec_alert_name(uint8_t desc, char *buf, size_t buflen)
{
	switch (desc) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 21: return "decryption_failed";
	case 22: return "record_overflow";
	case 30: return "decompression_failure";
	case 40: return "handshake_failure";
	case 41: return "no_certificate";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 60: return "export_restriction";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 100: return "no_renegotiation";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 111: return "certificate_unobtainable";
	case 112: return "unrecognized_name";
	case 113: return "bad_certificate_status_response";
	case 114: return "bad_certificate_hash_value";
	case 115: return "unknown_psk_identity";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	}
	snprintf(buf, buflen, "unknown(%u)", desc);
	return buf;
}

const char *tlsrec_close_name(enum tlsrec_close c)
{
	switch (c) {
	case TLSREC_CLOSE_NOTIFY: return "close_notify";
	case TLSREC_CLOSE_ALERT: return "alert";
	case TLSREC_CLOSE_ENCRYPTED_ALERT: return "encrypted_alert";
	case TLSREC_CLOSE_PROBABLE_NOTIFY: return "probable_close_notify";
	case TLSREC_CLOSE_MID_RECORD: return "mid_record";
	case TLSREC_CLOSE_NO_NOTIFY: return "no_close_notify";
	case TLSREC_CLOSE_HANDSHAKE: return "handshake";
	case TLSREC_CLOSE_UNKNOWN: break;
	}
	return "unknown";
}

const char *tlsrec_state_name(enum tlsrec_state s)
{
	switch (s) {
	case TLSREC_UNKNOWN: return "unknown";
	case TLSREC_ACTIVE: return "tls";
	case TLSREC_NOT_TLS: return "not_tls";
	case TLSREC_LOST: return "lost";
	case TLSREC_BROKEN: return "broken";
	}
	return "unknown";
}

const char *tlsrec_version_name(uint16_t v)
{
	switch (v) {
	case 0x0300: return "SSL3.0";
	case 0x0301: return "TLS1.0";
	case 0x0302: return "TLS1.1";
	case 0x0303: return "TLS1.2";
	case 0x0304: return "TLS1.3";
	}
	return "";
}
