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
#include "lib/url.h"

#define MAX_FLOWS 4096
#define MAX_RAW_FILES 4096

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

/* arr (n elements of size elem) with room for one more, doubling: the same or a new
 * pointer (the old one is then freed), or NULL with arr untouched. */
static void *grow_array(void *arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return arr;
	size_t ncap = *cap ? *cap * 2 : 64;
	void *a = realloc(arr, ncap * elem);
	if (a)
		*cap = ncap;
	return a;
}

static int add_entry(struct recording *r, const char *method, size_t mlen, const char *target,
		     size_t tlen, const void *resp, size_t len, int status, bool close)
{
	if (r->n == RECORDING_MAX_ENTRIES)
		return -EFBIG;
	struct rec_entry *all = grow_array(r->e, &r->cap, r->n, sizeof *all);
	if (!all)
		return -ENOMEM;
	r->e = all;
	struct rec_entry *e = &r->e[r->n];
	memset(e, 0, sizeof *e);
	target = url_origin_form(target, &tlen); /* a request to a forward proxy: its path */
	snprintf(e->method, sizeof e->method, "%.*s", (int)(mlen < 15 ? mlen : 15), method);
	snprintf(e->target, sizeof e->target, "%.*s", (int)(tlen < 511 ? tlen : 511), target);
	e->off = r->used;
	e->len = len;
	e->status = status;
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
	int64_t now_us; /* capture time of the packet being fed */
	struct tchunk *ch[2]; /* per direction: bytes as they became in order, with times */
	size_t nch[2], chcap[2];
};

/* Bytes of one direction up to end arrived in order at ts_us (capture time). */
struct tchunk {
	size_t end;
	int64_t ts_us;
};

static int add_chunk(struct rflow *f, int d, size_t end)
{
	if (f->nch[d] && f->ch[d][f->nch[d] - 1].ts_us == f->now_us) {
		f->ch[d][f->nch[d] - 1].end = end; /* one packet, one chunk */
		return 0;
	}
	struct tchunk *ch = grow_array(f->ch[d], &f->chcap[d], f->nch[d], sizeof *ch);
	if (!ch)
		return -ENOMEM;
	f->ch[d] = ch;
	f->ch[d][f->nch[d]++] = (struct tchunk){end, f->now_us};
	return 0;
}

/* A packet's capture time in microseconds, clamped to [0, 2^62]: times are only
 * subtracted from each other, and a hostile file's (pcapng has 64-bit stamps) must
 * not overflow. */
static int64_t capture_us(const struct timeval *tv)
{
	const int64_t max_s = ((int64_t)1 << 62) / 1000000;
	int64_t s = tv->tv_sec < 0 ? 0 : tv->tv_sec > max_s ? max_s : (int64_t)tv->tv_sec;
	int64_t us = tv->tv_usec < 0 ? 0 : tv->tv_usec > 999999 ? 999999 : (int64_t)tv->tv_usec;
	return s * 1000000 + us;
}

/* When byte `at` of direction d (the last byte of something) arrived; 0 when unknown.
 * *cur is a chunk index kept by the caller: asked in increasing order of `at`, a flow's
 * chunks are walked once. */
static int64_t time_of(const struct rflow *f, int d, size_t at, size_t *cur)
{
	while (*cur < f->nch[d] && f->ch[d][*cur].end <= at)
		(*cur)++;
	if (*cur < f->nch[d])
		return f->ch[d][*cur].ts_us;
	return f->nch[d] ? f->ch[d][f->nch[d] - 1].ts_us : 0;
}

/* The segments of response bytes [start, end) of direction d, the first timed from
 * t_req (the request's last byte; 0 when there was none). *cur is the caller's chunk
 * index, as for time_of (responses come in stream order). */
static int add_segments(struct recording *r, const struct rflow *f, int d, size_t start, size_t end,
			int64_t t_req, size_t *cur)
{
	struct rec_entry *e = &r->e[r->n - 1];
	e->seg_off = r->nsegs;
	int64_t prev = t_req;
	while (*cur < f->nch[d] && f->ch[d][*cur].end <= start)
		(*cur)++;
	for (size_t i = *cur; i < f->nch[d]; i++) {
		size_t from = i ? f->ch[d][i - 1].end : 0, to = f->ch[d][i].end;
		size_t a = from > start ? from : start, b = to < end ? to : end;
		if (from >= end)
			break;
		if (a >= b)
			continue;
		int64_t ts = f->ch[d][i].ts_us;
		int64_t gap = prev && ts > prev ? ts - prev : 0;
		prev = ts;
		struct rec_seg *segs = grow_array(r->segs, &r->segs_cap, r->nsegs, sizeof *segs);
		if (!segs)
			return -ENOMEM;
		r->segs = segs;
		r->segs[r->nsegs++] = (struct rec_seg){(uint32_t)(b - a),
			(uint32_t)(gap > RECORDING_MAX_GAP_US ? RECORDING_MAX_GAP_US : gap)};
		e->nseg++;
	}
	return 0;
}

