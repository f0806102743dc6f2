#!/usr/bin/env bash
# engine.sh - a private Docker engine for logspout's tests and demos.
#
# Runs its own dockerd (and its own containerd) with its own socket,
# data-root, exec-root and pidfiles, so it never touches a system Docker
# engine that may run on the same host. Networking is off (no bridge,
# no iptables): run containers with `--network none`.
#
# Usage: scripts/engine.sh COMMAND
#   install          apt-get install what is missing (docker.io, busybox-static, curl)
#   start            install if needed, start the engine unless it runs, build the test image
#   stop             stop dockerd and the containerd started for it; safe when not running
#   restart-daemon   stop and start dockerd only (containerd and data are kept)
#   status           exit 0 when the engine runs and answers /_ping
#   env              print `export DOCKER_HOST=unix://.../docker.sock` (for eval)
#   image [--force]  (re)build the test image logspout-test:latest from busybox-static
#   docker ARGS...   run the docker client against this engine
#   logs             print the last 50 lines of dockerd.log
#
# Environment:
#   LOGSPOUT_ENGINE_DIR          state folder (default /var/lib/logspout-engine)
#   LOGSPOUT_ENGINE_TIMEOUT      seconds to wait for /_ping on start (default 60)
#   LOGSPOUT_ENGINE_LIVE_RESTORE set to 1 to run dockerd with --live-restore
#                                (containers then survive restart-daemon)
#   LOGSPOUT_ENGINE_DOCKERD_ARGS extra dockerd arguments (word-split)
set -eu

DIR=${LOGSPOUT_ENGINE_DIR:-/var/lib/logspout-engine}
DATA=$DIR/data
EXEC=$DIR/exec
SOCK=$DIR/docker.sock
PIDFILE=$DIR/dockerd.pid
LOG=$DIR/dockerd.log
CTRD_SOCK=$EXEC/containerd/containerd.sock
CTRD_PIDFILE=$DIR/containerd.pid
CTRD_LOG=$DIR/containerd.log
CTRD_CONFIG=$DIR/containerd.toml
DAEMON_JSON=$DIR/daemon.json
TIMEOUT=${LOGSPOUT_ENGINE_TIMEOUT:-60}
IMAGE=logspout-test:latest
# one cgroup parent per state folder, so two engines never share one
CGROUP_PARENT=logspout-engine-$(printf %s "$DIR" | cksum | cut -d' ' -f1)

PATH=$PATH:/usr/sbin:/sbin

