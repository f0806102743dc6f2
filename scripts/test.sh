#!/usr/bin/env bash
# test.sh - the whole test suite on a fresh machine: installs what is missing, starts the private Docker
# engine (scripts/engine.sh), runs each fuzz target for 5 s (scripts/fuzz.sh; FUZZ_SECONDS changes it, 0 skips
# it), builds, and runs every unit and end-to-end test.
# Fails, never skips, when the engine cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null 2>&1; then
    echo "test.sh: the Swift toolchain (6.x) is needed on PATH" >&2
    exit 1
fi

bash scripts/build-deps.sh
# Real receivers and services the tests run: rsyslog (and its TLS driver), dnsmasq, etcd, openssl (test
# certificates), curl, socat, chromium, docker-compose (the repository's docker-compose.yml), promtool (checks
# the metrics), and jq for the README's examples (and the engine's own packages).
need=""
for pair in rsyslogd:rsyslog openssl:openssl dnsmasq:dnsmasq-base etcd:etcd-server curl:curl socat:socat unshare:util-linux chromium:chromium docker-compose:docker-compose promtool:prometheus jq:jq; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] || [ -x "/usr/bin/${pair%%:*}" ] || need="$need ${pair#*:}"
done
/usr/bin/python3 -c 'import websockets' 2>/dev/null || need="$need python3-websockets"
command -v promtool >/dev/null 2>&1 || need="$need prometheus"  # promtool, and a Prometheus server scraping /metrics
dpkg -s rsyslog-openssl >/dev/null 2>&1 || need="$need rsyslog-openssl"  # rsyslog's TLS driver (ossl): a module, no command
if [ -n "$need" ]; then
    echo "test.sh: installing$need" >&2
    # shellcheck disable=SC2086 # a list of package names
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

if ! bash scripts/engine.sh start; then
    echo "test.sh: the private Docker engine did not start (see above); the end-to-end tests cannot run" >&2
    exit 1
fi
eval "$(bash scripts/engine.sh env)"
export DOCKER_HOST

# The parsers under libFuzzer, from the seed corpus (Fuzz/Corpus). A finding fails the run, naming its
# reproducer, once the tests below have run too.
fuzzed=true
fuzz_seconds=${FUZZ_SECONDS:-5}
if [ "$fuzz_seconds" != 0 ]; then
    start=$(date +%s)
    bash scripts/fuzz.sh "$fuzz_seconds" || fuzzed=false
    echo "test.sh: fuzzing took $(( $(date +%s) - start )) s"
fi

start=$(date +%s)
swift build --build-tests 2>&1
# One test at a time: the end-to-end suites share one engine (one of them restarts it) and two cores.
swift test --skip-build --no-parallel 2>&1
echo "test.sh: the suite took $(( $(date +%s) - start )) s"
if ! $fuzzed; then
    echo "test.sh: the fuzz targets found a crash (see fuzz.sh's lines above)" >&2
    exit 1
fi