static void on_bytes(void *ctx, enum tcpreasm_kind kind, uint64_t off, const uint8_t *data, size_t len)
{
	struct rdir *rd = ctx;
	struct rflow *f = rd->f;
	(void)off;
	if (kind != TCPREASM_DATA) {
		f->cut = true;
		return;
	}
	if (f->cut || f->full)
		return;
	if (grow_append(&f->buf[rd->d], &f->len[rd->d], &f->cap[rd->d], data, len) < 0 ||
	    add_chunk(f, rd->d, f->len[rd->d]) < 0)
		f->full = true;
}

/* How many of the len bytes at p a message body of this framing takes; *done (may be
 * NULL) tells whether the body ended within them. */
static size_t body_extent(const char *p, size_t len, enum http1_framing framing, uint64_t content_length, bool *done)
{
	struct http1_body b;
	http1_body_init(&b, framing, content_length);
	size_t at = 0;
	int err = 0;
	while (at < len && !b.done) {
		const uint8_t *span;
		size_t span_len;
		long used = http1_body_feed(&b, (const uint8_t *)p + at, len - at, &span, &span_len, &err);
		if (used <= 0)
			break;
		at += (size_t)used;
	}
	if (done)
		*done = b.done;
	return at;
}

/* The heads of a response up to and including its final one (interim 1xx responses
 * travel with it): their length, with the final head in *rs; <= 0 when there is no
 * complete response head (*err set when malformed). */
static long final_head(const char *p, size_t len, unsigned flags, struct http1_response *rs, int *err)
{
	size_t at = 0;
	for (;;) {
		int h = http1_parse_response(p + at, len - at, HTTP1_MAX_HEAD, flags, rs, err);
		if (h <= 0)
			return h;
		at += (size_t)h;
		if (rs->status >= 200 || rs->status == 101)
			return (long)at;
	}
}

