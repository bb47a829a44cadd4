#!/usr/bin/env bash
# HTTP/3 interop of lib/quic + lib/h3 with peers we did not write: Debian's ngtcp2
# examples (packages ngtcp2-server and ngtcp2-client, GnuTLS builds). The peer on our
# side is tests/helpers/h3peer (plain UDP sockets):
#   - our client fetches 1 KiB, 1 MiB and 10 MiB from gtlsserver, byte for byte, also
#     while gtlsserver drops 5% of the packets each way;
#   - a wrong CA ends the handshake with a TLS alert, reported as such;
#   - the NSS key log lets tshark decrypt a capture (as root, with tshark);
#   - gtlsclient fetches two files over one connection from our server, byte for byte,
#     also while gtlsclient drops 5% of the packets each way.
# gtlsclient exits 0 even when it never connects, so files are compared, not its status.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

H3PEER=${TP_BUILD:-$TP_ROOT/build}/tests/helpers/h3peer
need_cmd gtlsserver "quic interop: gtlsserver" || finish
need_cmd gtlsclient "quic interop: gtlsclient" || finish
[ -x "$H3PEER" ] || { not_ok "quic interop" "$H3PEER was not built"; finish; }

mkdir -p "$T/www" "$T/dl" "$T/gdl" "$T/lossy"
for size in 1024 1048576 10485760; do head -c "$size" /dev/urandom >"$T/www/b$size"; done
make_ca || { not_ok "quic interop: certificates"; finish; }
(T=$T/other && mkdir -p "$T" && make_ca) || not_ok "quic interop: second CA"

get() { # PORT FILE OUT [h3peer get options]
	local port=$1 file=$2 out=$3
	shift 3
	timeout 60 "$H3PEER" get --timeout 30 "$@" --out "$out" 127.0.0.1 "$port" \
		"https://localhost:$port/$file"
}

# ---- our client, their server ----
if start_gtlsserver gtlsserver; then
	for size in 1024 1048576 10485760; do
		out=$(get "$GS_PORT" "b$size" "$T/dl/b$size" --cacert "$T/ca.pem")
		if [ $? -eq 0 ] && cmp -s "$T/www/b$size" "$T/dl/b$size"; then
			ok "h3peer get from gtlsserver: $size bytes byte-exact"
		else
			not_ok "h3peer get from gtlsserver: $size bytes" "$out"
		fi
	done
	out=$(get "$GS_PORT" b1024 "$T/dl/wrong" --cacert "$T/other/ca.pem")
	rc=$?
	if [ $rc -eq 1 ] && [[ "$out" == *"close=tls alert=bad certificate"* ]] &&
		[[ "$out" == status=0* ]]; then
		ok "wrong CA: handshake failure with alert bad certificate"
	else
		not_ok "wrong CA" "exit $rc: $out"
	fi

	# The NSS key log decrypts a capture: HTTP/3 HEADERS frames only with the keys.
	if need_root "key log decrypts a capture" && need_cmd tshark "key log: tshark" &&
		need_cmd tcpdump "key log: tcpdump"; then
		keylog_decrypts "key log: tshark decrypts HEADERS" "$GS_PORT" "$T/keylog" \
			get "$GS_PORT" b1024 "$T/dl/k" --cacert "$T/ca.pem" --keylog "$T/keylog"
	fi
else
	not_ok "gtlsserver starts" "$(tail -3 "$T/gtlsserver.log")"
fi

if start_gtlsserver gtlsserver-lossy -t 0.05 -r 0.05; then
	out=$(get "$GS_PORT" b1048576 "$T/lossy/b1048576" --cacert "$T/ca.pem")
	if [ $? -eq 0 ] && cmp -s "$T/www/b1048576" "$T/lossy/b1048576"; then
		ok "h3peer get from gtlsserver losing 5% each way: 1 MiB byte-exact"
	else
		not_ok "h3peer get from a lossy gtlsserver" "$out"
	fi
else
	not_ok "lossy gtlsserver starts"
fi

# ---- their client, our server ----
serve_and_fetch() { # NAME DIR LOSSY [gtlsclient options]: two files over one connection
	local name=$1 dir=$2 lossy=$3
	shift 3
	rm -f "$T/$name.port"
	"$H3PEER" serve --cert "$T/leaf.pem" --key "$T/leaf.key" --dir "$T/www" \
		--port-file "$T/$name.port" --requests 2 --timeout 60 127.0.0.1 0 >"$T/$name.out" 2>&1 &
	local pid=$! i port
	for ((i = 0; i < 100; i++)); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
	port=$(cat "$T/$name.port" 2>/dev/null)
	if [ -z "$port" ]; then
		not_ok "$name: h3peer serve starts"
		kill "$pid" 2>/dev/null
		return
	fi
	timeout 60 gtlsclient -q --exit-on-all-streams-close --download="$dir" "$@" 127.0.0.1 "$port" \
		"https://localhost:$port/b1048576" "https://localhost:$port/b10485760" >"$T/$name.cli" 2>&1
	wait "$pid"
	local rc=$?
	if cmp -s "$T/www/b1048576" "$dir/b1048576" && cmp -s "$T/www/b10485760" "$dir/b10485760"; then
		ok "$name: gtlsclient got 1 MiB and 10 MiB byte-exact on one connection"
	else
		not_ok "$name: gtlsclient downloads" "$(ls -l "$dir")"
	fi
	if [ "$lossy" = 1 ]; then
		# The client drops 5% of what it sends: its last ACKs and its CONNECTION_CLOSE
		# may be among them, so the server cannot always know the last response
		# arrived (the client's byte-exact copies above say it did). It must have sent
		# both whole.
		expect_eq "$name: h3peer serve sent both responses whole" \
			"$(grep -o 'sent=[0-9]*' "$T/$name.out")" "sent=2"
	else
		expect_eq "$name: h3peer serve saw both responses through" "$rc $(cat "$T/$name.out")" \
			"0 served=2 sent=2"
	fi
}
serve_and_fetch "gtlsclient from h3peer" "$T/gdl" 0
mkdir -p "$T/gdl-lossy"
serve_and_fetch "gtlsclient losing 5% each way from h3peer" "$T/gdl-lossy" 1 -t 0.05 -r 0.05

finish
