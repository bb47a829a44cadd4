/* libFuzzer target: every SOCKS5 parser, both sides, on the same bytes. Besides "no
 * crash, no read past len" (each prefix is parsed from its own exact-size heap copy,
 * so ASan sees any overread) it checks the contract:
 *  - a result is NEED_MORE, ERROR with a known code, or a length in 1..len;
 *  - growing the input never changes a result that is not NEED_MORE (byte-by-byte
 *    arrival gives the same answer as all at once);
 *  - whatever parses re-encodes to exactly the bytes consumed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/socks5.h"

enum { P_GREETING, P_USERPASS, P_REQUEST, P_METHOD, P_USERPASS_REPLY, P_REPLY, P_COUNT };

struct parsed {
	struct socks5_greeting greeting;
	char user[256], pass[256];
	uint8_t cmd, rep, method, status;
	struct socks5_addr addr;
};

static int run(int p, const uint8_t *in, size_t len, struct parsed *out, int *err)
{
	switch (p) {
	case P_GREETING: return socks5_server_parse_greeting(in, len, &out->greeting, err);
	case P_USERPASS: return socks5_server_parse_userpass(in, len, out->user, out->pass, err);
	case P_REQUEST: return socks5_server_parse_request(in, len, &out->cmd, &out->addr, err);
	case P_METHOD: return socks5_client_parse_method(in, len, &out->method, err);
	case P_USERPASS_REPLY: return socks5_client_parse_userpass_reply(in, len, &out->status, err);
	default: return socks5_client_parse_reply(in, len, &out->rep, &out->addr, err);
	}
}

/* Encodes what parser p produced; returns the length. */
static int reencode(int p, const struct parsed *x, uint8_t *out, size_t cap)
{
	switch (p) {
	case P_GREETING:
		if (cap < 2u + x->greeting.nmethods)
			return -1;
		out[0] = 5;
		out[1] = x->greeting.nmethods;
		memcpy(out + 2, x->greeting.methods, x->greeting.nmethods);
		for (unsigned i = 0; i < x->greeting.nmethods; i++)
			if (!socks5_greeting_offers(&x->greeting, x->greeting.methods[i]))
				__builtin_trap();
		return 2 + x->greeting.nmethods;
	case P_USERPASS: return socks5_client_userpass(out, cap, x->user, x->pass);
	case P_REQUEST: return socks5_client_request(out, cap, x->cmd, &x->addr);
	case P_METHOD: return socks5_server_method(out, cap, x->method);
	case P_USERPASS_REPLY: return socks5_server_userpass_reply(out, cap, x->status);
	default: return socks5_server_reply(out, cap, x->rep, &x->addr);
	}
}

static void check_parser(int p, const uint8_t *data, size_t size)
{
	/* The longest message is a greeting of 257 or a domain request of 262 bytes;
	 * prefixes beyond that cannot change anything. */
	size_t limit = size < 300 ? size : 300;
	int settled = SOCKS5_NEED_MORE, settled_err = -1;
	struct parsed x;
	for (size_t k = 0; k <= limit; k++) {
		uint8_t *copy = malloc(k ? k : 1);
		if (!copy)
			return;
		if (k)
			memcpy(copy, data, k);
		int err = -1;
		memset(&x, 0, sizeof x);
		int r = run(p, copy, k, &x, &err);
		free(copy);
		if (r == SOCKS5_ERROR && (err < SOCKS5_E_VERSION || err > SOCKS5_E_METHOD))
			__builtin_trap();
		if (r != SOCKS5_NEED_MORE && r != SOCKS5_ERROR && (r <= 0 || (size_t)r > k))
			__builtin_trap();
		if (settled != SOCKS5_NEED_MORE && (r != settled || err != settled_err))
			__builtin_trap();
		if (settled == SOCKS5_NEED_MORE && r != SOCKS5_NEED_MORE) {
			settled = r;
			settled_err = err;
			if (r > 0) {
				uint8_t enc[600];
				int n = reencode(p, &x, enc, sizeof enc);
				if (n != r || memcmp(enc, data, (size_t)r) != 0)
					__builtin_trap();
				if (p == P_REQUEST || p == P_REPLY) {
					char text[300];
					if (socks5_addr_format(&x.addr, text, sizeof text) <= 0)
						__builtin_trap();
				}
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int p = 0; p < P_COUNT; p++)
		check_parser(p, data, size);
	return 0;
}
