#!/usr/bin/env bash
# HTTP/3 in the probe, against Debian's gtlsserver (ngtcp2's GnuTLS example server, a
# peer we did not write), ratios measured in the same run:
#   bulk:  MIB (100) MiB over one HTTP/3 stream: the probe (verifying the body's SHA-256
#          from --urls-file), the probe with --no-verify, and gtlsclient (ngtcp2's GnuTLS
#          example client, body discarded) — MB/s, client CPU per GiB, server CPU per GiB,
#          and the throughput the two cores allow at that CPU per GiB (client and server
#          share them, so a figure bound by the box is re-based, not claimed);
#   small: 1 KiB bodies for SECS: the probe over HTTP/3 with c=10 connections x 10
#          streams against gtlsserver, and over HTTP/1.1+TLS with c=100 and c=10
#          against nginx serving the same file (gtlsserver has no TCP side: a different
#          server, so this is context) — requests per CPU-second of the probe, and of
#          the server;
#   origin: the same small requests against our own origin, which speaks both
#          (`origin --quic-listen --tls-listen`, /bytes/1024 verified by X-Tp-Seed):
#          HTTP/3 vs HTTP/1.1+TLS against the same server, the issue's like-for-like.
# PARTS (default bulk,small,origin) picks the parts.
# ROUNDS rounds, the clients in turn within each. Loopback only; every run is bounded
# by its duration or its one transfer (and `timeout`).
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-5}
MIB=${MIB:-100}
PARTS=${PARTS:-bulk,small,origin}
want() { [[ ",$PARTS," == *",$1,"* ]]; }
command -v gtlsserver >/dev/null && command -v gtlsclient >/dev/null ||
	{ echo "h3 bench: needs gtlsserver and gtlsclient (make deps)"; exit 1; }

mkdir -p "$T/www"
make_ca || exit 1
head -c $((MIB << 20)) /dev/urandom >"$T/www/big"
head -c 1024 /dev/urandom >"$T/www/b1k"
start_gtlsserver gtlsserver || { echo "gtlsserver did not start"; exit 1; }
PORT=$GS_PORT
start_nginx >/dev/null || { echo "nginx did not start"; exit 1; }
NGINX_WORKER=$(pgrep -P "${_tp_pids[-1]}" | head -1)

sha() { sha256sum "$T/www/$1" | cut -d' ' -f1; }
echo "https://localhost:$PORT/big sha256=$(sha big) length=$((MIB << 20))" >"$T/big.urls"
echo "https://localhost:$PORT/b1k sha256=$(sha b1k) length=1024" >"$T/h3small.urls"
echo "https://localhost:$NGINX_TLS_PORT/b1k sha256=$(sha b1k) length=1024" >"$T/h1small.urls"

# CPU seconds a process has used so far (utime + stime from /proc).
proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
# timed CMD...: runs it; WALL, CPU (the command's user+sys) and SRV (the server's CPU
# meanwhile, of SRV_PID) are set
timed() {
	local before
	before=$(proc_cpu "$SRV_PID")
	/usr/bin/time -f "%e %U %S" -o "$T/time.out" timeout 300 "$@" >"$T/cmd.out" 2>"$T/cmd.err"
	local rc=$?
	WALL=$(awk '{print $1}' "$T/time.out")
	CPU=$(awk '{print $2 + $3}' "$T/time.out")
	SRV=$(python3 -c "print($(proc_cpu "$SRV_PID") - $before)")
	return $rc
}
calc() { python3 -c "print($1)"; }

bulk_row() { # NAME: after timed, prints MB/s, client and server CPU per GiB, what 2 cores allow
	local gib mbs ccpu scpu bound
	gib=$(calc "$MIB / 1024")
	mbs=$(calc "round($MIB * 1048576 / $WALL / 1e6)")
	ccpu=$(calc "round($CPU / $gib, 2)")
	scpu=$(calc "round($SRV / $gib, 2)")
	bound=$(calc "round(2 * 1073741824 / ($ccpu + $scpu) / 1e6) if $ccpu + $scpu > 0 else 0")
	printf '%-24s %8s %10s %10s %14s\n' "$1" "$mbs" "${ccpu}s" "${scpu}s" "$bound"
	eval "R_$2=$mbs C_$2=$ccpu"
}

