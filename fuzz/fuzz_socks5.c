/* libFuzzer target: every SOCKS5 parser, both sides, on the same bytes. */
#include <stddef.h>
#include <stdint.h>

#include "lib/socks5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int err = 0;
	struct socks5_greeting g;
	struct socks5_addr a;
	uint8_t b, rep, cmd;
	char user[256], pass[256], text[300];
	int n[6] = {
		socks5_server_parse_greeting(data, size, &g, &err),
		socks5_server_parse_userpass(data, size, user, pass, &err),
		socks5_server_parse_request(data, size, &cmd, &a, &err),
		socks5_client_parse_method(data, size, &b, &err),
		socks5_client_parse_userpass_reply(data, size, &b, &err),
		socks5_client_parse_reply(data, size, &rep, &a, &err),
	};
	for (int i = 0; i < 6; i++)
		if (n[i] > (int)size || n[i] == 0)
			__builtin_trap();
	if (n[2] > 0 || n[5] > 0)
		(void)socks5_addr_format(&a, text, sizeof text);
	return 0;
}
