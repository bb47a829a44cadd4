#!/usr/bin/env bash
# ci/k8s/image.sh BIN OUTDIR [TAG] — `make image`: the tunnelprobe container image, built
# without any registry or base image (docs/distributed.md "The image"):
#   OUTDIR/rootfs/       the binary (stripped) as /tunnelprobe, every shared library
#                        `ldd BIN` names (and the loader) at its own path, the CA bundle
#                        (/etc/ssl/certs/ca-certificates.crt, OpenSSL's cert.pem beside
#                        it), /etc/passwd and /etc/group with an unprivileged user
#                        tunnelprobe (10001), nsswitch.conf, and /tmp /work /results
#                        writable by any uid (a cluster may run us under a random one);
#   OUTDIR/rootfs.tar    that tree, owned by root, numeric ids, sorted, fixed mtimes;
#   the image TAG        (default tunnelprobe:VERSION, also tagged :latest) imported from
#                        rootfs.tar with `docker import` into the daemon at DOCKER_HOST,
#                        running as 10001 with ENTRYPOINT ["/tunnelprobe"];
#   OUTDIR/image.tar     `docker save` of it, for `docker load`, `kind load
#                        image-archive`, `ctr -n k8s.io images import` on cluster nodes.
# DOCKER (default /usr/bin/docker: Debian's client, which matches Debian's dockerd;
# another client earlier on PATH may speak a newer API) and DOCKER_HOST are honoured.
# IMAGE_NO_DOCKER=1 stops after rootfs.tar (no daemon needed).
# Exit 0 built; 1 with one line on stderr when something is missing.
set -euo pipefail
bin=${1:?usage: image.sh BIN OUTDIR [TAG]}
out=${2:?usage: image.sh BIN OUTDIR [TAG]}
docker=${DOCKER:-/usr/bin/docker}
die() { echo "make image: $*" >&2; exit 1; }

[ -x "$bin" ] || die "no binary at $bin"
version=$("$bin" version | awk '{print $2}')
tag=${3:-tunnelprobe:$version}
root="$out/rootfs"
rm -rf "$root" "$out/rootfs.tar" "$out/image.tar"
mkdir -p "$root"/{etc/ssl/certs,usr/lib/ssl,tmp,work,results}

strip -o "$root/tunnelprobe" "$bin"
# Every library the dynamic loader resolves, copied (not linked) to the same path, and
# the loader itself: the image needs no package manager and no base layer.
libs=$(ldd "$bin" | awk '/=> \// {print $3} /^\t\// {print $1}')
[ -n "$libs" ] || die "ldd names no libraries for $bin (a static binary needs none: remove this check)"
for lib in $libs; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
# Debian's ldd names /lib/...; /lib is a symlink to /usr/lib on merged-/usr systems.
# The loader is asked for by its absolute path, the rest via its search path, which
# covers both /lib/x86_64-linux-gnu and /usr/lib/x86_64-linux-gnu.
bundle=/etc/ssl/certs/ca-certificates.crt
[ -r "$bundle" ] || die "no CA bundle at $bundle (apt-get install ca-certificates)"
cp "$bundle" "$root$bundle"
ln -s "$bundle" "$root/usr/lib/ssl/cert.pem"
ln -s /etc/ssl/certs "$root/usr/lib/ssl/certs"
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
tunnelprobe:x:10001:10001:tunnelprobe:/work:/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
tunnelprobe:x:10001:
EOF
echo "hosts: files dns" >"$root/etc/nsswitch.conf"
chmod 1777 "$root/tmp" "$root/work" "$root/results"

# Reproducible: the same inputs give the same bytes (and so the same image id).
tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$root" -cf "$out/rootfs.tar" .
echo "rootfs: $out/rootfs.tar ($(du -k "$out/rootfs.tar" | cut -f1) KiB, $(wc -w <<<"$libs") libraries)"
[ "${IMAGE_NO_DOCKER:-0}" = 1 ] && exit 0

command -v "$docker" >/dev/null || die "no docker client at $docker (apt-get install docker.io)"
"$docker" version >/dev/null 2>&1 ||
	die "no docker daemon answers at ${DOCKER_HOST:-the default socket} (start dockerd; docs/distributed.md)"
"$docker" import \
	--change 'USER 10001:10001' \
	--change 'WORKDIR /work' \
	--change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
	--change 'ENTRYPOINT ["/tunnelprobe"]' \
	--change "LABEL org.opencontainers.image.title=tunnelprobe org.opencontainers.image.version=$version" \
	--message "tunnelprobe $version from $(basename "$bin")" \
	"$out/rootfs.tar" "$tag" >/dev/null
"$docker" tag "$tag" "${tag%%:*}:latest"
"$docker" save -o "$out/image.tar" "$tag" "${tag%%:*}:latest"
echo "image: $tag ($("$docker" image inspect -f '{{.Size}}' "$tag") bytes), saved to $out/image.tar"