log() { echo "engine.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------- install

have_cmd() { command -v "$1" >/dev/null 2>&1; }

busybox_bin() {
    # busybox-static installs /bin/busybox; prefer it, it has no library deps.
    local b
    for b in /bin/busybox /usr/bin/busybox; do
        if [ -x "$b" ] && file_is_static "$b"; then echo "$b"; return 0; fi
    done
    return 1
}

file_is_static() {
    # A static ELF has no PT_INTERP: ldd says "not a dynamic executable".
    ! ldd "$1" >/dev/null 2>&1
}

cmd_install() {
    local missing=""
    have_cmd dockerd && have_cmd docker && have_cmd containerd && have_cmd runc \
        || missing="$missing docker.io"
    busybox_bin >/dev/null || missing="$missing busybox-static"
    have_cmd curl || missing="$missing curl"
    [ -n "$missing" ] || return 0
    [ "$(id -u)" = 0 ] || die "need root to install:$missing"
    log "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# ---------------------------------------------------------------- helpers

# Running and not a zombie: our daemons are reparented to init once this
# script exits, and a dead one may stay a zombie until init reaps it.
alive() { # pid
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

pid_alive() { # pidfile
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1" 2>/dev/null) || return 1
    case $pid in ''|*[!0-9]*) return 1 ;; esac
    alive "$pid"
}

ping_ok() {
    [ -S "$SOCK" ] || return 1
    [ "$(curl -s --max-time 3 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null)" = OK ]
}

docker_cli() { docker -H "unix://$SOCK" "$@"; }

# Start a command detached from the caller: own session, no inherited
# descriptors (so `$(engine.sh start)` or a test runner's pipes never hang).
spawn() { # logfile cmd...
    local out=$1; shift
    (
        for fd in "/proc/$BASHPID/fd/"*; do
            fd=${fd##*/}
            case $fd in 0|1|2) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
        done
        exec setsid "$@" </dev/null >>"$out" 2>&1
    ) &
    SPAWNED=$!
}

stop_pidfile() { # pidfile name seconds
    local pid i
    pid_alive "$1" || { rm -f "$1"; return 0; }
    pid=$(cat "$1")
    kill -TERM "$pid" 2>/dev/null || true
    i=0
    while alive "$pid" && [ "$i" -lt $(($3 * 10)) ]; do
        sleep 0.1; i=$((i + 1))
    done
    if alive "$pid"; then
        log "$2 ($pid) did not stop in $3 s, killing it"
        kill -KILL "$pid" 2>/dev/null || true
        i=0
        while alive "$pid" && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    rm -f "$1"
}

# PIDs of containerd shims serving our containerd (their command line holds
# our containerd's address, which no other containerd uses).
our_shims() {
    local d
    for d in /proc/[0-9]*; do
        [ -r "$d/cmdline" ] || continue
        if tr '\0' '\n' <"$d/cmdline" 2>/dev/null | grep -qxF -- "$CTRD_SOCK"; then
            case $(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) in
                *containerd-shim*) echo "${d#/proc/}" ;;
            esac
        fi
    done
}

unmount_leftovers() {
    # Container rootfs and netns mounts left behind by a killed daemon.
    local m
    awk -v d="$DIR/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts 2>/dev/null \
        | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}

# ---------------------------------------------------------------- containerd

# dockerd 20.10, when --containerd is not given, uses the system containerd
# whenever /run/containerd/containerd.sock exists, and only otherwise starts
# its own. To be private in every case we start our own containerd (with its
# own socket, root and state under our folder) and point dockerd at it.
write_containerd_config() {
    cat >"$CTRD_CONFIG" <<EOF
version = 2
root = "$DATA/containerd/daemon"
state = "$EXEC/containerd/daemon"
# the CRI plugin is for Kubernetes; dockerd does not use it
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "$CTRD_SOCK"
  uid = 0
  gid = 0

[ttrpc]
  address = ""

[debug]
  address = "$EXEC/containerd/containerd-debug.sock"
  level = "warn"

[metrics]
  address = ""

[plugins."io.containerd.monitor.v1.cgroups"]
  no_prometheus = true
EOF
}

start_containerd() {
    if pid_alive "$CTRD_PIDFILE" && [ -S "$CTRD_SOCK" ]; then return 0; fi
    stop_pidfile "$CTRD_PIDFILE" containerd 10
    rm -f "$CTRD_SOCK"
    mkdir -p "$EXEC/containerd" "$DATA/containerd"
    write_containerd_config
    spawn "$CTRD_LOG" containerd --config "$CTRD_CONFIG"
    echo "$SPAWNED" >"$CTRD_PIDFILE"
    local i=0
    while [ ! -S "$CTRD_SOCK" ]; do
        alive "$SPAWNED" || {
            tail -n 30 "$CTRD_LOG" >&2 || true
            die "containerd exited at start (log: $CTRD_LOG)"
        }
        [ "$i" -lt $((TIMEOUT * 10)) ] || {
            tail -n 30 "$CTRD_LOG" >&2 || true
            die "containerd socket did not appear in $TIMEOUT s (log: $CTRD_LOG)"
        }
        sleep 0.1; i=$((i + 1))
    done
}

# Container processes left running by a dockerd that had to be killed: they
# sit in cgroups under our cgroup parent (see --cgroup-parent below).
our_cgroups() {
    find /sys/fs/cgroup -depth -type d \( -name "$CGROUP_PARENT" -o -path "*/$CGROUP_PARENT/*" \) 2>/dev/null || true
}

stop_containerd() {
    local pid cg
    stop_pidfile "$CTRD_PIDFILE" containerd 10
    for cg in $(our_cgroups); do
        # shellcheck disable=SC2013
        for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
    done
    for pid in $(our_shims); do kill -KILL "$pid" 2>/dev/null || true; done
    sleep 0.2
    # sockets of killed shims (they live in containerd's fixed /run/containerd/s)
    local addr f
    for f in "$EXEC"/containerd/daemon/io.containerd.runtime.v2.task/*/*/address; do
        [ -f "$f" ] || continue
        addr=$(cat "$f" 2>/dev/null) || continue
        case $addr in unix://*) rm -f "${addr#unix://}" ;; esac
    done
    for cg in $(our_cgroups); do rmdir "$cg" 2>/dev/null || true; done
    rm -f "$CTRD_SOCK" "$EXEC/containerd/containerd-debug.sock"
}

# ---------------------------------------------------------------- dockerd

start_dockerd() {
    if pid_alive "$PIDFILE" && ping_ok; then return 0; fi
    if pid_alive "$PIDFILE"; then
        # running but not answering: give it the benefit of the wait below
        :
    else
        rm -f "$PIDFILE" "$SOCK"
        # Our own config file, so an /etc/docker/daemon.json meant for the
        # system engine (hosts, data-root, ...) cannot clash with our flags.
        # It also keeps dockerd's trust key in our folder, not /etc/docker.
        printf '{\n  "deprecated-key-path": "%s"\n}\n' "$DIR/key.json" >"$DAEMON_JSON"
        local extra=()
        [ "${LOGSPOUT_ENGINE_LIVE_RESTORE:-0}" = 1 ] && extra+=(--live-restore)
        # shellcheck disable=SC2206
        extra+=(${LOGSPOUT_ENGINE_DOCKERD_ARGS:-})
        {
            echo "---- $(date -u +%Y-%m-%dT%H:%M:%SZ) engine.sh starting dockerd"
        } >>"$LOG"
        # Flags:
        #  --config-file          ignore the system engine's daemon.json
        #  --containerd           our private containerd (see above)
        #  --storage-driver=vfs   plain copies: works on any backing filesystem
        #                         and kernel (overlay2 fails on an overlay or
        #                         some tmpfs roots); the test image is 2 MB
        #  --iptables/--ip6tables/--bridge=none/--ip-forward/--ip-masq
        #                         leave the host's network config alone; tests
        #                         run containers with --network none
        #  native.cgroupdriver=cgroupfs  no systemd here to ask for cgroups
        #  --cgroup-parent        keep our containers' cgroups apart from a
        #                         system engine's /docker cgroups
        #  --init                 tini as PID 1, so `docker stop`/`restart` and
        #                         daemon shutdown don't wait the 10 s grace
        #                         period for shells that ignore SIGTERM as PID 1
        #  --userland-proxy=false no docker-proxy processes (no ports anyway)
        spawn "$LOG" dockerd \
            --config-file "$DAEMON_JSON" \
            --data-root "$DATA" \
            --exec-root "$EXEC" \
            --pidfile "$PIDFILE" \
            -H "unix://$SOCK" \
            --containerd "$CTRD_SOCK" \
            --storage-driver=vfs \
            --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
            --bridge=none \
            --exec-opt native.cgroupdriver=cgroupfs \
            --cgroup-parent="/$CGROUP_PARENT" \
            --init \
            --userland-proxy=false \
            "${extra[@]}"
        echo "$SPAWNED" >"$PIDFILE.spawned"
    fi
    wait_ping
}

wait_ping() {
    local i=0 pid
    pid=$(cat "$PIDFILE.spawned" 2>/dev/null || cat "$PIDFILE" 2>/dev/null || echo 0)
    while ! ping_ok; do
        if ! alive "$pid"; then
            tail -n 30 "$LOG" >&2 || true
            rm -f "$PIDFILE.spawned"
            die "dockerd exited before answering /_ping (log: $LOG)"
        fi
        if [ "$i" -ge $((TIMEOUT * 10)) ]; then
            tail -n 30 "$LOG" >&2 || true
            rm -f "$PIDFILE.spawned"
            die "dockerd did not answer /_ping on $SOCK within $TIMEOUT s (log: $LOG)"
        fi
        sleep 0.1; i=$((i + 1))
    done
    rm -f "$PIDFILE.spawned"
}

stop_dockerd() {
    local pid
    if [ -s "$PIDFILE.spawned" ] && ! pid_alive "$PIDFILE"; then
        # started but killed before it wrote its pidfile
        cp "$PIDFILE.spawned" "$PIDFILE"
    fi
    rm -f "$PIDFILE.spawned"
    stop_pidfile "$PIDFILE" dockerd 20
    rm -f "$SOCK"
}

# ---------------------------------------------------------------- image

cmd_image() {
    local force=0
    [ "${1:-}" = --force ] && force=1
    local bb root applet old new
    old=$(docker_cli image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
    [ "$force" = 1 ] || [ -z "$old" ] || return 0
    bb=$(busybox_bin) || die "no static busybox (apt-get install busybox-static)"
    root=$(mktemp -d "${TMPDIR:-/tmp}/logspout-test-rootfs.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$root'" EXIT
    mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/proc" \
        "$root/sys" "$root/dev" "$root/var/log"
    chmod 1777 "$root/tmp"
    cp "$bb" "$root/bin/busybox"
    for applet in $("$bb" --list); do
        [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
        >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    tar -C "$root" --numeric-owner --owner=0 --group=0 -cf - . \
        | docker_cli import --change 'CMD ["sh"]' - "$IMAGE" >/dev/null
    rm -rf "$root"
    trap - EXIT
    # drop the replaced image unless containers still use it
    new=$(docker_cli image inspect -f '{{.Id}}' "$IMAGE")
    if [ -n "$old" ] && [ "$old" != "$new" ]; then
        docker_cli rmi "$old" >/dev/null 2>&1 || true
    fi
}

# ---------------------------------------------------------------- commands

cmd_start() {
    cmd_install
    [ "$(id -u)" = 0 ] || die "dockerd needs root"
    mkdir -p "$DIR" "$DATA" "$EXEC"
    if ! { pid_alive "$PIDFILE" && ping_ok; }; then
        start_containerd
        start_dockerd
        log "engine running: DOCKER_HOST=unix://$SOCK"
    fi
    cmd_image
}

cmd_stop() {
    stop_dockerd
    stop_containerd
    unmount_leftovers
}

cmd_restart_daemon() {
    mkdir -p "$DIR" "$DATA" "$EXEC"
    stop_dockerd
    start_containerd
    start_dockerd
}

cmd_status() {
    pid_alive "$PIDFILE" && ping_ok
}

# Serialise start/stop/restart/image: test suites may call start in parallel.
# (spawn closes fd 9, so the daemons never hold the lock.)
lock() {
    mkdir -p "$DIR"
    exec 9>>"$DIR/engine.lock"
    flock -w 300 9 || die "timed out waiting for $DIR/engine.lock"
}

case ${1:-} in
    install) cmd_install ;;
    start) lock; cmd_start ;;
    stop) [ ! -d "$DIR" ] || { lock; cmd_stop; } ;;
    restart-daemon) lock; cmd_restart_daemon ;;
    status) cmd_status ;;
    env) echo "export DOCKER_HOST=unix://$SOCK" ;;
    image) shift; cmd_status || die "engine not running (run: $0 start)"; lock; cmd_image "$@" ;;
    docker) shift; docker_cli "$@" ;;
    logs) tail -n 50 "$LOG" ;;
    -h|--help|help) sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' ;;
    *) sed -n '/^# Usage:/,/^#   logs/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
