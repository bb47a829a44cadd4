# tests/e2e/peers.sh — real peers started by the tests on free loopback ports, sourced
# after lib.sh. Each start_* function writes its config into $T, starts the server in
# the background (killed at exit) and waits until it accepts connections.
#   make_ca                 $T/ca.pem + a leaf for 127.0.0.1, localhost, *.test (openssl CLI)
#   start_nginx             NGINX_PORT (http) and NGINX_TLS_PORT, files under $T/www
#   make_payload NAME SIZE  $T/www/NAME with `tunnelprobe gen`, served with X-Tp-Seed
#   start_tinyproxy         TINYPROXY_PORT
#   start_squid             SQUID_PORT
#   start_microsocks        SOCKS_PORT
#   start_scripted MODE [N] prints the port of tests/peers/scripted.py in MODE
#   start_tp NAME ARGS...   a tunnelprobe server (origin/proxy) on port 0; sets
#                           TP_PORT / TP_HTTP / TP_HTTPS / TP_QUIC (UDP) from its
#                           "listening" lines
#   start_stack NAME RUNID FAULT  our origin (http + https, CA in $T/ca-NAME.pem) and the
#                           reference proxy with FAULT, ledgers $T/{origin,proxy}-NAME.jsonl
#                           of run RUNID; sets NAME_H NAME_S (origin) NAME_P (proxy)
#   fault_matrix            FAULTS: "NAME|SPEC" for no fault and every proxy fault, both
#                           directions where it has one (the ledger property tests)

make_ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 \
		-subj "/CN=tunnelprobe e2e CA" 2>/dev/null || return 1
	openssl req -newkey rsa:2048 -nodes -keyout "$T/leaf.key" -out "$T/leaf.csr" \
		-subj "/CN=localhost" 2>/dev/null || return 1
	printf 'subjectAltName=DNS:localhost,DNS:*.test,IP:127.0.0.1\n' >"$T/ext.cnf"
	openssl x509 -req -in "$T/leaf.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
		-out "$T/leaf.pem" -days 2 -extfile "$T/ext.cnf" 2>/dev/null
}

NGINX_LOCATIONS=""
make_payload() { # NAME SIZE: /NAME serves SIZE generator bytes, announced for verification
	mkdir -p "$T/www"
	"$TP_BIN" gen "/$1" "$2" >"$T/www/$1"
	local seed
	seed=$("$TP_BIN" gen --seed "/$1")
	NGINX_LOCATIONS+="location = /$1 { add_header X-Tp-Seed $seed; add_header X-Tp-Length $2; }
location = /gz/$1 { alias $T/www/$1; default_type text/plain; gzip on; gzip_types *; gzip_min_length 0; add_header X-Tp-Seed $seed; add_header X-Tp-Length $2; }
"
}

start_nginx() {
	[ -f "$T/ca.pem" ] || make_ca || return 1
	NGINX_PORT=$(free_port)
	NGINX_TLS_PORT=$(free_port)
	mkdir -p "$T/nginx"
	cat >"$T/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; worker_rlimit_nofile 65536; pid $T/nginx/pid;
error_log $T/nginx/error.log;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $T/nginx/cbt; proxy_temp_path $T/nginx/pt; fastcgi_temp_path $T/nginx/ft;
  uwsgi_temp_path $T/nginx/ut; scgi_temp_path $T/nginx/st;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$NGINX_PORT; listen 127.0.0.1:$NGINX_TLS_PORT ssl;
    ssl_certificate $T/leaf.pem; ssl_certificate_key $T/leaf.key;
    root $T/www;
$NGINX_LOCATIONS
  }
}
CONF
	bg nginx -c "$T/nginx/nginx.conf" -p "$T/nginx"
	wait_port "$NGINX_PORT" && wait_port "$NGINX_TLS_PORT"
}

start_tinyproxy() {
	TINYPROXY_PORT=$(free_port)
	cat >"$T/tinyproxy.conf" <<CONF
Port $TINYPROXY_PORT
Listen 127.0.0.1
Timeout 30
Allow 127.0.0.1
MaxClients 100
LogLevel Error
PidFile "$T/tinyproxy.pid"
LogFile "$T/tinyproxy.log"
CONF
	bg sh -c "exec tinyproxy -d -c $T/tinyproxy.conf >$T/tinyproxy.out 2>&1"
	wait_port "$TINYPROXY_PORT"
}

start_squid() {
	SQUID_PORT=$(free_port)
	mkdir -p "$T/squid"
	cat >"$T/squid/squid.conf" <<CONF
http_port 127.0.0.1:$SQUID_PORT
acl localnet src 127.0.0.0/8
acl SSL_ports port 1-65535
acl Safe_ports port 1-65535
acl CONNECT method CONNECT
http_access allow localnet
http_access deny all
cache deny all
cache_mem 8 MB
cache_dir null /tmp
pid_filename $T/squid/pid
access_log none
cache_log $T/squid/cache.log
cache_store_log none
coredump_dir $T/squid
shutdown_lifetime 0 seconds
dns_v4_first on
CONF
	bg sh -c "exec squid -N -f $T/squid/squid.conf >$T/squid/out.log 2>&1"
	wait_port "$SQUID_PORT" 30
}

start_microsocks() {
	SOCKS_PORT=$(free_port)
	bg sh -c "exec microsocks -i 127.0.0.1 -p $SOCKS_PORT >$T/microsocks.log 2>&1"
	wait_port "$SOCKS_PORT"
}

