#!/usr/bin/env bash
# demo.sh - the main job for a newcomer: starts the private Docker engine, a demo container that logs,
# builds attach and runs it, printing one JSON record per container log line. Ctrl-C ends it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/engine.sh start
eval "$(bash scripts/engine.sh env)"
export DOCKER_HOST
swift build -c release --product attach

name=logspout-demo
docker rm -f "$name" >/dev/null 2>&1 || true
docker run -d --network none --name "$name" logspout-test:latest \
    sh -c 'i=0; while true; do i=$((i+1)); echo "hello from the demo, line $i"; [ $((i % 5)) -eq 0 ] && echo "line $i to stderr" >&2; sleep 1; done' >/dev/null
trap 'docker rm -f "$name" >/dev/null 2>&1 || true' EXIT
echo "demo.sh: following every container on $DOCKER_HOST (Ctrl-C to stop)" >&2
.build/release/attach --backlog || true
