#!/usr/bin/env bash
# The cost of sharding (docs/distributed.md): one probe against 4 `probe --shard I/4`
# processes started together, the same total load, same nginx on lo, 1 KiB bodies,
# keep-alive. Requests per CPU-second (user + sys of every probe process; the shards'
# CPU added up) for a closed-loop -n load and an open-loop -R load, ROUNDS rounds in
# turn; then what `report merge` of the 4 run files costs. On a 2-core box the 4
# shards share the cores with nginx and each other: wall time says nothing here, CPU
# per request says what a shard costs beyond its share of the work.
. "$(dirname "$0")/lib.sh"
N=${N:-100000}       # requests in all (one URL)
C=${C:-40}           # connections in all
RATE=${RATE:-8000}   # open loop: requests/s in all
SECS=${SECS:-5}      # open loop: seconds
ROUNDS=${ROUNDS:-3}
make_payload b1024 1024
start_nginx >/dev/null || { echo "nginx did not start"; exit 1; }
URL="http://127.0.0.1:$NGINX_PORT/b1024"
rate() { python3 -c "print(round($1 / $2))"; }

# shards ARGS...: 4 shard probes at once; sets CPU (their user+sys added) and REQ
shards() {
	local i pids=()
	for i in 0 1 2 3; do
		/usr/bin/time -f "%U %S" -o "$T/time-$i.out" "$TP_BIN" probe -q --shard "$i/4" \
			--json "$T/shard-$i.json" "$@" "$URL" >/dev/null 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	CPU=$(cat "$T"/time-{0,1,2,3}.out | awk '{s += $1 + $2} END {print s}')
	REQ=$(for i in 0 1 2 3; do json "$T/shard-$i.json" "d['requests']"; done | awk '{s += $1} END {print s}')
}

echo "shards: 1 probe vs 4 shards of the same load, 1 KiB keep-alive, nginx on lo (all on the same 2 cores)"
for mode in closed open; do
	if [ "$mode" = closed ]; then
		LOAD=(-n "$N" -c "$C" -t 1)
		what="closed loop -n $N -c $C"
	else
		LOAD=(-R "$RATE" -d "$SECS" -c "$C" -t 1)
		what="open loop -R $RATE -d $SECS -c $C"
	fi
	echo "$what"
	echo "round  one(req/CPU-s, req)  4 shards(req/CPU-s, req)  shards/one"
	ratios=()
	for round in $(seq "$ROUNDS"); do
		cpu_of "$TP_BIN" probe -q --json "$T/one.json" "${LOAD[@]}" "$URL"
		one_req=$(json "$T/one.json" "d['requests']")
		one=$(rate "$one_req" "$CPU")
		shards "${LOAD[@]}"
		sh=$(rate "$REQ" "$CPU")
		ratios+=("$(ratio "$sh" "$one")")
		echo "$round      $one ($one_req)      $sh ($REQ)      ${ratios[-1]}"
	done
	echo "median shards/one: $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')"
done
cpu_of "$TP_BIN" report merge -q "$T"/shard-{0,1,2,3}.json -o "$T/merged.json"
echo "report merge of the 4 run files: ${CPU}s CPU, $(json "$T/merged.json" "d['requests']") requests merged"
finish
