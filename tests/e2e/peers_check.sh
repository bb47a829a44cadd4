# tests/e2e/peers_check.sh — the subjects of `tunnelprobe check` (check_*.sh), sourced
# after lib.sh and peers.sh. Configurations are the ones docs/check.md documents.
#   start_squid_check       SQUID_PORT: squid with caching on (memory cache), and
#                           127.0.0.2 denied (for --denied 127.0.0.2:9)
#   start_nginx_gateway PORT [plain]  NGINX_GW_PORT: nginx as a reverse proxy to our
#                           origin at 127.0.0.1:PORT, limit_req 50r/s burst 50 -> 429 +
#                           Retry-After: 1, upstream keepalive (plain: no limit_req)
#   start_microsocks_auth   SOCKS_PORT: microsocks demanding user tp, password secret
#   start_ref_proxy ARGS... REF_PORT, REF_PID: the reference proxy on a free port, with
#                           224.0.0.0/4 allowed (the unreachable checks aim there)
#   start_ref_gateway PORT ARGS...  REF_GW_PORT, REF_GW_PID: the reference proxy's
#                           reverse mode in front of our origin at 127.0.0.1:PORT
#   fault_fails SPEC ID WORD RC JSON  ok when check ID failed (check exited RC = 1) with
#                           WORD in its detail: what a proxy --fault SPEC must do

start_squid_check() {
	SQUID_PORT=$(free_port)
	mkdir -p "$T/squidc"
	cat >"$T/squidc/squid.conf" <<CONF
http_port 127.0.0.1:$SQUID_PORT
acl localnet src 127.0.0.0/8
acl denied dst 127.0.0.2
acl SSL_ports port 1-65535
acl Safe_ports port 1-65535
acl CONNECT method CONNECT
http_access deny denied
http_access allow localnet
http_access deny all
cache allow all
cache_mem 64 MB
maximum_object_size_in_memory 8 MB
cache_dir null /tmp
pid_filename $T/squidc/pid
access_log none
cache_log $T/squidc/cache.log
cache_store_log none
coredump_dir $T/squidc
shutdown_lifetime 0 seconds
dns_v4_first on
CONF
	bg sh -c "exec squid -N -f $T/squidc/squid.conf >$T/squidc/out.log 2>&1"
	wait_port "$SQUID_PORT" 30
}

