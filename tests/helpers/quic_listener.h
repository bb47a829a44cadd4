/* quic_listener — the QUIC listener of h3peer's servers (serve and proxy, included by
 * h3peer.c after its socket helpers): the UDP socket, certificate, server context and
 * connection-ID map, and routing each datagram to its connection. Plain sockets; dies
 * on setup failures (a test helper). */
#ifndef TP_QUIC_LISTENER_H
#define TP_QUIC_LISTENER_H

/* A QUIC listener: the UDP socket on ADDR PORT (PORT 0: any, written to portfile), the
 * certificate, a server context for alpn and the connection-ID map. Dies on failure. */
struct listener {
	int fd;
	struct sockaddr_storage local;
	socklen_t local_len;
	struct quic_cred cred;
	struct quic_server_ctx ctx;
	struct quic_cidmap map;
};

static void listener_open(struct listener *ls, const char *addr, const char *port, const char *portfile,
			  const char *cert, const char *key, const char *const *alpn, size_t nalpn)
{
	if (resolve(addr, port, &ls->local, &ls->local_len) != 0)
		die("cannot resolve the listening address");
	ls->fd = udp_socket(ls->local.ss_family);
	if (bind(ls->fd, (struct sockaddr *)&ls->local, ls->local_len) != 0)
		die("bind");
	ls->local_len = sizeof ls->local;
	getsockname(ls->fd, (struct sockaddr *)&ls->local, &ls->local_len);
	unsigned bound = ntohs(((struct sockaddr_in *)&ls->local)->sin_port);
	if (portfile) {
		FILE *f = fopen(portfile, "w");
		if (!f || fprintf(f, "%u\n", bound) < 0 || fclose(f) != 0)
			die("--port-file");
	}
	const char *why = "?";
	uint8_t secret[QUIC_SECRET_LEN];
	if (gnutls_rnd(GNUTLS_RND_RANDOM, secret, sizeof secret) != 0 ||
	    quic_cred_init_files(&ls->cred, cert, key, &why) != 0 ||
	    quic_server_ctx_init(&ls->ctx, &ls->cred, alpn, nalpn, secret, NULL, &why) != 0 ||
	    quic_cidmap_init(&ls->map, 8 * MAX_CONNS) != 0)
		die(why);
}

static void listener_close(struct listener *ls)
{
	quic_cidmap_free(&ls->map);
	quic_server_ctx_free(&ls->ctx);
	quic_cred_free(&ls->cred);
	close(ls->fd);
}

/* Where a datagram goes: 1 with *conn its connection's (the map's value), 0 when it may
 * start a new one (a long header nobody knows), -1 to drop it (answered with Version
 * Negotiation when its version is one we do not speak). */
static int listener_route(struct listener *ls, const uint8_t *pkt, size_t len, struct sockaddr_storage *from,
			  socklen_t flen, void **conn)
{
	struct quic_pkt_ids ids;
	int rv = quic_pkt_ids(pkt, len, &ids);
	if (rv == 1) {
		uint8_t vn[256];
		long n = quic_write_version_negotiation(vn, sizeof vn, &ids);
		if (n > 0)
			sendto(ls->fd, vn, (size_t)n, 0, (struct sockaddr *)from, flen);
		return -1;
	}
	if (rv < 0)
		return -1;
	*conn = quic_cidmap_get(&ls->map, ids.dcid, ids.dcidlen);
	return *conn ? 1 : ids.long_header ? 0 : -1;
}

/* Starts a server connection for the Initial pkt and maps its IDs to value. 0 or -1. */
static int listener_accept(struct listener *ls, struct quic_conn *q, quic_event_cb cb, void *value,
			   const struct quic_params *params, const uint8_t *pkt, size_t len,
			   struct sockaddr_storage *from, socklen_t flen)
{
	struct quic_conn_opts o = {.local = (struct sockaddr *)&ls->local, .local_len = ls->local_len,
				   .remote = (struct sockaddr *)from, .remote_len = flen, .cb = cb, .arg = value};
	if (params)
		o.params = *params;
	if (quic_conn_init_server(q, &ls->ctx, &o, pkt, len, now_us()) != 0) {
		quic_conn_free(q);
		return -1;
	}
	uint8_t cids[8][QUIC_MAX_CIDLEN];
	size_t lens[8];
	size_t n = quic_conn_cids(q, cids, lens, 8);
	for (size_t i = 0; i < n; i++)
		quic_cidmap_put(&ls->map, cids[i], lens[i], value);
	return 0;
}

/* QUIC_EV_CID_NEW / RETIRED: the map follows the connection's IDs. */
static void listener_on_cid(struct listener *ls, const struct quic_event *ev, void *value)
{
	if (ev->type == QUIC_EV_CID_NEW)
		quic_cidmap_put(&ls->map, ev->cid, ev->cidlen, value);
	else if (ev->type == QUIC_EV_CID_RETIRED)
		quic_cidmap_del(&ls->map, ev->cid, ev->cidlen);
}

/* Forgets q's connection IDs (before freeing it). */
static void listener_forget(struct listener *ls, struct quic_conn *q)
{
	uint8_t cids[8][QUIC_MAX_CIDLEN];
	size_t lens[8];
	size_t n = quic_conn_cids(q, cids, lens, 8);
	for (size_t i = 0; i < n; i++)
		quic_cidmap_del(&ls->map, cids[i], lens[i]);
}

#endif
