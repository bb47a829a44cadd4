#!/usr/bin/env bash
# The proxy ledger obeys its own contract — a property test over the whole matrix of
# mode (forward, CONNECT, SOCKS5) x fault x direction, with real traffic through each
# mode (the probe: GETs of every framing with a half-close, a verified upload; curl: a
# chunked upload). For every ledger line of every proxy:
#   - received == sent + dropped, both directions;
#   - against the probe's records (the same client connection, or the same id): the
#     probe never read more than the proxy wrote, nor sent less than the proxy got, and
#     exactly as much when nothing was reset;
#   - against the origin's ledger (the same origin connection): the origin never wrote
#     less than the proxy got, nor got more than the proxy wrote, and exactly as much
#     when no fault acted on the connection;
# and every fault acts in every mode (a line with fault_acted true for each).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

start_tp origin origin --listen 127.0.0.1:0 --ledger "$T/origin.jsonl" --run-id matrix ||
	{ not_ok "origin starts"; finish; }
OH=$TP_HTTP
O="http://127.0.0.1:$OH"
head -c 40000 /dev/zero | tr '\0' 'u' >"$T/up.bin"

# NAME|SPEC: every fault with a direction both ways, the others once, and none.
fault_matrix

pids=()
for entry in "${FAULTS[@]}"; do
	name=${entry%%|*} spec=${entry#*|}
	args=(proxy --listen 127.0.0.1:0 --ledger "$T/px-$name.jsonl" --run-id "matrix-$name"
		--idle-timeout 3 --handshake-timeout 3)
	[ -n "$spec" ] && args+=(--fault "$spec")
	start_tp "px-$name" "${args[@]}" || { not_ok "proxy with '$spec' starts"; continue; }
	pids+=("$TP_PID")
	for mode in forward connect socks5; do
		case $mode in
		forward) X=(-x "http://127.0.0.1:$TP_PORT") C=(-x "http://127.0.0.1:$TP_PORT") ;;
		connect) X=(-p -x "http://127.0.0.1:$TP_PORT") C=(-p -x "http://127.0.0.1:$TP_PORT") ;;
		socks5) X=(-x "socks5h://127.0.0.1:$TP_PORT") C=(-x "socks5h://127.0.0.1:$TP_PORT") ;;
		esac
		"$TP_BIN" probe -q --timeout 2 -n 1 -c 4 --no-keepalive --half-close "${X[@]}" \
			--records "$T/rec-$name-$mode-get.jsonl" "$O/bytes/60000" "$O/chunked/20000?chunk=5000" \
			"$O/close/30000" "$O/delay/200"
		"$TP_BIN" probe -q --timeout 2 -n 1 --upload 40000 "${X[@]}" \
			--records "$T/rec-$name-$mode-up.jsonl" "$O/sink"
		curl -s -o /dev/null --max-time 3 "${C[@]}" -H 'Transfer-Encoding: chunked' \
			--data-binary @"$T/up.bin" "$O/sink"
	done
done
# SIGTERM: each proxy drains (3 s at most) and writes the lines of tunnels a fault held.
kill -TERM "${pids[@]}" 2>/dev/null
for p in "${pids[@]}"; do
	for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
done
sleep 0.2

python3 - "$T" "${FAULTS[@]}" >"$T/verdicts" <<'PY'
import glob, json, os, sys
T, entries = sys.argv[1], sys.argv[2:]
origin = [json.loads(l) for l in open(os.path.join(T, "origin.jsonl"))]
# Origin connections by peer address; a port is reused over the run, so a proxy's
# upstream connection is the first one from its address that began after its line did.
conns_at = {}
for o in origin:
    conns_at.setdefault(o["peer"], {}).setdefault(o["conn"], []).append(o)
def origin_conn(peer, t):
    cands = [ls for ls in conns_at.get(peer, {}).values() if min(o["t"] for o in ls) >= t - 0.005]
    return min(cands, key=lambda ls: min(o["t"] for o in ls)) if cands else []
