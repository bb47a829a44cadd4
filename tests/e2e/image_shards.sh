#!/usr/bin/env bash
# The container image, proven locally (docs/distributed.md): a dockerd of our own
# (--iptables=false --bridge=none, its data under the build folder), the image built as
# `make image` builds it (ci/k8s/image.sh: docker import of a root filesystem), then
# 4 shard containers (TP_SHARD=I/4, as the Indexed Job sets it) and one unsharded
# container, with host networking, each against its own origin and reference proxy on
# loopback with a request-keyed fault; the shards merged in a container too (the merge
# Job's command). The merged run has the unsharded run's counts and histogram bucket
# totals; the containers ran as the image's unprivileged user; dockerd is stopped and
# its data removed at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

DOCKER=/usr/bin/docker # Debian's client: another one earlier on PATH may be newer than the daemon
# Skips only where dockerd cannot run at all (and TP_REQUIRE_PEERS is not 1).
cannot() {
	if [ "${TP_REQUIRE_PEERS:-0}" = 1 ]; then not_ok "$1" "$2"; else skip "$1" "$2"; fi
	finish
}
[ -x "$DOCKER" ] && command -v dockerd >/dev/null || cannot "image shards" "dockerd is not installed (make deps installs docker.io)"
[ "$(id -u)" -eq 0 ] || cannot "image shards" "dockerd needs root"

# dockerd: data under the build folder, its runtime state in a short /tmp path (unix
# socket paths are limited to 108 bytes).
D="$TP_BUILD/docker-e2e"
EXEC=$(mktemp -d /tmp/tp-dockerd.XXXXXX)
mkdir -p "$D"
export DOCKER_HOST="unix://$EXEC/docker.sock"
dockerd --iptables=false --bridge=none --data-root "$D/data" -H "$DOCKER_HOST" --exec-root "$EXEC/exec" \
	--pidfile "$EXEC/docker.pid" >"$T/dockerd.log" 2>&1 &
DOCKERD=$!
stop_dockerd() {
	"$DOCKER" ps -aq 2>/dev/null | xargs -r "$DOCKER" rm -f >/dev/null 2>&1
	kill "$DOCKERD" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$DOCKERD" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$DOCKERD" 2>/dev/null
	# What dockerd mounted and left (its network namespace, overlays of a kill -9).
	awk -v a="$EXEC" -v b="$D" 'index($2, a) == 1 || index($2, b) == 1 {print $2}' /proc/mounts | sort -r |
		xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$EXEC" "$D"
}
trap 'stop_dockerd; _tp_cleanup' EXIT
for _ in $(seq 1 100); do "$DOCKER" version >/dev/null 2>&1 && break; sleep 0.1; done
"$DOCKER" version >/dev/null 2>&1 || cannot "image shards" "dockerd did not start: $(tail -1 "$T/dockerd.log")"

start=$(date +%s.%N)
bash "$TP_ROOT/ci/k8s/image.sh" "$TP_BIN" "$T/image" tunnelprobe:e2e >"$T/image.out" 2>&1
expect_eq "the image builds from a root filesystem (docker import)" "$?" 0
kib=$(du -k "$T/image/rootfs.tar" | cut -f1)
if [ "$kib" -lt 65536 ]; then ok "the image is small: ${kib} KiB"; else not_ok "the image is small" "${kib} KiB"; fi
expect_eq "the image runs as the unprivileged user, the binary as entrypoint" \
	"$("$DOCKER" image inspect -f '{{.Config.User}} {{json .Config.Entrypoint}}' tunnelprobe:e2e)" '10001:10001 ["/tunnelprobe"]'
expect_eq "the binary runs in it" "$("$DOCKER" run --rm --network host tunnelprobe:e2e version)" \
	"$("$TP_BIN" version)"

FAULT='truncate:after=20000 p=0.3 seed=11'
start_stack one R-one "$FAULT" && start_stack sh R-shards "$FAULT" || { not_ok "origins and proxies start"; finish; }
mkdir -p "$T/results" "$T/one" && chmod 777 "$T/results" "$T/one" && cp "$T"/ca-*.pem "$T/results/"
chmod 644 "$T/results"/ca-*.pem

