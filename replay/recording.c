/* recording — see recording.h. */
#include "replay/recording.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include "lib/http1.h"
#include "lib/pkt.h"
#include "lib/tcpreasm.h"
#include "lib/textfile.h"

#define MAX_FLOWS 4096

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

/* Appends bytes to a growable buffer capped at RECORDING_MAX_BYTES. */
static int grow_append(uint8_t **buf, size_t *len, size_t *cap, const void *data, size_t n)
{
	if (*len + n > RECORDING_MAX_BYTES)
		return -EFBIG;
	if (*len + n > *cap) {
		size_t ncap = *cap ? *cap : 65536;
		while (ncap < *len + n)
			ncap *= 2;
		uint8_t *b = realloc(*buf, ncap);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = ncap;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	return 0;
}

static int add_entry(struct recording *r, const char *method, size_t mlen, const char *target,
		     size_t tlen, const void *resp, size_t len, bool close)
{
	if (r->n == RECORDING_MAX_ENTRIES)
		return -EFBIG;
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 64;
		struct rec_entry *e = realloc(r->e, ncap * sizeof *e);
		if (!e)
			return -ENOMEM;
		r->e = e;
		r->cap = ncap;
	}
	struct rec_entry *e = &r->e[r->n];
	memset(e, 0, sizeof *e);
	/* Absolute form (a request to a forward proxy) keeps only its path. */
	if (tlen > 7 && (strncmp(target, "http://", 7) == 0 || strncmp(target, "https://", 8) == 0)) {
		const char *slash = memchr(target + 8, '/', tlen - 8);
		size_t cut = slash ? (size_t)(slash - target) : tlen;
		target = slash ? slash : "/";
		tlen = slash ? tlen - cut : 1;
	}
	snprintf(e->method, sizeof e->method, "%.*s", (int)(mlen < 15 ? mlen : 15), method);
	snprintf(e->target, sizeof e->target, "%.*s", (int)(tlen < 511 ? tlen : 511), target);
	e->off = r->used;
	e->len = len;
	e->close = close;
	int rc = grow_append(&r->arena, &r->used, &r->arena_cap, resp, len);
	if (rc == 0)
		r->n++;
	return rc;
}

/* ---- pcap ---- */

struct rdir {
	struct rflow *f;
	int d;
};

struct rflow {
	uint8_t ipv, a[16], b[16];
	uint16_t ap, bp;
	struct tcpreasm dir[2];
	struct rdir ctx[2];
	uint8_t *buf[2];
	size_t len[2], cap[2];
	bool cut;  /* bytes missing (snaplen, gaps): the flow cannot be replayed */
	bool full; /* over the size cap */
};

static void on_bytes(void *ctx, enum tcpreasm_kind kind, uint64_t off, const uint8_t *data, size_t len)
{
	struct rdir *rd = ctx;
	struct rflow *f = rd->f;
	(void)off;
	if (kind != TCPREASM_DATA) {
		f->cut = true;
		return;
	}
	if (!f->cut && !f->full && grow_append(&f->buf[rd->d], &f->len[rd->d], &f->cap[rd->d], data, len) < 0)
		f->full = true;
}

