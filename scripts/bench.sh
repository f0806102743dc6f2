#!/usr/bin/env bash
# bench.sh - measures the record codec, attach, route and emit-syslog alone, the whole appliance against
# the engine's own delivery rate, the image's memory, the syslog path with stalled /logs clients, and what a shipped line
# costs the host (dockerd and every stage, against Docker's own syslog driver), in one run. Results belong in
# docs/performance.md, with this command. Knobs: BENCH_LINES (200000), BENCH_WIDTH (100 bytes a line),
# BENCH_IDLE (50 idle containers), BENCH_RECORDS (1000000), BENCH_STALLED (50000), BENCH_HOST_LINES (300000),
# BENCH_TRICKLE_CONTAINERS (20), BENCH_TRICKLE_SECONDS (20), BENCH_ONE_EXECUTABLE (1: also the stages as one executable).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/engine.sh start
eval "$(bash scripts/engine.sh env)"
export DOCKER_HOST
command -v curl >/dev/null || apt-get install -y -qq curl >/dev/null
command -v openssl >/dev/null || apt-get install -y -qq openssl >/dev/null
bash scripts/build-deps.sh
swift build -c release >/dev/null
bash scripts/image.sh logspout:latest

echo "== machine: $(nproc) cores, $(uname -r), $(docker version --format 'engine {{.Server.Version}} (API {{.Server.APIVersion}})')"
echo "== codec (records-bench, one core)"
.build/release/records-bench
echo "== attach (scripts/bench.py)"
python3 scripts/bench.py