want bulk && echo "h3 bulk: $MIB MiB over one HTTP/3 stream from gtlsserver (all on the same 2 cores)"
SRV_PID=$GS_PID
for round in $(want bulk && seq "$ROUNDS"); do
	echo "round $round            MB/s  client CPU/GiB  server CPU/GiB  2 cores allow MB/s"
	timed "$TP_BIN" probe -q --http3-only --cacert "$T/ca.pem" --urls-file "$T/big.urls" --json "$T/p.json" &&
		[ "$(json "$T/p.json" "d['verified']")" = 1 ] || echo "  (probe failed: $(cat "$T/cmd.err"))"
	bulk_row "probe (SHA-256 checked)" probe
	timed "$TP_BIN" probe -q --http3-only --no-verify --cacert "$T/ca.pem" --urls-file "$T/big.urls" \
		--json "$T/pn.json" || echo "  (probe --no-verify failed)"
	bulk_row "probe --no-verify" probenv
	rm -rf "$T/dl" && mkdir -p "$T/dl"
	timed gtlsclient -q --exit-on-all-streams-close 127.0.0.1 "$PORT" "https://localhost:$PORT/big"
	bulk_row "gtlsclient" gtls
	echo "  probe/gtlsclient MB/s $(ratio "$R_probe" "$R_gtls") (no-verify $(ratio "$R_probenv" "$R_gtls")),"\
		"CPU per GiB $(ratio "$C_probe" "$C_gtls") (no-verify $(ratio "$C_probenv" "$C_gtls"))"
done

small() { # NAME URLS ARGS...: the probe for SECS; requests per CPU-second of it and of the server
	local name=$1 urls=$2
	shift 2
	timed "$TP_BIN" probe -q --cacert "${CA:-$T/ca.pem}" -d "$SECS" --urls-file "$urls" --json "$T/s.json" "$@"
	local req ok
	req=$(json "$T/s.json" "d['requests']")
	ok=$(json "$T/s.json" "d['verified']")
	[ "$req" = "$ok" ] || echo "  ($name: only $ok of $req verified ok)"
	printf '%-34s %8s %12s %12s %12s\n' "$name" "$req" "$(calc "round($req / $WALL)")" \
		"$(calc "round($req / $CPU)")" "$(calc "round($req / $SRV) if $SRV > 0 else 0")"
}
want small && echo && echo "small requests: 1 KiB, ${SECS}s each, every body checked by SHA-256"
for round in $(want small && seq "$ROUNDS"); do
	echo "round $round                          requests        req/s  probe req/CPU-s  server req/CPU-s"
	SRV_PID=$GS_PID
	small "h3, gtlsserver, c=10 x 10 streams" "$T/h3small.urls" --http3-only -c 10 --streams 10
	SRV_PID=$NGINX_WORKER
	small "http/1.1+tls, nginx, c=100" "$T/h1small.urls" -c 100
	small "http/1.1+tls, nginx, c=10" "$T/h1small.urls" -c 10
done

if want origin; then
	start_tp origin origin --quic-listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --ca-out "$T/ca-origin.pem" ||
		{ echo "origin did not start"; exit 1; }
	SRV_PID=$TP_PID CA=$T/ca-origin.pem
	echo "https://localhost:$TP_QUIC/bytes/1024" >"$T/o3.urls"
	echo "https://localhost:$TP_HTTPS/bytes/1024" >"$T/o1.urls"
	echo
	echo "small requests against our origin (both protocols): 1 KiB, ${SECS}s each, verified by X-Tp-Seed"
	for round in $(seq "$ROUNDS"); do
		echo "round $round                          requests        req/s  probe req/CPU-s  server req/CPU-s"
		small "h3, origin, c=10 x 10 streams" "$T/o3.urls" --http3-only -c 10 --streams 10
		small "http/1.1+tls, origin, c=100" "$T/o1.urls" -c 100
		small "http/1.1+tls, origin, c=10" "$T/o1.urls" -c 10
	done
fi
finish
