#!/usr/bin/env bash
# test.sh - the whole test suite on a fresh machine: installs what is missing, starts the private Docker
# engine (scripts/engine.sh), builds, and runs every unit and end-to-end test.
# Fails, never skips, when the engine cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v swift >/dev/null 2>&1; then
    echo "test.sh: the Swift toolchain (6.x) is needed on PATH" >&2
    exit 1
fi

if ! bash scripts/engine.sh start; then
    echo "test.sh: the private Docker engine did not start (see above); the end-to-end tests cannot run" >&2
    exit 1
fi
eval "$(bash scripts/engine.sh env)"
export DOCKER_HOST

start=$(date +%s)
swift build --build-tests 2>&1
swift test --skip-build 2>&1
echo "test.sh: the suite took $(( $(date +%s) - start )) s"
