/* probe — the concurrent probe: load generator and per-byte verifier (SPEC §5). */
#ifndef TP_PROBE_H
#define TP_PROBE_H

/* `tunnelprobe probe ...`: exit 0 when every request was ok, 1 when some failed,
 * 2 for bad usage or configuration. */
int probe_main(int argc, char **argv);
/* `tunnelprobe gen TARGET SIZE` / `tunnelprobe gen --seed TARGET`: the payload
 * generator on stdout, for origins we do not control (nginx serving files). */
int gen_main(int argc, char **argv);

#endif