out = {"invariant": [], "probe": [], "origin": [], "acts": [], "run": []}
for entry in entries:
    name = entry.split("|")[0]
    lines = [json.loads(l) for l in open(os.path.join(T, "px-%s.jsonl" % name))]
    recs = []
    for f in glob.glob(os.path.join(T, "rec-%s-*.jsonl" % name)):
        recs += [json.loads(l) for l in open(f)]
    for x in lines:
        if x.get("run") != "matrix-" + name:
            out["run"].append(name)
        for d in ("up", "down"):
            c = x[d]
            if c["received"] != c["sent"] + c["dropped"] or min(c.values()) < 0:
                out["invariant"].append((name, x["kind"], d, c))
    # The probe: by id for forward lines, by client connection for tunnels.
    for r in recs:
        if x_match := [x for x in lines if (x["kind"] == "forward" and x["id"] == r["id"]) or
                       (x["kind"] != "forward" and x["client_peer"] == r["local"])]:
            x = x_match[0]
            if len(x_match) > 1:
                out["probe"].append((name, r["id"], "several lines"))
            # Exact when each side read the other to its end: the probe read the proxy's
            # bytes up to a FIN (its class says so), the proxy read the probe's request
            # whole (ok) or up to its FIN.
            down_whole = r["class"] in ("ok", "incomplete_read")
            up_whole = r["class"] == "ok" or x["client_end"] == "fin"
            got, wrote = r["wire_received"], x["down"]["wire_sent"]
            sent, recv = r["bytes_sent"], x["up"]["received"]
            if got > wrote or recv > sent or (down_whole and got != wrote) or (up_whole and recv != sent):
                out["probe"].append((name, x["kind"], r["class"], "read", got, "of", wrote,
                                     "sent", sent, "got", recv))
    # The origin: per origin connection (the proxy's upstream_local is the origin's peer).
    conns = {}
    for x in lines:
        if x["upstream_local"]:
            conns.setdefault(x["upstream_local"], []).append(x)
    for peer, xs in conns.items():
        os_ = origin_conn(peer, min(x["t"] for x in xs))
        wrote = sum(o["bytes_written"] for o in os_)
        got = sum(o["bytes_received"] for o in os_)
        p_recv = sum(x["down"]["received"] for x in xs)
        p_sent = sum(x["up"]["wire_sent"] for x in xs)
        acted = any(x["fault_acted"] for x in xs)
        if p_recv > wrote or got > p_sent or (not acted and (p_recv != wrote or got != p_sent)):
            out["origin"].append((name, xs[0]["kind"], "origin wrote", wrote, "proxy got", p_recv,
                                  "proxy wrote", p_sent, "origin got", got, "acted", acted))
    if name != "none":
        for kind in ("forward", "connect", "socks5"):
            if not any(x["fault_acted"] for x in lines if x["kind"] == kind):
                out["acts"].append((name, kind))
    elif any(x["fault_acted"] is not None for x in lines):
        out["acts"].append(("none", "fault_acted without a fault"))
    if not lines:
        out["invariant"].append((name, "no ledger lines"))
for k, v in out.items():
    print(k, len(v), v[:40])
PY
while read -r what n rest; do
	case $what in
	invariant) expect_eq "received == sent + dropped on every line, every mode, fault, direction" "$n" 0 ;;
	probe) expect_eq "proxy lines agree with the probe's records" "$n" 0 ;;
	origin) expect_eq "proxy lines agree with the origin's ledger" "$n" 0 ;;
	acts) expect_eq "every fault acts in every mode (fault_acted)" "$n" 0 ;;
	run) expect_eq "every proxy line carries its run id" "$n" 0 ;;
	esac
	[ "$n" = 0 ] || echo "# $what: $rest"
done <"$T/verdicts"
expect_eq "the matrix was checked" "$(wc -l <"$T/verdicts")" "5"
expect_eq "every origin line carries its run id" \
	"$(records "$T/origin.jsonl" "len(r) > 100 and all(x.get('run') == 'matrix' for x in r)")" "True"
finish
