/* hex — hexadecimal digits, the one place every parser reads them (URL percent
 * escapes, JSON \uXXXX escapes, HTTP/1 chunk sizes, probe header values) and the
 * ledgers write them (QUIC connection IDs). */
#ifndef TP_HEX_H
#define TP_HEX_H

#include <stddef.h>

/* The value 0..15 of one hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1 for any other
 * value of c, negative ones included (a plain char above 0x7f). */
int hex_digit(int c);

/* Writes len bytes as 2 * len lowercase hex digits and a NUL into out (2 * len + 1
 * bytes: connection IDs in ledgers and capture output). Returns out. */
char *hex_encode(const void *data, size_t len, char *out);

#endif