/* Splits one flow's streams into request/response pairs. */
static int pair_flow(struct recording *r, struct rflow *f)
{
	int client = f->len[0] >= 5 && memcmp(f->buf[0], "HTTP/", 5) == 0 ? 1 : 0;
	const char *req = (const char *)f->buf[client], *resp = (const char *)f->buf[!client];
	size_t reqlen = f->len[client], resplen = f->len[!client];
	size_t rp = 0, sp = 0, req_chunk = 0, resp_chunk = 0;
	while (sp < resplen) {
		/* The request this response answers (none when the capture missed it). */
		struct http1_request rq;
		int err = 0, n = rp < reqlen ? http1_parse_request(req + rp, reqlen - rp, HTTP1_MAX_HEAD, &rq, &err) : -1;
		const char *method = "*", *target = "*";
		size_t mlen = 1, tlen = 1;
		int64_t t_req = 0;
		if (n > 0) {
			method = rq.method, mlen = rq.method_len, target = rq.target, tlen = rq.target_len;
			rp += (size_t)n;
			rp += body_extent(req + rp, reqlen - rp, rq.framing, rq.content_length, NULL);
			t_req = time_of(f, client, rp - 1, &req_chunk);
		} else {
			rp = reqlen;
		}
		unsigned flags = mlen == 4 && memcmp(method, "HEAD", 4) == 0 ? HTTP1_REQ_HEAD : 0;
		size_t start = sp;
		struct http1_response rs;
		long h = final_head(resp + sp, resplen - sp, flags, &rs, &err);
		if (h <= 0)
			break; /* not a response: the rest of the stream is not replayable */
		sp += (size_t)h;
		if (rs.framing == HTTP1_FRAMING_CLOSE) {
			sp = resplen;
		} else if (rs.framing != HTTP1_FRAMING_NONE) {
			bool done;
			sp += body_extent(resp + sp, resplen - sp, rs.framing, rs.content_length, &done);
			if (!done)
				sp = resplen; /* cut short in the recording: replay it cut short */
		}
		int rc = add_entry(r, method, mlen, target, tlen, resp + start, sp - start, rs.status,
				   rs.framing == HTTP1_FRAMING_CLOSE || !rs.keep_alive);
		if (rc == 0)
			rc = add_segments(r, f, !client, start, sp, t_req, &resp_chunk);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int load_pcap(struct recording *r, FILE *fp, const char *path, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_fopen_offline(fp, perr); /* owns fp once it succeeds */
	if (!p) {
		fclose(fp);
		return fail(err, errlen, -EINVAL, "%s: not a pcap or pcapng file: %s", path, perr);
	}
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
		f->now_us = capture_us(&hdr->ts);
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
		for (int x = 0; x < 2; x++) {
			free(flows[i].buf[x]);
			free(flows[i].ch[x]);
		}
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
	if (final_head(buf, len, 0, &rs, &e) <= 0) {
		free(buf);
		return fail(err, errlen, -EINVAL, "%s: not an HTTP/1 response: %s", path,
			    e ? http1_strerror(e) : "head incomplete");
	}
	rc = add_entry(r, method, strlen(method), target, strlen(target), buf, len, rs.status,
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
	char *names[MAX_RAW_FILES];
	size_t n = 0;
	int rc = 0;
	for (struct dirent *de; rc == 0 && (de = readdir(d));) {
		size_t l = strlen(de->d_name);
		if (l <= 5 || strcmp(de->d_name + l - 5, ".http") != 0)
			continue;
		if (n == MAX_RAW_FILES)
			rc = fail(err, errlen, -EFBIG, "%s: more than %d .http files", dir, MAX_RAW_FILES);
		else if (!(names[n++] = strdup(de->d_name)))
			rc = fail(err, errlen, -ENOMEM, "%s: out of memory", dir), n--;
	}
	closedir(d);
	qsort(names, n, sizeof names[0], cmp_names);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = add_file(r, dir, names[i], "*", "*", err, errlen);
		free(names[i]);
	}
	return rc;
}

/* ---- loading and matching ---- */

static uint64_t key_hash(const char *method, const char *target)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a over "METHOD\0TARGET" */
	for (const char *p = method;; p++) {
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
		if (!*p)
			break;
	}
	for (const char *p = target; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h;
}

/* The key of method and target, or NULL. */
static struct rec_key *find_key(const struct recording *r, uint64_t h, const char *method, const char *target)
{
	for (size_t i = h & (r->nslots - 1);; i = (i + 1) & (r->nslots - 1)) {
		uint32_t k = r->slots[i];
		if (k == 0)
			return NULL;
		struct rec_key *key = &r->keys[k - 1];
		const struct rec_entry *e = &r->e[key->first];
		if (key->hash == h && strcmp(e->method, method) == 0 && strcmp(e->target, target) == 0)
			return key;
	}
}

/* After loading: a recording with no response is refused; entries are grouped by key
 * (method and target) in recorded order, behind an open-addressing table. */
static int finish(struct recording *r, int rc, const char *path, char *err, size_t errlen)
{
	if (rc == 0 && r->n == 0)
		rc = fail(err, errlen, -EINVAL, "%s: no HTTP/1 response found", path);
	size_t *key_of = NULL; /* entry -> its key */
	if (rc == 0) {
		r->nslots = 16;
		while (r->nslots < 2 * r->n)
			r->nslots *= 2;
		r->slots = calloc(r->nslots, sizeof *r->slots);
		r->keys = calloc(r->n, sizeof *r->keys);
		r->order = calloc(r->n, sizeof *r->order);
		key_of = calloc(r->n, sizeof *key_of);
		if (!r->slots || !r->keys || !r->order || !key_of)
			rc = fail(err, errlen, -ENOMEM, "%s: out of memory", path);
	}
	for (size_t i = 0; rc == 0 && i < r->n; i++) {
		const struct rec_entry *e = &r->e[i];
		uint64_t h = key_hash(e->method, e->target);
		struct rec_key *key = find_key(r, h, e->method, e->target);
		if (!key) {
			key = &r->keys[r->nkeys++];
			key->hash = h;
			key->first = i;
			size_t slot = h & (r->nslots - 1);
			while (r->slots[slot])
				slot = (slot + 1) & (r->nslots - 1);
			r->slots[slot] = (uint32_t)r->nkeys;
		}
		key->count++;
		key_of[i] = (size_t)(key - r->keys);
	}
	if (rc == 0) {
		size_t at = 0;
		for (size_t k = 0; k < r->nkeys; k++) { /* count is counted again as they are placed */
			r->keys[k].start = at;
			at += r->keys[k].count;
			r->keys[k].count = 0;
		}
		for (size_t i = 0; i < r->n; i++) {
			struct rec_key *key = &r->keys[key_of[i]];
			r->order[key->start + key->count++] = (uint32_t)i;
		}
	}
	free(key_of);
	if (rc < 0)
		recording_free(r);
	return rc;
}

int recording_load(struct recording *r, const char *path, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	struct stat st;
	if (stat(path, &st) < 0)
		return fail(err, errlen, -EIO, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return finish(r, load_dir(r, path, err, errlen), path, err, errlen);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return fail(err, errlen, -EIO, "%s: %s", path, strerror(errno));
	return finish(r, load_pcap(r, fp, path, err, errlen), path, err, errlen);
}

int recording_load_pcap(struct recording *r, FILE *fp, const char *name, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	return finish(r, load_pcap(r, fp, name, err, errlen), name, err, errlen);
}

void recording_free(struct recording *r)
{
	if (!r)
		return;
	free(r->e);
	free(r->arena);
	free(r->slots);
	free(r->keys);
	free(r->order);
	free(r->segs);
	memset(r, 0, sizeof *r);
}

const struct rec_entry *recording_match(struct recording *r, const char *method, const char *target)
{
	/* The exact key first, then the wildcards ("*" from raw files and unpaired responses). */
	const char *tries[4][2] = {{method, target}, {method, "*"}, {"*", target}, {"*", "*"}};
	for (int t = 0; t < 4; t++) {
		struct rec_key *key = find_key(r, key_hash(tries[t][0], tries[t][1]), tries[t][0], tries[t][1]);
		if (key) {
			unsigned k = atomic_fetch_add(&key->next, 1) % (unsigned)key->count;
			return &r->e[r->order[key->start + k]];
		}
	}
	return NULL;
}
