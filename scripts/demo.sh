#!/usr/bin/env bash
# demo.sh - the main job for a newcomer: the private Docker engine, a demo container that logs, a local
# rsyslog receiving on 127.0.0.1:5514, and the appliance (supervisor.sh: attach | route | emit-syslog)
# shipping every container line to it. The received syslog lines are shown live; Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/engine.sh start
eval "$(bash scripts/engine.sh env)"
export DOCKER_HOST
if ! command -v rsyslogd >/dev/null 2>&1 && [ ! -x /usr/sbin/rsyslogd ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rsyslog >/dev/null
fi
bash scripts/build-deps.sh
swift build -c release 2>&1 | tail -n 1

dir=$(mktemp -d /tmp/logspout-demo.XXXXXX)
port=${DEMO_PORT:-5514}
cat > "$dir/rsyslog.conf" <<CONF
global(workDirectory="$dir")
module(load="imudp")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%\n")
ruleset(name="demo") { action(type="omfile" file="$dir/received.log" template="raw") }
input(type="imudp" address="127.0.0.1" port="$port" ruleset="demo")
input(type="imtcp" address="127.0.0.1" port="$port" ruleset="demo")
CONF
touch "$dir/received.log"
/usr/sbin/rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslog.pid" &
rsyslog=$!

name=logspout-demo
docker rm -f "$name" >/dev/null 2>&1 || true
docker run -d --network none --name "$name" logspout-test:latest \
    sh -c 'i=0; while true; do i=$((i+1)); echo "hello from the demo, line $i"; [ $((i % 5)) -eq 0 ] && echo "line $i to stderr" >&2; sleep 1; done' >/dev/null

LOGSPOUT_BIN=.build/release sh ./supervisor.sh "syslog://127.0.0.1:$port" &
supervisor=$!
cleanup() {
    kill -TERM "$supervisor" 2>/dev/null || true
    wait "$supervisor" 2>/dev/null || true
    docker rm -f "$name" >/dev/null 2>&1 || true
    kill "$rsyslog" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 0' INT TERM
echo "demo.sh: the live page: http://localhost:${PORT:-8000}/ (curl localhost:${PORT:-8000}/logs)" >&2
echo "demo.sh: syslog messages received by rsyslog on 127.0.0.1:$port (Ctrl-C to stop):" >&2
tail -n +1 -f "$dir/received.log"
