#!/usr/bin/env bash
# Installs the Debian packages tunnelprobe builds, tests and demos with, when missing.
# Root runs apt-get directly; anyone else goes through sudo. Quiet when all is present.
set -euo pipefail
pkgs=(
  build-essential pkg-config clang libclang-rt-14-dev
  libssl-dev libc-ares-dev libjansson-dev zlib1g-dev libpcap-dev libcmocka-dev
  libngtcp2-dev libngtcp2-crypto-gnutls-dev libnghttp3-dev libgnutls28-dev
  openssl curl python3 iproute2 procps
  nginx-light tinyproxy squid microsocks wrk nghttp2-client tcpdump tshark
  ngtcp2-client ngtcp2-server
  gcc-mingw-w64-x86-64-posix libz-mingw-w64-dev wine64
  docker.io python3-yaml
  chromium
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Debian starts daemons on install; tests start their own on free ports, so keep the
# packaged services from starting (and from grabbing ports 80/3128/8888).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
