#!/bin/sh
# quic_certs.sh DIR — test certificates for the QUIC tests, made with the openssl CLI:
#   ca.pem/ca.key            a CA
#   leaf.pem/leaf.key        leaf for localhost, 127.0.0.1 and ::1, signed by the CA
#   other.pem/other.key      leaf for other.test only (SNI tests), signed by the CA
#   wrongca.pem              another CA, which signed nothing here
#   chain.pem                leaf.pem then ca.pem (a chain as servers present it)
# P-256 keys, valid one day. Quiet unless something fails.
set -eu
d=$1
mkdir -p "$d"
cd "$d"
ossl() { openssl "$@" 2>/dev/null; }
key() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
key ca.key
ossl req -x509 -new -key ca.key -days 1 -subj /CN=tunnelprobe-test-ca -out ca.pem \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
leaf() { # name san
	key "$1.key"
	ossl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$3" >"$1.ext"
	ossl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
		-extfile "$1.ext" -out "$1.pem"
	rm -f "$1.csr" "$1.ext"
}
leaf leaf localhost "DNS:localhost,IP:127.0.0.1,IP:::1"
leaf other other.test "DNS:other.test"
cat leaf.pem ca.pem >chain.pem
key wrongca.key
ossl req -x509 -new -key wrongca.key -days 1 -subj /CN=someone-else -out wrongca.pem \
	-addext basicConstraints=critical,CA:TRUE
test -s chain.pem && test -s other.pem && test -s wrongca.pem
