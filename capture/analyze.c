/* analyze — see analyze.h. */
#include "capture/analyze.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "capture/pcapfile.h"
#include "lib/loop.h"

int cap_analysis_init(struct cap_analysis *a, const struct cap_opts *opt)
{
	memset(a, 0, sizeof *a);
	a->opt = *opt;
	a->linktype = -1;
	qflow_table_init(&a->quic, opt->max_flows);
	return flow_table_init(&a->flows, opt->max_flows, NULL);
}

void cap_analysis_free(struct cap_analysis *a)
{
	if (!a)
		return;
	flow_table_free(&a->flows);
	qflow_table_free(&a->quic);
	if (a->writing)
		pcapw_close(&a->writer);
	a->writing = false;
}

void cap_analysis_frame(struct cap_analysis *a, uint64_t ts_us, const uint8_t *data,
			uint32_t caplen, uint32_t wirelen)
{
	double ts = (double)ts_us / 1e6;
	a->frames++;
	a->bytes_captured += caplen;
	a->bytes_wire += wirelen;
	if (a->frames == 1)
		a->t_first = ts;
	if (ts > a->t_last)
		a->t_last = ts;
	if (a->writing)
		pcapw_write(&a->writer, ts_us, data, caplen, wirelen);
	struct pkt p;
	int rc = pkt_parse_ip(a->linktype, data, caplen, wirelen, a->opt.check_csum, &p);
	if (rc < 0) {
		a->skipped[-rc <= PKT_E_COUNT ? -rc : 0]++;
		return;
	}
	if (p.proto == PKT_PROTO_UDP) {
		a->udp_frames++;
		qflow_table_datagram(&a->quic, ts, &p);
		return;
	}
	a->tcp_frames++;
	if (p.payload_cap < p.payload_len)
		a->payload_cut_frames++;
	flow_table_segment(&a->flows, ts, &p);
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct cap_analysis *a = (struct cap_analysis *)user;
	uint64_t ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
	cap_analysis_frame(a, ts_us, bytes, h->caplen, h->len);
}

static int set_filter(pcap_t *p, const char *expr, char *err, size_t errlen)
{
	struct bpf_program prog;
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "bad filter '%s': %s", expr, pcap_geterr(p));
		return -EINVAL;
	}
	int rc = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	if (rc != 0) {
		snprintf(err, errlen, "cannot set filter '%s': %s", expr, pcap_geterr(p));
		return -EINVAL;
	}
	return 0;
}

static int start_writer(struct cap_analysis *a, char *err, size_t errlen)
{
	if (!a->opt.write_path)
		return 0;
	/* Files carry LINKTYPE_* numbers; libpcap reports DLT_RAW as 12 (or 14). */
	int lt = a->linktype == 12 || a->linktype == 14 ? PKT_LINK_RAW : a->linktype;
	int rc = pcapw_open(&a->writer, a->opt.write_path, lt, (uint32_t)a->snaplen);
	if (rc < 0) {
		snprintf(err, errlen, "cannot write %s: %s", a->opt.write_path, strerror(-rc));
		pcapw_close(&a->writer);
		return rc;
	}
	a->writing = true;
	return 0;
}

static int check_linktype(struct cap_analysis *a, pcap_t *p, const char *what, char *err,
			  size_t errlen)
{
	a->linktype = pcap_datalink(p);
	a->snaplen = pcap_snapshot(p);
	if (!pkt_link_supported(a->linktype)) {
		const char *name = pcap_datalink_val_to_name(a->linktype);
		snprintf(err, errlen,
			 "%s: link type %d (%s) is not supported; supported: EN10MB, NULL, LOOP, "
			 "LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6",
			 what, a->linktype, name ? name : "unknown");
		return -EPROTONOSUPPORT;
	}
	return 0;
}

/* Classic pcap files are mapped and walked in place (pcapfile.h): no copy per frame.
 * Returns 1 when the file is not classic pcap (the caller falls back to libpcap). */
