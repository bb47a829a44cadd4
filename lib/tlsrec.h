/* tlsrec — sans-I/O TLS record scanner over one direction of a reassembled stream.
 *
 * It never decrypts. It follows the record layer (5-byte headers, lengths), reads the
 * plaintext parts a witness can read — the ClientHello's SNI, the ServerHello's
 * negotiated version, ChangeCipherSpec, plaintext alerts — and remembers the shape of
 * the last record, which is enough to tell how a TLS stream ended:
 *   - a plaintext alert (level + name), e.g. a fatal handshake_failure;
 *   - TLS 1.2: an alert record after ChangeCipherSpec is encrypted; as the last record
 *     before FIN it is almost always close_notify ("encrypted alert");
 *   - TLS 1.3: alerts are disguised as application data; a small type-23 record as the
 *     last record before FIN is a probable close_notify;
 *   - a FIN with no preceding close_notify, or inside a record, is a truncation
 *     candidate (the incident class "proxy closed early").
 * Feeding bytes the capture did not hold (snaplen) or a gap keeps the record count in
 * step while inside a record body, and loses sync when a header falls in it; the
 * scanner then says so instead of guessing.
 *
 * Memory: struct tlsrec is caller memory (about 400 bytes); handshake messages are
 * collected in a buffer allocated on demand, capped at TLSREC_MAX_HANDSHAKE, and freed
 * once the hello was read. tlsrec_free() releases it; NULL-safe.
 */
#ifndef TP_TLSREC_H
#define TP_TLSREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLSREC_MAX_HANDSHAKE 16384   /* a ClientHello longer than this is not read */
#define TLSREC_MAX_RECORD (16384 + 2048) /* TLSCiphertext limit (RFC 8446 §5.2) */

enum tlsrec_state {
	TLSREC_UNKNOWN = 0, /* no byte seen yet */
	TLSREC_ACTIVE,      /* in sync with the record layer */
	TLSREC_NOT_TLS,     /* the first bytes were not a TLS record header */
	TLSREC_LOST,        /* sync lost: a header fell in a gap or in uncaptured bytes */
	TLSREC_BROKEN,      /* a record header with an impossible type/version/length */
};

enum tlsrec_close {
	TLSREC_CLOSE_UNKNOWN = 0,     /* not TLS, or sync lost: nothing can be said */
	TLSREC_CLOSE_NOTIFY,          /* plaintext close_notify alert */
	TLSREC_CLOSE_ALERT,           /* a plaintext alert other than close_notify last */
	TLSREC_CLOSE_ENCRYPTED_ALERT, /* TLS 1.2: encrypted alert last (probably close_notify) */
	TLSREC_CLOSE_PROBABLE_NOTIFY, /* TLS 1.3: a small application-data record last */
	TLSREC_CLOSE_MID_RECORD,      /* the stream ended inside a record: truncated */
	TLSREC_CLOSE_NO_NOTIFY,       /* ended on a record boundary with no close_notify:
				       * a truncation candidate */
	TLSREC_CLOSE_HANDSHAKE,       /* ended before any application data (during the
				       * handshake) without an alert */
};

struct tlsrec_alert {
	uint8_t level;     /* 1 warning, 2 fatal; 0 when encrypted */
	uint8_t desc;      /* AlertDescription; 0 when encrypted */
	bool encrypted;
	uint64_t off;      /* stream offset of the alert record */
};

struct tlsrec {
	enum tlsrec_state state;
	bool lost_by_cut;       /* LOST because of snaplen (vs. a gap) */
	uint64_t pos;           /* stream offset of the next byte fed */

	uint8_t hdr[5];
	uint8_t hdr_len;        /* header bytes collected so far */
	uint8_t type;           /* current record's content type */
	uint16_t rec_len, rec_left;
	uint64_t rec_off;       /* stream offset of the current record's header */
	uint8_t alert_buf[2];
	uint8_t alert_len;

	uint8_t *hs;            /* handshake bytes being collected (on demand) */
	uint32_t hs_len;
	bool hs_done;           /* the first hello was parsed (or given up on) */

	/* What was seen. */
	uint64_t records, app_records, handshake_records;
	bool ccs_seen;          /* this direction sent ChangeCipherSpec */
	bool client_hello, server_hello;
	uint16_t version;       /* ServerHello: negotiated (supported_versions wins) */
	char sni[256];          /* ClientHello server_name, "" when none */
	uint64_t alerts;
	struct tlsrec_alert first_alert, last_alert;
	uint8_t last_type;      /* content type of the last complete record */
	uint16_t last_len;      /* its length */
	uint64_t last_off;
};

void tlsrec_init(struct tlsrec *t);
void tlsrec_free(struct tlsrec *t);

/* Feeds the next len bytes of the stream; data NULL means they crossed the wire but
 * were not captured. Never fails; the state says what could be followed. */
void tlsrec_feed(struct tlsrec *t, const uint8_t *data, size_t len);
/* The next len bytes were never seen (a gap). */
void tlsrec_gap(struct tlsrec *t, size_t len);
/* Handshake messages without the record layer, in order (QUIC carries them in CRYPTO
 * frames): the first ClientHello or ServerHello is read as from records (sni, version,
 * client_hello, server_hello); nothing else is followed. */
void tlsrec_feed_handshake(struct tlsrec *t, const uint8_t *data, size_t len);

/* How the stream ended, judged at its FIN (or RST). tls13 says the connection
 * negotiated TLS 1.3 (known from the other direction's ServerHello). */
enum tlsrec_close tlsrec_close_kind(const struct tlsrec *t, bool tls13);

/* Stable names: "close_notify", "handshake_failure", ... ("unknown(N)" is written to
 * buf for unassigned codes; buf >= 16 bytes). */
const char *tlsrec_alert_name(uint8_t desc, char *buf, size_t buflen);
/* "close_notify", "alert", "encrypted_alert", "probable_close_notify", "mid_record",
 * "no_close_notify", "handshake", "unknown". */
const char *tlsrec_close_name(enum tlsrec_close c);
/* "unknown", "tls", "not_tls", "lost", "broken". */
const char *tlsrec_state_name(enum tlsrec_state s);
/* "TLS1.2", "TLS1.3", ... or "" when unknown. */
const char *tlsrec_version_name(uint16_t v);

#endif