# container NAME STACK RUNID DIR [ENV...] -- ARGS...: a probe container, detached
container() {
	local name=$1 s=$2 id=$3 dir=$4 h s_ p envs=()
	shift 4
	while [ "$1" != -- ]; do envs+=(-e "$1"); shift; done
	shift
	eval "h=\$${s}_H s_=\$${s}_S p=\$${s}_P"
	"$DOCKER" run -d --name "tp-$name" --network host "${envs[@]}" -v "$dir:/results" tunnelprobe:e2e \
		probe -q --exit-zero -n 24 -c 4 --no-keepalive --timeout 5 --cacert "/results/ca-$s.pem" \
		-x "http://127.0.0.1:$p" --run-id "$id" "$@" \
		"http://127.0.0.1:$h/bytes/65536" "https://localhost:$s_/chunked/50000" "https://localhost:$s_/gzip/40000" \
		>/dev/null
}
cp "$T/ca-one.pem" "$T/one/" && chmod 644 "$T/one/ca-one.pem"
container one one R-one "$T/one" -- --json /results/one.json --records /results/one.jsonl
for i in 0 1 2 3; do
	container "shard-$i" sh R-shards "$T/results" "TP_SHARD=$i/4" -- \
		--json "/results/shard-$i.json" --records "/results/shard-$i.jsonl"
done
codes=""
for n in one shard-0 shard-1 shard-2 shard-3; do codes+="$(timeout 120 "$DOCKER" wait "tp-$n") "; done
expect_eq "the unsharded and the 4 shard containers ran (exit 0 with --exit-zero)" "$codes" "0 0 0 0 0 "

# The merge Job's command, in a container of the same image.
"$DOCKER" run --rm --network none -v "$T/results:/results" tunnelprobe:e2e \
	report merge /results -o /results/merged.json --html /results/merged.html >"$T/merge.out" 2>&1
expect_eq "report merge of the shards' folder, in the image: exit 0" "$?" 0
cat "$T/merge.out"

expect_eq "the fault acted (else the comparison below tests less)" \
	"$(json "$T/one/one.json" "d['classes'].get('incomplete_read', 0) > 0 and d['ok'] > 0")" True
SAME="d['requests'], d['ok'], sorted(d['classes'].items()), sorted(d['status_codes'].items()), d['verified'], \
d['connections']['opened'], sum(b[2] for b in d['histogram']['buckets']), \
sorted((p, sum(b[2] for b in h['buckets'])) for p, h in d['phase_histograms'].items()), \
[(t['requests'], t['ok'], sorted(t['classes'].items()), sum(b[2] for b in t['histogram']['buckets'])) for t in d['targets']]"
expect_eq "4 shard containers merged: the unsharded container's counts and histogram bucket totals" \
	"$(json "$T/results/merged.json" "$SAME")" "$(json "$T/one/one.json" "$SAME")"
expect_eq "the merge has every shard, each having sent a quarter" \
	"$(json "$T/results/merged.json" "d['shards']")|$(for i in 0 1 2 3; do json "$T/results/shard-$i.json" "d['requests']"; done | tr '\n' ' ')" \
	"{'count': 4, 'merged': [0, 1, 2, 3], 'missing': []}|18 18 18 18 "
expect_eq "shard ids carry the shard from TP_SHARD" \
	"$(records "$T/results/shard-2.jsonl" "sorted(set(x['id'].split('-')[0][6:] for x in r))")" "['.s2']"
expect_eq "the containers wrote as uid 10001, not root" \
	"$(stat -c %u "$T/results/shard-0.json" "$T/results/merged.json" | sort -u | tr '\n' ' ')" "10001 "
expect_eq "the shared proxy faulted the same request keys for the shard containers" \
	"$(records "$T/proxy-sh.jsonl" "sorted(x['fault_key'] for x in r if x.get('fault_acted'))")" \
	"$(records "$T/proxy-one.jsonl" "sorted(x['fault_key'] for x in r if x.get('fault_acted'))")"
end=$(date +%s.%N)
echo "# the image and the containers took $(python3 -c "print(round($end - $start, 1))")s (dockerd's start not counted)"
finish