start_nginx_gateway() { # ORIGIN_PORT [plain]
	NGINX_GW_PORT=$(free_port)
	local limit="limit_req zone=gw burst=50 nodelay;"
	[ "${2:-}" = plain ] && limit=""
	mkdir -p "$T/nginxgw"
	cat >"$T/nginxgw/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $T/nginxgw/pid;
error_log $T/nginxgw/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $T/nginxgw/cbt; proxy_temp_path $T/nginxgw/pt;
  fastcgi_temp_path $T/nginxgw/ft; uwsgi_temp_path $T/nginxgw/ut; scgi_temp_path $T/nginxgw/st;
  limit_req_zone \$binary_remote_addr zone=gw:1m rate=50r/s;
  map \$status \$retry_after { 429 1; default ""; }
  upstream tp_origin { server 127.0.0.1:$1; keepalive 16; }
  server {
    listen 127.0.0.1:$NGINX_GW_PORT;
    location / {
      $limit
      limit_req_status 429;
      add_header Retry-After \$retry_after always;
      proxy_pass http://tp_origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
	bg nginx -c "$T/nginxgw/nginx.conf" -p "$T/nginxgw"
	wait_port "$NGINX_GW_PORT"
}

start_ref_gateway() { # ORIGIN_PORT ARGS... (extra proxy flags: --rate-limit, --fault, ...)
	local op=$1
	shift
	start_tp refgw proxy --listen 127.0.0.1:0 --reverse "http://127.0.0.1:$op" "$@" || return 1
	REF_GW_PORT=$TP_PORT
	REF_GW_PID=$TP_PID
}

fault_fails() {
	local r
	r=$(python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
c=[c for c in d["checks"] if c["id"]==sys.argv[2]]
print(c[0]["result"]+"|"+c[0]["detail"] if c else "missing|")' "$5" "$2")
	if [ "$4" = 1 ] && [ "${r%%|*}" = fail ] && [[ "${r#*|}" == *"$3"* ]]; then
		ok "--fault $1 fails $2 (${r#*|})"
	else
		not_ok "--fault $1 fails $2" "exit $4, got '$r', want fail with '$3'"
	fi
}

start_microsocks_auth() {
	SOCKS_PORT=$(free_port)
	bg sh -c "exec microsocks -i 127.0.0.1 -p $SOCKS_PORT -u tp -P secret >$T/microsocks.log 2>&1"
	wait_port "$SOCKS_PORT"
}

start_ref_proxy() { # ARGS... (extra proxy flags, e.g. --fault SPEC)
	start_tp ref proxy --listen 127.0.0.1:0 --allow 127.0.0.1/32 --allow ::1 \
		--allow 224.0.0.0/4 "$@" || return 1
	REF_PORT=$TP_PORT
	REF_PID=$TP_PID
}

# run_subject NAME JSON [CHECK ARGS...]: starts subject NAME (squid, tinyproxy,
# microsocks, microsocks-auth, nginx, reference, reference-reverse) as docs/check.md sets
# it up and runs `tunnelprobe check`
# on every profile it serves, writing JSON; the check's exit status is returned. The
# matrix script (bench/check-matrix.sh) and tests/e2e/check_peers.sh both use it.
run_subject() {
	local name=$1 json=$2 op
	shift 2
	local common=(--idle-wait 2 --json "$json")
	case $name in
	squid)
		start_squid_check || return 2
		"$TP_BIN" check --proxy "http://127.0.0.1:$SQUID_PORT" --profile forward,connect,cache \
			--denied 127.0.0.2:9 "${common[@]}" "$@" ;;
	tinyproxy)
		start_tinyproxy || return 2
		"$TP_BIN" check --proxy "http://127.0.0.1:$TINYPROXY_PORT" --profile forward,connect \
			"${common[@]}" "$@" ;;
	microsocks)
		start_microsocks || return 2
		"$TP_BIN" check --proxy "socks5://127.0.0.1:$SOCKS_PORT" --profile socks5 \
			"${common[@]}" "$@" ;;
	microsocks-auth)
		start_microsocks_auth || return 2
		"$TP_BIN" check --proxy "socks5://tp:secret@127.0.0.1:$SOCKS_PORT" --profile socks5 \
			"${common[@]}" "$@" ;;
	nginx)
		op=$(free_port)
		start_nginx_gateway "$op" || return 2
		"$TP_BIN" check --gateway "http://127.0.0.1:$NGINX_GW_PORT" \
			--origin-url "http://127.0.0.1:$op" --profile gateway --breaker-wait 5 \
			"${common[@]}" "$@" ;;
	reference-reverse) # hardened as docs/incidents/gateway-hardening/gateway.sh does it
		op=$(free_port)
		start_ref_gateway "$op" --rate-limit 50/s --breaker failures=5,cooldown=2 || return 2
		"$TP_BIN" check --gateway "http://127.0.0.1:$REF_GW_PORT" --origin-url "http://127.0.0.1:$op" \
			--metrics "http://127.0.0.1:$REF_GW_PORT/metrics" --profile gateway --breaker-wait 10 \
			"${common[@]}" "$@" ;;
	reference)
		start_ref_proxy || return 2
		"$TP_BIN" check --proxy "http://127.0.0.1:$REF_PORT" --profile forward,connect,socks5 \
			--denied 127.0.0.2:9 --pid "$REF_PID" "${common[@]}" "$@" ;;
	*) echo "run_subject: unknown subject $name" >&2; return 2 ;;
	esac
}
