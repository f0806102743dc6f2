#!/usr/bin/env bash
# etcd.sh - a private etcd for route's deis-logger discovery tests and demos.
#
# Runs Debian's etcd (package etcd-server) on 127.0.0.1 with the v2 keys API enabled, its client URL
# http://127.0.0.1:4001 (the port deis uses), a free peer port, and its own data folder, so it never
# touches a system etcd.
#
# Usage: scripts/etcd.sh COMMAND
#   install   apt-get install etcd-server, etcd-client and curl when missing
#   start     install if needed, start etcd unless it answers, wait until the v2 API answers; idempotent
#   stop      stop the etcd this script started; safe when not running
#   status    exit 0 when the v2 keys API answers
#   env       print `export ETCD_HOST=127.0.0.1 ETCD_PORT=…` (for eval)
#   logs      print the last 50 lines of etcd's log
#
# Environment:
#   LOGSPOUT_ETCD_DIR      state folder (default /var/lib/logspout-etcd)
#   LOGSPOUT_ETCD_PORT     client port (default 4001)
#   LOGSPOUT_ETCD_TIMEOUT  seconds to wait for the API on start (default 30)
set -eu

DIR=${LOGSPOUT_ETCD_DIR:-/var/lib/logspout-etcd}
PORT=${LOGSPOUT_ETCD_PORT:-4001}
TIMEOUT=${LOGSPOUT_ETCD_TIMEOUT:-30}
DATA=$DIR/data
PIDFILE=$DIR/etcd.pid
LOG=$DIR/etcd.log
PEERFILE=$DIR/peer-port
URL=http://127.0.0.1:$PORT

log() { echo "etcd.sh: $*" >&2; }
die() { log "$*"; exit 1; }
have_cmd() { command -v "$1" >/dev/null 2>&1; }

cmd_install() {
    local missing=""
    have_cmd etcd || missing="$missing etcd-server"
    have_cmd etcdctl || missing="$missing etcd-client"
    have_cmd curl || missing="$missing curl"
    [ -n "$missing" ] || return 0
    [ "$(id -u)" = 0 ] || die "need root to install:$missing"
    log "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null \
        || die "apt-get install$missing failed"
    # The package may start a system etcd on the default ports; ours uses its own.
}

answers() { curl -fsS --max-time 2 "$URL/v2/keys/" >/dev/null 2>&1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid=$(cat "$PIDFILE")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q etcd "/proc/$pid/cmdline" 2>/dev/null || return 1
    echo "$pid"
}

# A peer port nobody listens on, kept across starts (etcd remembers its peer URL in its data).
peer_port() {
    local p
    if [ -f "$PEERFILE" ]; then
        p=$(cat "$PEERFILE")
        if ! port_in_use "$p"; then echo "$p"; return; fi
        # Taken by someone else now: start over with a fresh member.
        rm -rf "$DATA"
    fi
    for p in $(seq 23800 23899); do
        if ! port_in_use "$p"; then echo "$p" >"$PEERFILE"; echo "$p"; return; fi
    done
    die "no free peer port in 23800-23899"
}

cmd_start() {
    if answers; then return 0; fi
    cmd_install
    have_cmd etcd || die "etcd is not installed (apt-get install etcd-server)"
    mkdir -p "$DIR"
    if running_pid >/dev/null; then
        log "etcd runs (pid $(running_pid)) but does not answer at $URL yet; waiting"
    else
        if port_in_use "$PORT"; then
            die "port $PORT is taken by something that is not an etcd v2 API (see: ss -ltnp | grep $PORT)"
        fi
        local peer
        peer=$(peer_port)
        # etcd 3.4 serves the v2 API only with --enable-v2. It inherits no descriptor but the three
        # standard ones: a test runner's pipes, or a lock its caller holds, are not kept open by it.
        (
            for fd in "/proc/$BASHPID/fd/"*; do
                fd=${fd##*/}
                case $fd in 0|1|2) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
            done
            exec setsid etcd --name logspout-test --data-dir "$DATA" \
                --listen-client-urls "$URL" --advertise-client-urls "$URL" \
                --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
                --initial-cluster "logspout-test=http://127.0.0.1:$peer" --initial-cluster-state new \
                --enable-v2=true >>"$LOG" 2>&1 </dev/null
        ) &
        echo $! >"$PIDFILE"
    fi
    local waited=0
    while ! answers; do
        if ! running_pid >/dev/null; then
            tail -n 20 "$LOG" >&2 || true
            die "etcd exited at start (log: $LOG)"
        fi
        [ "$waited" -lt $((TIMEOUT * 10)) ] || die "etcd did not answer at $URL/v2/keys/ within ${TIMEOUT}s (log: $LOG)"
        sleep 0.1
        waited=$((waited + 1))
    done
}

cmd_stop() {
    local pid
    pid=$(running_pid) || { rm -f "$PIDFILE"; return 0; }
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    rm -f "$PIDFILE"
}

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) answers ;;
    env) echo "export ETCD_HOST=127.0.0.1 ETCD_PORT=$PORT" ;;
    logs) tail -n 50 "$LOG" 2>/dev/null || true ;;
    *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
