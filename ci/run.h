/* run — `tunnelprobe run [SCENARIO] [--proxy URL] [--out DIR]`: starts what a scenario
 * needs on free loopback ports (origin, reference proxies, capture), runs the probe,
 * stops everything, joins the ledgers, checks the expectations and writes a run
 * folder with a report. Without a scenario: the built-in demo (docs/incidents/). */
#ifndef TP_CI_RUN_H
#define TP_CI_RUN_H

/* Exit 0 when the expectations hold, 1 when not, 2 for bad input. */
int run_main(int argc, char **argv);

#endif