static int run_mapped(struct cap_analysis *a, char *err, size_t errlen)
{
	int fd = open(a->opt.read_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1; /* libpcap gives the message */
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 24) {
		close(fd);
		return 1;
	}
	size_t len = (size_t)st.st_size;
	uint8_t *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return 1;
	madvise(map, len, MADV_SEQUENTIAL);
	struct pcapfile f;
	int rc = 1;
	pcap_t *dead = NULL;
	struct bpf_program prog;
	bool have_prog = false;
	if (pcapfile_open(&f, map, len) != PCAPFILE_OK)
		goto out;
	rc = 0;
	a->linktype = (int)f.linktype;
	a->snaplen = (int)f.snaplen;
	if (!pkt_link_supported(a->linktype)) {
		snprintf(err, errlen,
			 "%s: link type %d is not supported; supported: EN10MB, NULL, LOOP, "
			 "LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6", a->opt.read_path, a->linktype);
		rc = -EPROTONOSUPPORT;
		goto out;
	}
	if (a->opt.filter) {
		dead = pcap_open_dead(a->linktype == PKT_LINK_RAW ? 12 : a->linktype,
				      (int)(f.snaplen ? f.snaplen : PCAPFILE_MAX_CAPLEN));
		if (!dead || pcap_compile(dead, &prog, a->opt.filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			snprintf(err, errlen, "bad filter '%s': %s", a->opt.filter,
				 dead ? pcap_geterr(dead) : "out of memory");
			rc = -EINVAL;
			goto out;
		}
		have_prog = true;
	}
	rc = start_writer(a, err, errlen);
	if (rc < 0)
		goto out;
	struct pcapfile_rec r;
	int n;
	size_t released = 0;
	const size_t chunk = 8u << 20;
	while ((n = pcapfile_next(&f, &r)) == PCAPFILE_OK) {
		/* Unmap what was read so resident memory tracks the flows, not the file
		 * (nothing keeps pointers into frames once they are processed). */
		if (f.off - released > 2 * chunk) {
			madvise(map + released, chunk, MADV_DONTNEED);
			released += chunk;
		}
		if (have_prog) {
			struct pcap_pkthdr h = {.caplen = r.caplen, .len = r.wirelen};
			if (!pcap_offline_filter(&prog, &h, r.data))
				continue;
		}
		cap_analysis_frame(a, r.ts_us, r.data, r.caplen, r.wirelen);
		if (a->opt.max_frames && a->frames >= a->opt.max_frames)
			break;
	}
	if (n < 0)
		snprintf(a->read_error, sizeof a->read_error,
			 "%s: %s; analysed the %" PRIu64 " frames before it", a->opt.read_path,
			 pcapfile_strerror(n), a->frames);
out:
	if (have_prog)
		pcap_freecode(&prog);
	if (dead)
		pcap_close(dead);
	munmap(map, len);
	return rc;
}

static int run_offline(struct cap_analysis *a, char *err, size_t errlen)
{
	int mapped = run_mapped(a, err, errlen);
	if (mapped <= 0)
		return mapped;
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_open_offline_with_tstamp_precision(a->opt.read_path,
							     PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!p) {
		snprintf(err, errlen, "cannot read %s: %s", a->opt.read_path, ebuf);
		return -EINVAL;
	}
	int rc = check_linktype(a, p, a->opt.read_path, err, errlen);
	if (rc == 0 && a->opt.filter)
		rc = set_filter(p, a->opt.filter, err, errlen);
	if (rc == 0)
		rc = start_writer(a, err, errlen);
	if (rc < 0)
		goto out;
	for (;;) {
		int cnt = a->opt.max_frames ? (int)(a->opt.max_frames - a->frames < 4096 ?
						    a->opt.max_frames - a->frames : 4096) : 4096;
		if (a->opt.max_frames && a->frames >= a->opt.max_frames)
			break;
		int n = pcap_dispatch(p, cnt, on_frame, (u_char *)a);
		if (n == 0)
			break; /* end of file */
		if (n == PCAP_ERROR) {
			const char *why = pcap_geterr(p);
			if (strstr(why, "different from the type of the first interface")) {
				a->mixed_linktypes = true;
				snprintf(a->read_error, sizeof a->read_error,
					 "this pcapng mixes interfaces with different link types (%s); "
					 "split it per interface, e.g. tshark -r IN -Y "
					 "'frame.interface_id == 1' -w if1.pcapng, then run capture on "
					 "each part",
					 why);
			} else {
				snprintf(a->read_error, sizeof a->read_error,
					 "%s: %s; analysed the %" PRIu64 " frames before it",
					 a->opt.read_path, why, a->frames);
			}
			break;
		}
		if (n == PCAP_ERROR_BREAK)
			break;
	}
out:
	pcap_close(p);
	return rc;
}

/* Live capture state on the loop. */
struct live {
	struct cap_analysis *a;
	pcap_t *p;
	struct loop loop;
	struct loop_io pcap_io, sig_io;
	struct loop_timer stop_timer, poll_timer;
	int sig_fd;
};

static void live_drain(struct live *l)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		int n = pcap_dispatch(l->p, -1, on_frame, (u_char *)l->a);
		if (n <= 0) {
			if (n == PCAP_ERROR)
				snprintf(l->a->read_error, sizeof l->a->read_error, "%s",
					 pcap_geterr(l->p));
			if (n == PCAP_ERROR)
				loop_stop(&l->loop);
			return;
		}
		if (l->a->opt.max_frames && l->a->frames >= l->a->opt.max_frames) {
			loop_stop(&l->loop);
			return;
		}
	}
}