start_scripted() { # MODE [N] -> prints the port (runs in $(...): the pid goes to $T/pids)
	local out
	out=$(mktemp "$T/scripted-$1.XXXXXX")
	python3 "$TP_ROOT/tests/peers/scripted.py" "$@" >"$out" &
	echo $! >>"$T/pids"
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$out" ] && break
		sleep 0.05
	done
	cat "$out"
}

fault_matrix() {
	FAULTS=("none|")
	local f d
	for f in "truncate:after=20000" "rst:after=20000" "stall:after=20000" "corrupt:at=5000" \
		"slow:bps=40000" "no-fin" "drop-chunk-end"; do
		for d in down up; do FAULTS+=("${f%%:*}-$d|$f dir=$d"); done
	done
	for f in full-close close-before-reply close-mid-reply close-after-accept refuse; do
		FAULTS+=("$f|$f")
	done
}

start_tp() { # NAME ARGS... : a tunnelprobe server, its listening lines parsed
	local name=$1
	shift
	"$TP_BIN" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	_tp_pids+=($!)
	TP_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q '^listening' "$T/$name.out" 2>/dev/null && break
		sleep 0.05
	done
	sleep 0.05
	TP_PORT=$(sed -n 's/^listening \([0-9.]*\|\[.*\]\):\([0-9]*\)$/\2/p' "$T/$name.out" | head -1)
	TP_HTTP=$(sed -n 's/^listening http .*:\([0-9]*\)$/\1/p' "$T/$name.out" | head -1)
	TP_HTTPS=$(sed -n 's/^listening https .*:\([0-9]*\)$/\1/p' "$T/$name.out" | head -1)
	TP_QUIC=$(sed -n 's/^listening quic .*:\([0-9]*\)$/\1/p' "$T/$name.out" | head -1)
	[ -n "$TP_PORT$TP_HTTP$TP_HTTPS$TP_QUIC" ]
}

# json FILE EXPR: a python expression over the parsed JSON `d`
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# records FILE EXPR: over the list of records `r`
records() { python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]; print($2)" "$1"; }

start_stack() { # NAME RUNID FAULT
	start_tp "origin-$1" origin --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --ca-out "$T/ca-$1.pem" \
		--ledger "$T/origin-$1.jsonl" --run-id "$2" || return 1
	eval "${1}_H=$TP_HTTP ${1}_S=$TP_HTTPS"
	start_tp "proxy-$1" proxy --listen 127.0.0.1:0 --ledger "$T/proxy-$1.jsonl" --run-id "$2" --fault "$3" ||
		return 1
	eval "${1}_P=$TP_PORT"
}

# QUIC peers (UDP), for the HTTP/3 tests:
#   free_udp_port              prints a free UDP port on 127.0.0.1 (bind to port 0)
#   wait_udp PORT              waits until something is bound to 127.0.0.1:PORT/udp (5 s)
#   start_gtlsserver NAME [OPTIONS]
#                              Debian's ngtcp2 GnuTLS example server on a free UDP port
#                              (GS_PORT, GS_PID), serving $T/www with $T/leaf.pem (make_ca
#                              first); its output in $T/NAME.log
#   keylog_decrypts NAME PORT KEYLOG CMD...
#                              captures udp PORT on lo while CMD runs (CMD writes an NSS key
#                              log to KEYLOG): ok when tshark finds HTTP/3 HEADERS frames
#                              with the log and none without. Needs root, tcpdump, tshark
#                              (the caller checks with need_root / need_cmd).
free_udp_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_udp() {
	local i
	for ((i = 0; i < 100; i++)); do
		ss -Hlun "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}
start_gtlsserver() {
	local name=$1
	shift
	GS_PORT=$(free_udp_port)
	bg gtlsserver -q -d "$T/www" "$@" 127.0.0.1 "$GS_PORT" "$T/leaf.key" "$T/leaf.pem" >"$T/$name.log" 2>&1
	GS_PID=${_tp_pids[-1]}
	wait_udp "$GS_PORT"
}
keylog_decrypts() {
	local name=$1 port=$2 keylog=$3 i pid with without
	shift 3
	rm -f "$keylog" "$T/keylog.pcap" "$T/keylog-tcpdump.err"
	tcpdump -i lo -s 0 -B 65536 -U --immediate-mode -w "$T/keylog.pcap" "udp port $port" \
		2>"$T/keylog-tcpdump.err" &
	pid=$!
	for ((i = 0; i < 100; i++)); do grep -qs "listening on" "$T/keylog-tcpdump.err" && break; sleep 0.05; done
	"$@" >/dev/null
	sleep 0.2 # the last packets reach the capture
	kill "$pid"
	wait "$pid" 2>/dev/null
	with=$(tshark -r "$T/keylog.pcap" -o "tls.keylog_file:$keylog" -Y 'http3.frame_type == 0x01' 2>/dev/null | wc -l)
	without=$(tshark -r "$T/keylog.pcap" -Y 'http3.frame_type == 0x01' 2>/dev/null | wc -l)
	if [ "$with" -ge 2 ] && [ "$without" -eq 0 ]; then
		ok "$name ($with frames; none without the log)"
	else
		not_ok "$name" "HEADERS frames with keys: $with, without: $without"
	fi
}
