/* analyze — frames in, flows out: reads a pcap/pcapng file or a live interface through
 * libpcap, decodes each frame (lib/pkt), feeds the TCP flow table and UDP datagrams to
 * the QUIC flow table (qflow), counts every frame it could not use by reason, and
 * optionally writes the frames out (pcapw).
 *
 * Live capture runs on lib/loop: libpcap non-blocking with its selectable fd (a
 * blocking pcap_next_ex can sleep far past its timeout on an idle interface), immediate
 * mode, a large ring buffer, stopped by a duration, a frame count, SIGINT or SIGTERM.
 */
#ifndef TP_CAPTURE_ANALYZE_H
#define TP_CAPTURE_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/flow.h"
#include "capture/qflow.h"
#include "capture/pcapw.h"
#include "lib/pkt.h"

#define CAP_DEFAULT_SNAPLEN 256        /* headers + the start of each segment */
#define CAP_DEFAULT_BUFFER (64u << 20) /* live ring buffer, bytes */

struct cap_opts {
	const char *read_path;   /* offline file, or NULL */
	const char *iface;       /* live interface, or NULL */
	const char *filter;      /* BPF expression, or NULL: live "tcp or udp", files all */
	const char *write_path;  /* save frames here, or NULL */
	int snaplen;             /* live: bytes kept per frame */
	uint64_t buffer_bytes;   /* live: ring buffer */
	double duration_s;       /* live: stop after this long (0: until a signal) */
	uint64_t max_frames;     /* stop after this many frames (0: no limit) */
	bool check_csum;         /* verify TCP checksums of fully captured segments */
	size_t max_flows;
};

struct cap_analysis {
	struct cap_opts opt;
	struct flow_table flows;
	struct qflow_table quic;  /* UDP datagrams, QUIC flows among them */
	struct pcapw writer;
	bool writing;
	int linktype;
	int snaplen;
	uint64_t frames, tcp_frames, udp_frames;
	uint64_t bytes_captured, bytes_wire;
	uint64_t skipped[PKT_E_COUNT + 1]; /* by -PKT_E_* */
	uint64_t payload_cut_frames;        /* TCP frames whose payload the snaplen cut */
	double t_first, t_last;
	char read_error[320];               /* why reading stopped early, "" when it did not */
	bool mixed_linktypes;
	/* Live capture only. */
	bool live;
	bool have_stats;
	uint64_t ps_recv, ps_drop, ps_ifdrop;
};

/* Returns 0 or -ENOMEM. */
int cap_analysis_init(struct cap_analysis *a, const struct cap_opts *opt);
void cap_analysis_free(struct cap_analysis *a);

/* One frame of the current link type (also the entry point for tests and fuzzing). */
void cap_analysis_frame(struct cap_analysis *a, uint64_t ts_us, const uint8_t *data,
			uint32_t caplen, uint32_t wirelen);

/* Runs the capture the options ask for (file or interface) to its end, then finishes
 * the flows. Returns 0 (a file that ends early still returns 0, with read_error set, as
 * does a file of frames that are not TCP), or a negative errno with a one-line message
 * in err when nothing could be read: the file cannot be opened, or no frame of it could
 * be read or decoded. */
int cap_analysis_run(struct cap_analysis *a, char *err, size_t errlen);

#endif