static void on_pcap(struct loop *loop, struct loop_io *io, unsigned events)
{
	live_drain(io->data);
}

static void on_signal(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct live *l = io->data;
	struct signalfd_siginfo si;
	if (read(l->sig_fd, &si, sizeof si) > 0)
		loop_stop(loop);
}

static void on_stop_timer(struct loop *loop, struct loop_timer *t)
{
	loop_stop(loop);
}

static void on_poll_timer(struct loop *loop, struct loop_timer *t)
{
	/* A safety net: TPACKET_V3 may hold a partly filled block past its timeout. */
	struct live *l = t->data;
	live_drain(l);
	loop_timer_start(loop, t, 100000);
}

static int run_live(struct cap_analysis *a, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct live l = {.a = a, .sig_fd = -1};
	sigset_t mask, old;
	bool masked = false, loop_ok = false;
	int rc = 0;
	a->live = true;
	l.p = pcap_create(a->opt.iface, ebuf);
	if (!l.p) {
		snprintf(err, errlen, "cannot open interface %s: %s", a->opt.iface, ebuf);
		return -ENODEV;
	}
	pcap_set_snaplen(l.p, a->opt.snaplen);
	pcap_set_promisc(l.p, 0);
	pcap_set_immediate_mode(l.p, 1);
	pcap_set_buffer_size(l.p, (int)(a->opt.buffer_bytes > (1u << 30) ? (1u << 30) :
						     a->opt.buffer_bytes));
	int act = pcap_activate(l.p);
	if (act < 0) {
		snprintf(err, errlen, "cannot capture on %s: %s%s", a->opt.iface,
			 pcap_statustostr(act),
			 act == PCAP_ERROR_PERM_DENIED ? " (live capture needs root or CAP_NET_RAW)" :
			 "");
		if (act == PCAP_ERROR)
			snprintf(err, errlen, "cannot capture on %s: %s", a->opt.iface,
				 pcap_geterr(l.p));
		rc = -EPERM;
		goto out;
	}
	rc = check_linktype(a, l.p, a->opt.iface, err, errlen);
	if (rc == 0)
		rc = set_filter(l.p, a->opt.filter ? a->opt.filter : "tcp or udp", err, errlen);
	if (rc == 0)
		rc = start_writer(a, err, errlen);
	if (rc < 0)
		goto out;
	if (pcap_setnonblock(l.p, 1, ebuf) != 0) {
		snprintf(err, errlen, "cannot make the capture non-blocking: %s", ebuf);
		rc = -EIO;
		goto out;
	}
	int fd = pcap_get_selectable_fd(l.p);
	if (fd < 0) {
		snprintf(err, errlen, "interface %s has no selectable descriptor", a->opt.iface);
		rc = -EIO;
		goto out;
	}
	rc = loop_init(&l.loop);
	if (rc < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(-rc));
		goto out;
	}
	loop_ok = true;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, &old);
	masked = true;
	l.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l.sig_fd < 0 ||
	    (rc = loop_io_start(&l.loop, &l.sig_io, l.sig_fd, LOOP_READ, on_signal, &l)) < 0 ||
	    (rc = loop_io_start(&l.loop, &l.pcap_io, fd, LOOP_READ, on_pcap, &l)) < 0) {
		snprintf(err, errlen, "event loop: %s", strerror(rc < 0 ? -rc : errno));
		rc = rc < 0 ? rc : -errno;
		goto out;
	}
	loop_timer_init(&l.stop_timer, on_stop_timer, &l);
	loop_timer_init(&l.poll_timer, on_poll_timer, &l);
	if (a->opt.duration_s > 0)
		loop_timer_start(&l.loop, &l.stop_timer, (uint64_t)(a->opt.duration_s * 1e6));
	loop_timer_start(&l.loop, &l.poll_timer, 100000);
	/* Tests and scripts wait for this line before sending traffic. */
	fprintf(stderr, "capture: listening on %s (%s), snaplen %d, buffer %llu MiB\n",
		a->opt.iface, pkt_link_name(a->linktype), a->snaplen,
		(unsigned long long)(a->opt.buffer_bytes >> 20));
	fflush(stderr);
	rc = loop_run(&l.loop);
	live_drain(&l); /* what arrived after the stop decision */
	struct pcap_stat st;
	if (pcap_stats(l.p, &st) == 0) {
		a->have_stats = true;
		a->ps_recv = st.ps_recv;
		a->ps_drop = st.ps_drop;
		a->ps_ifdrop = st.ps_ifdrop;
	}
	if (rc < 0)
		snprintf(err, errlen, "event loop: %s", strerror(-rc));
