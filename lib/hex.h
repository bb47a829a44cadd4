/* hex — hexadecimal digits, the one place every parser reads them (URL percent
 * escapes, JSON \uXXXX escapes, HTTP/1 chunk sizes, probe header values). */
#ifndef TP_HEX_H
#define TP_HEX_H

/* The value 0..15 of one hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1 for any other
 * value of c, negative ones included (a plain char above 0x7f). */
int hex_digit(int c);

#endif
