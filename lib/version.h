/* version — the toolkit's version, written into run files ("tool") and reports, and
 * printed by `tunnelprobe version`. One home so every part says the same. */
#ifndef TP_VERSION_H
#define TP_VERSION_H

#define TP_VERSION "0.1.0"

#endif