out:
	if (loop_ok) {
		loop_io_stop(&l.loop, &l.pcap_io);
		loop_io_stop(&l.loop, &l.sig_io);
		loop_timer_stop(&l.loop, &l.stop_timer);
		loop_timer_stop(&l.loop, &l.poll_timer);
		loop_free(&l.loop);
	}
	if (l.sig_fd >= 0)
		close(l.sig_fd);
	if (masked)
		sigprocmask(SIG_SETMASK, &old, NULL);
	pcap_close(l.p);
	return rc;
}

/* A file none of whose frames could be read is an input that cannot be read at all,
 * not an empty capture: no frame at all before a read error, or only frames too
 * damaged to decode (frames that are simply not TCP count as read). */
static int check_readable(const struct cap_analysis *a, char *err, size_t errlen)
{
	uint64_t readable = a->tcp_frames + a->udp_frames + a->skipped[-PKT_E_NOT_IP] +
			    a->skipped[-PKT_E_NOT_TCP] + a->skipped[-PKT_E_FRAGMENT];
	if (a->live || readable)
		return 0;
	if (a->frames == 0 && a->read_error[0]) {
		snprintf(err, errlen, "no frame could be read: %s", a->read_error);
		return -EINVAL;
	}
	if (a->frames) {
		snprintf(err, errlen, "%s: none of its %" PRIu64 " frames could be decoded (%" PRIu64
			 " truncated, %" PRIu64 " bad IP, %" PRIu64 " bad TCP, %" PRIu64 " other)",
			 a->opt.read_path, a->frames, a->skipped[-PKT_E_TRUNCATED], a->skipped[-PKT_E_BAD_IP],
			 a->skipped[-PKT_E_BAD_TCP], a->skipped[0] + a->skipped[-PKT_E_LINKTYPE]);
		return -EINVAL;
	}
	return 0;
}

int cap_analysis_run(struct cap_analysis *a, char *err, size_t errlen)
{
	int rc = a->opt.iface ? run_live(a, err, errlen) : run_offline(a, err, errlen);
	if (rc == 0)
		rc = check_readable(a, err, errlen);
	flow_table_finish(&a->flows);
	qflow_table_finish(&a->quic);
	if (a->writing) {
		int wrc = pcapw_close(&a->writer);
		a->writing = false;
		if (wrc < 0 && rc == 0) {
			snprintf(err, errlen, "writing %s: %s", a->opt.write_path, strerror(-wrc));
			rc = wrc;
		}
	}
	return rc;
}
