#!/usr/bin/env bash
# image.sh [TAG] - builds the logspout container image (default tag logspout:latest) on the engine at
# DOCKER_HOST (the private one of scripts/engine.sh when unset): static release executables, a static
# busybox, supervisor.sh, FROM scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-logspout:latest}

if [ -z "${DOCKER_HOST:-}" ]; then
    bash scripts/engine.sh start
    eval "$(bash scripts/engine.sh env)"
    export DOCKER_HOST
fi
bash scripts/build-deps.sh
# The linker's notes about getaddrinfo and dlopen in static programs are expected: name lookups use the
# resolver built into the C library (files and dns) and /etc/resolv.conf, both present at run time;
# nothing loads shared libraries (OpenSSL's providers are built in).
# OpenSSL is linked in (a static program cannot dlopen it): -DLOGSPOUT_TLS_LINKED, -lssl -lcrypto. zlib
# (attach's compressed log generations) comes in from libz.a (zlib1g-dev) through CZlib's `-lz`.
swift build -c release --scratch-path .build-image --static-swift-stdlib -Xswiftc -static-executable \
    -Xcc -DLOGSPOUT_TLS_LINKED -Xlinker -lssl -Xlinker -lcrypto --product logspout 2>&1 \
    | grep -v "statically linked applications requires at runtime" | tail -n 1

context=.build-image/context
rm -rf "$context"
mkdir -p "$context/rootfs/bin" "$context/rootfs/logspout" "$context/rootfs/etc/ssl/certs" "$context/rootfs/tmp" \
    "$context/rootfs/mnt/routes" "$context/rootfs/var/lib/logspout"
chmod 1777 "$context/rootfs/tmp"
# One executable for every stage (their code pages are shared in memory), named by links.
strip -o "$context/rootfs/logspout/logspout" .build-image/release/logspout
for stage in attach route emit-syslog httpd; do
    ln -s logspout "$context/rootfs/logspout/$stage"
done
cp supervisor.sh "$context/rootfs/logspout/supervisor.sh"
busybox=/bin/busybox
[ -x "$busybox" ] || { bash scripts/engine.sh install; }
cp "$busybox" "$context/rootfs/bin/busybox"
for applet in sh cat cut dirname kill ls mkdir mkfifo mktemp mv ps rm sed sleep tr; do
    ln -s busybox "$context/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/:/bin/sh\n' > "$context/rootfs/etc/passwd"
printf 'hosts: files dns\n' > "$context/rootfs/etc/nsswitch.conf"
# The system's CA bundle, for syslog over TLS (the Dockerfile points SSL_CERT_FILE at it).
cp /etc/ssl/certs/ca-certificates.crt "$context/rootfs/etc/ssl/certs/ca-certificates.crt"
cp Dockerfile "$context/Dockerfile"
# The engine's own builder; its notice that the legacy builder is deprecated is noise here, so what it
# says on stderr is shown only when the build fails.
old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
if ! docker build -q -t "$tag" "$context" >/dev/null 2>"$context.err"; then
    cat "$context.err" >&2
    exit 1
fi
# The image this tag named before, unless containers still use it (rebuilds leave none behind).
if [ -n "$old" ] && [ "$old" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
    docker rmi "$old" >/dev/null 2>&1 || true
fi
echo "image.sh: built $tag ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.1f MB", $1 / 1e6}'))" >&2