/* Splits one flow's streams into request/response pairs. */
static int pair_flow(struct recording *r, struct rflow *f)
{
	int client = f->len[0] >= 5 && memcmp(f->buf[0], "HTTP/", 5) == 0 ? 1 : 0;
	const char *req = (const char *)f->buf[client], *resp = (const char *)f->buf[!client];
	size_t reqlen = f->len[client], resplen = f->len[!client];
	size_t rp = 0, sp = 0;
	while (sp < resplen) {
		/* The request this response answers (none when the capture missed it). */
		struct http1_request rq;
		int err = 0, n = rp < reqlen ? http1_parse_request(req + rp, reqlen - rp, HTTP1_MAX_HEAD, &rq, &err) : -1;
		const char *method = "*", *target = "*";
		size_t mlen = 1, tlen = 1;
		if (n > 0) {
			method = rq.method, mlen = rq.method_len, target = rq.target, tlen = rq.target_len;
			rp += (size_t)n;
			struct http1_body b;
			http1_body_init(&b, rq.framing, rq.content_length);
			while (rp < reqlen && !b.done) {
				const uint8_t *span;
				size_t span_len;
				long used = http1_body_feed(&b, (const uint8_t *)req + rp, reqlen - rp, &span, &span_len, &err);
				if (used <= 0)
					break;
				rp += (size_t)used;
			}
		} else {
			rp = reqlen;
		}
		unsigned flags = mlen == 4 && memcmp(method, "HEAD", 4) == 0 ? HTTP1_REQ_HEAD : 0;
		size_t start = sp;
		struct http1_response rs;
		int h;
		for (;;) { /* interim 1xx responses travel with the final one */
			h = http1_parse_response(resp + sp, resplen - sp, HTTP1_MAX_HEAD, flags, &rs, &err);
			if (h <= 0 || rs.status >= 200 || rs.status == 101)
				break;
			sp += (size_t)h;
		}
		if (h <= 0)
			break; /* not a response: the rest of the stream is not replayable */
		sp += (size_t)h;
		if (rs.framing == HTTP1_FRAMING_CLOSE) {
			sp = resplen;
		} else if (rs.framing != HTTP1_FRAMING_NONE) {
			struct http1_body b;
			http1_body_init(&b, rs.framing, rs.content_length);
			while (sp < resplen && !b.done) {
				const uint8_t *span;
				size_t span_len;
				long used = http1_body_feed(&b, (const uint8_t *)resp + sp, resplen - sp, &span, &span_len, &err);
				if (used <= 0)
					break;
				sp += (size_t)used;
			}
			if (!b.done)
				sp = resplen; /* cut short in the recording: replay it cut short */
		}
		int rc = add_entry(r, method, mlen, target, tlen, resp + start, sp - start,
				   rs.framing == HTTP1_FRAMING_CLOSE || !rs.keep_alive);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int load_pcap(struct recording *r, const char *path, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, perr);
	if (!p)
		return fail(err, errlen, -EINVAL, "%s: not a pcap or pcapng file: %s", path, perr);
	int linktype = pcap_datalink(p);
	struct rflow *flows = calloc(MAX_FLOWS, sizeof *flows);
	size_t nflows = 0;
	int rc = flows ? 0 : -ENOMEM;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	unsigned long frame = 0, cut_frame = 0;
	int got;
	while (rc == 0 && (got = pcap_next_ex(p, &hdr, &data)) == 1) {
		frame++;
		struct pkt k;
		if (pkt_parse(linktype, data, hdr->caplen, hdr->len, false, &k) != 0)
			continue; /* not TCP/IP: skipped */
		size_t alen = k.ip_version == 4 ? 4 : 16;
		struct rflow *f = NULL;
		int d = 0;
		for (size_t i = 0; i < nflows && !f; i++) {
			struct rflow *g = &flows[i];
			if (g->ipv != k.ip_version)
				continue;
			if (g->ap == k.sport && g->bp == k.dport && !memcmp(g->a, k.src, alen) && !memcmp(g->b, k.dst, alen))
				f = g, d = 0;
			else if (g->ap == k.dport && g->bp == k.sport && !memcmp(g->a, k.dst, alen) && !memcmp(g->b, k.src, alen))
				f = g, d = 1;
		}
		if (!f) {
			if (nflows == MAX_FLOWS) {
				rc = fail(err, errlen, -EFBIG, "%s: more than %d TCP flows", path, MAX_FLOWS);
				break;
			}
			f = &flows[nflows++];
			f->ipv = k.ip_version;
			memcpy(f->a, k.src, 16);
			memcpy(f->b, k.dst, 16);
			f->ap = k.sport;
			f->bp = k.dport;
			for (int x = 0; x < 2; x++) {
				f->ctx[x] = (struct rdir){f, x};
				tcpreasm_init(&f->dir[x], NULL, on_bytes, &f->ctx[x]);
			}
		}
		tcpreasm_segment(&f->dir[d], k.seq, k.flags, k.payload, k.payload_len, k.payload_cap);
		if (f->cut && !cut_frame)
			cut_frame = frame;
		if (f->full)
			rc = fail(err, errlen, -EFBIG, "%s: more than %u MiB of TCP payload", path, RECORDING_MAX_BYTES >> 20);
	}
	if (rc == 0 && got == -1)
		rc = fail(err, errlen, -EINVAL, "%s: packet %lu: %s", path, frame + 1, pcap_geterr(p));
	for (size_t i = 0; i < nflows; i++) {
		if (rc == 0) {
			tcpreasm_finish(&flows[i].dir[0]);
			tcpreasm_finish(&flows[i].dir[1]);
			if (flows[i].cut)
				r->skipped_flows++;
			else if (pair_flow(r, &flows[i]) < 0)
				rc = fail(err, errlen, -EFBIG, "%s: more than %u MiB of responses", path, RECORDING_MAX_BYTES >> 20);
		}
		tcpreasm_free(&flows[i].dir[0]);
		tcpreasm_free(&flows[i].dir[1]);
		free(flows[i].buf[0]);
		free(flows[i].buf[1]);
	}
	free(flows);
	pcap_close(p);
	if (rc == 0 && r->n == 0 && r->skipped_flows)
		rc = fail(err, errlen, -EINVAL, "%s: packet %lu: payload missing (cut by the snap length, dropped "
			  "by the kernel, or a gap) and no complete flow left: capture with -s 0", path, cut_frame);
	return rc;
}

/* ---- a directory of raw responses ---- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_file(struct recording *r, const char *dir, const char *name, const char *method,
		    const char *target, char *err, size_t errlen)
{
	char path[4096], *buf;
	size_t len;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int rc = textfile_read(path, RECORDING_MAX_BYTES, &buf, &len, err, errlen);
	if (rc < 0)
		return rc == -EFBIG ? -EINVAL : rc;
	struct http1_response rs;
	int e = 0;
	if (http1_parse_response(buf, len, HTTP1_MAX_HEAD, 0, &rs, &e) <= 0) {
		free(buf);
		return fail(err, errlen, -EINVAL, "%s: not an HTTP/1 response: %s", path,
			    e ? http1_strerror(e) : "head incomplete");
	}
	rc = add_entry(r, method, strlen(method), target, strlen(target), buf, len,
		       rs.framing == HTTP1_FRAMING_CLOSE || !rs.keep_alive);
	free(buf);
	return rc < 0 ? fail(err, errlen, rc, "%s: recording too large", path) : 0;
}

static int load_dir(struct recording *r, const char *dir, char *err, size_t errlen)
{
	char index[4096], *text;
	size_t len;
	snprintf(index, sizeof index, "%s/index", dir);
	if (textfile_read(index, 1 << 20, &text, &len, err, errlen) == 0) {
		unsigned line = 0;
		int rc = 0;
		for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && rc == 0; l = strtok_r(NULL, "\n", &save)) {
			line++;
			char method[16], target[512], file[256];
			if (l[0] == '#' || strspn(l, " \t\r") == strlen(l))
				continue;
			if (sscanf(l, "%15s %511s %255s", method, target, file) != 3 || strchr(file, '/')) {
				rc = fail(err, errlen, -EINVAL, "%s:%u: want METHOD TARGET FILE", index, line);
				break;
			}
			rc = add_file(r, dir, file, method, target, err, errlen);
		}
		free(text);
		return rc;
	}
	DIR *d = opendir(dir);
	if (!d)
		return fail(err, errlen, -EIO, "%s: cannot read: %s", dir, strerror(errno));
	char *names[4096];
	size_t n = 0;
	for (struct dirent *de; (de = readdir(d)) && n < 4096;) {
		size_t l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".http") == 0 && (names[n] = strdup(de->d_name)))
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof names[0], cmp_names);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = add_file(r, dir, names[i], "*", "*", err, errlen);
		free(names[i]);
	}
	return rc;
}

/* ---- loading and matching ---- */

static bool same_key(const struct rec_entry *a, const struct rec_entry *b)
{
	return strcmp(a->method, b->method) == 0 && strcmp(a->target, b->target) == 0;
}

int recording_load(struct recording *r, const char *path, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	struct stat st;
	if (stat(path, &st) < 0)
		return fail(err, errlen, -EIO, "%s: %s", path, strerror(errno));
	int rc = S_ISDIR(st.st_mode) ? load_dir(r, path, err, errlen) : load_pcap(r, path, err, errlen);
	if (rc == 0 && r->n == 0)
		rc = fail(err, errlen, -EINVAL, "%s: no HTTP/1 response found", path);
	if (rc == 0) {
		/* One counter per key, shared by its entries (kept in recorded order). */
		r->counters = calloc(r->n, sizeof *r->counters);
		if (!r->counters)
			rc = -ENOMEM;
		for (size_t i = 0; rc == 0 && i < r->n; i++) {
			r->e[i].next = NULL;
			for (size_t j = 0; j < i && !r->e[i].next; j++)
				if (same_key(&r->e[i], &r->e[j]))
					r->e[i].next = r->e[j].next;
			if (!r->e[i].next)
				r->e[i].next = &r->counters[r->ncounters++];
		}
	}
	if (rc < 0)
		recording_free(r);
	return rc;
}

void recording_free(struct recording *r)
{
	if (!r)
		return;
	free(r->e);
	free(r->arena);
	free(r->counters);
	memset(r, 0, sizeof *r);
}

static bool key_matches(const struct rec_entry *e, const char *method, const char *target)
{
	return (strcmp(e->method, "*") == 0 || strcmp(e->method, method) == 0) &&
	       (strcmp(e->target, "*") == 0 || strcmp(e->target, target) == 0);
}

const uint8_t *recording_match(struct recording *r, const char *method, const char *target,
			       size_t *len, bool *close)
{
	const struct rec_entry *first = NULL;
	size_t count = 0;
	for (size_t i = 0; i < r->n; i++)
		if (key_matches(&r->e[i], method, target)) {
			if (!first)
				first = &r->e[i];
			if (same_key(&r->e[i], first))
				count++;
		}
	if (!first)
		return NULL;
	unsigned k = atomic_fetch_add(first->next, 1) % (unsigned)count;
	for (size_t i = 0; i < r->n; i++)
		if (same_key(&r->e[i], first) && k-- == 0) {
			*len = r->e[i].len;
			*close = r->e[i].close;
			return r->arena + r->e[i].off;
		}
	return NULL;
}
