/* quicinit — Initial packets read in full. Their protection is keyed by the client's
 * first Destination Connection ID, which is on the wire (RFC 9001 §5.2), so a capture
 * can decrypt them without any secret: this derives the Initial keys (HKDF with GnuTLS),
 * removes header protection, opens the AEAD, and walks the frames an Initial may carry
 * (PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE) — what a refused or failed handshake
 * says, and the TLS hellos in its CRYPTO frames.
 *
 * QUIC version 1 only (RFC 9001's salt and labels); other versions are reported as not
 * decrypted. Sans-I/O; frames are read through lib/pkt's checked readers. The keys are
 * the caller's (a capture keeps one pair per flow).
 */
#ifndef TP_CAPTURE_QUICINIT_H
#define TP_CAPTURE_QUICINIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/quichdr.h"

#define QUICINIT_MAX_CRYPTO 8 /* CRYPTO frames reported per packet */

struct quicinit_keys {
	uint8_t key[16];  /* AEAD_AES_128_GCM */
	uint8_t iv[12];
	uint8_t hp[16];   /* AES-128 header protection */
};

/* The Initial keys of one side for a connection whose client sent its first Initial to
 * odcid: server false gives the keys the client's Initials are sealed with, true the
 * server's. Returns 0, -ENOTSUP (not QUIC v1), -EINVAL (odcid longer than 20 bytes), or
 * -EIO (the crypto library failed). */
int quicinit_keys(uint32_t version, const uint8_t *odcid, size_t odcidlen, bool server,
		  struct quicinit_keys *k);

/* Opens one Initial packet: pkt[0..h->length) as quichdr_read() framed it. Writes its
 * frames (the plaintext payload) to out, which needs h->length bytes, and the packet
 * number to *pn. Returns the payload length, -EBADMSG when it does not authenticate
 * (other keys: a Retry changed the DCID, or not this connection's), -EINVAL when h is
 * not an Initial or the packet is too short to hold a sample and a tag, -EIO. */
long quicinit_open(const struct quicinit_keys *k, const struct quichdr *h, const uint8_t *pkt,
		   uint8_t *out, size_t cap, uint64_t *pn);

struct quicinit_crypto {
	uint64_t offset;
	const uint8_t *data;  /* inside the payload walked */
	size_t len;
};

struct quicinit_frames {
	bool ping, ack, padding;
	bool close;            /* a CONNECTION_CLOSE */
	bool app;              /* ... of type 0x1d (application), not 0x1c (transport) */
	uint64_t code;         /* its error code */
	uint64_t frame_type;   /* 0x1c: the frame type that caused it */
	char reason[128];      /* the reason phrase, printable ASCII, cut to fit */
	struct quicinit_crypto crypto[QUICINIT_MAX_CRYPTO];
	size_t ncrypto;
	bool bad;              /* a frame that is malformed or not allowed in an Initial
			        * ended the walk (what came before is kept) */
};

/* Walks the frames of an opened Initial. Never fails: what cannot be read sets bad. */
void quicinit_frames(const uint8_t *p, size_t len, struct quicinit_frames *f);

#endif
