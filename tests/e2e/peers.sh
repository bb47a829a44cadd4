# tests/e2e/peers.sh — real peers started by the tests on free loopback ports, sourced
# after lib.sh. Each start_* function writes its config into $T, starts the server in
# the background (killed at exit) and waits until it accepts connections.
#   make_ca                 $T/ca.pem + a leaf for 127.0.0.1, localhost, *.test (openssl CLI)
#   start_nginx             NGINX_PORT (http) and NGINX_TLS_PORT, files under $T/www
#   make_payload NAME SIZE  $T/www/NAME with `tunnelprobe gen`, served with X-Tp-Seed
#   start_tinyproxy         TINYPROXY_PORT
#   start_squid             SQUID_PORT
#   start_microsocks        SOCKS_PORT
#   start_scripted MODE     prints the port of tests/peers/scripted.py in MODE
#   start_tp NAME ARGS...   a tunnelprobe server (origin/proxy) on port 0; sets
#                           TP_PORT / TP_HTTP / TP_HTTPS / TP_QUIC (UDP) from its
#                           "listening" lines

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

start_scripted() { # MODE -> prints the port (runs in $(...): the pid goes to $T/pids)
	local out
	out=$(mktemp "$T/scripted-$1.XXXXXX")
	python3 "$TP_ROOT/tests/peers/scripted.py" "$1" >"$out" &
	echo $! >>"$T/pids"
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$out" ] && break
		sleep 0.05
	done
	cat "$out"
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
