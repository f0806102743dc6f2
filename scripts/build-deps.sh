#!/usr/bin/env bash
# build-deps.sh - installs what building logspout needs besides the Swift toolchain, when missing:
# OpenSSL's headers and libraries (libssl-dev: emit-syslog's syslog over TLS, shared for the host build,
# static for the container image), the CA bundle the image ships (ca-certificates) and zlib's headers
# (zlib1g-dev: compressed log generations).
set -euo pipefail
need=""
[ -f /usr/include/openssl/ssl.h ] && [ -f "/usr/lib/$(uname -m)-linux-gnu/libssl.a" ] || need="$need libssl-dev"
[ -f /etc/ssl/certs/ca-certificates.crt ] || need="$need ca-certificates"
[ -f /usr/include/zlib.h ] || need="$need zlib1g-dev"
if [ -n "$need" ]; then
    echo "build-deps.sh: installing$need" >&2
    # shellcheck disable=SC2086 # a list of package names
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
