/* capture — `tunnelprobe capture`: the wire's witness. Reads a pcap/pcapng file or
 * captures live, reassembles every TCP flow, flags early FINs, resets, gaps and TLS
 * truncations, joins the probe/origin/proxy ledgers and names, per tunnel and
 * direction, the first hop where the byte count drops. docs/capture.md has the
 * options, the JSON schema and the verdicts.
 *
 * Exit status: 0 every tunnel (or flow, without ledgers) ok; 1 some verdict is not ok;
 * 2 bad usage, or an input that cannot be read at all.
 */
#ifndef TP_CAPTURE_CAPTURE_H
#define TP_CAPTURE_CAPTURE_H

int capture_main(int argc, char **argv);

#endif
