#!/bin/sh
# supervisor.sh [--ready-fd N] [ROUTE_URI...] - logspout's entrypoint: checks the routes (route --check),
# runs attach | route | emit-syslog and httpd, restarts what dies (a stage exiting 78, bad configuration,
# stops it all with 78), and on SIGTERM/SIGINT stops attach first and lets the pipeline drain.
# With --ready-fd N it writes a newline to descriptor N once every stage is ready. POSIX sh (busybox ash);
# fit to run as PID 1 (it traps TERM and INT, and reaps whatever ends up its child). See docs/supervisor.md.
#
# The first instruction: from here on a TERM or INT only notes that a stop was asked for. The start looks
# at the note before each of its steps and the loop before each turn, so the stop always finds the
# supervisor between two steps, never in the middle of one (a stage started but its pid not noted yet).
unset stopping; trap 'stopping=1' TERM INT
set -eu
# Per-stage state lives in variables named after the stage (pid_route, started_route, ...), set by eval;
# every one of them is set here, before anything reads it.
pid='' started='' NOW=0 V='' READY='' announced='' RUN='' BIN='' held='' failed=''
pid_attach='' pid_route='' pid_emit_syslog='' pid_httpd=''
started_attach='' started_route='' started_emit_syslog='' started_httpd=''
up_attach=0 up_route=0 up_emit_syslog=0 up_httpd=0 restarts_attach=0 restarts_route=0 restarts_emit_syslog=0 restarts_httpd=0
changed=''

log() { echo "supervisor: $*" >&2; }

# The stages: LOGSPOUT_BIN, else beside this script, else .build/release beside it, else PATH.
find_bin() {
    here=$(cd "$(dirname "$0")" && pwd)
    for dir in "${LOGSPOUT_BIN:-}" "$here" "$here/.build/release"; do
        if [ -n "$dir" ] && [ -x "$dir/attach" ] && [ -x "$dir/route" ] && [ -x "$dir/emit-syslog" ] && [ -x "$dir/httpd" ]; then
            BIN=$dir; return 0
        fi
    done
    BIN=$(dirname "$(command -v attach || echo /nonexistent/attach)")
    [ -x "$BIN/attach" ] || { log "cannot find attach, route and emit-syslog (set LOGSPOUT_BIN)"; exit 69; }
}

# A stage's command. Descriptors 3 and 4 (the supervisor's hold on the pipes) and 5 (its own readiness
# descriptor) are closed for it; on descriptor 6 it announces its readiness, in $RUN/ready.NAME.
run_stage() {
    stage=$1
    shift
    exec 3>&- 4>&- 5>&- 7>&- 6> "$RUN/ready.$stage"
    case $stage in
    attach) exec "$BIN/attach" --ready-fd 6 > "$RUN/records" ;;
    route) LOGSPOUT_BUS=$RUN/bus.sock exec "$BIN/route" --ready-fd 6 "$@" < "$RUN/records" > "$RUN/routed" ;;
    emit-syslog) exec "$BIN/emit-syslog" --ready-fd 6 < "$RUN/routed" ;;
    httpd) LOGSPOUT_BUS=$RUN/bus.sock exec "$BIN/httpd" --ready-fd 6 < /dev/null ;;
    esac
}

# ready: once every stage has announced itself (each wrote its newline), says so on stderr and, with
# --ready-fd, writes a newline to that descriptor and closes it. Once per run of the supervisor.
ready() {
    [ -z "$announced" ] || return 0
    for stage in attach route emit-syslog httpd; do
        [ -s "$RUN/ready.$stage" ] || return 0
    done
    announced=1
    log "ready"
    if [ -n "$READY" ]; then
        # In a subshell: a reader that went away costs the subshell a SIGPIPE, not the supervisor.
        (echo >&5) 2>/dev/null || true
        exec 5>&-
    fi
}

# Seconds since boot, and the variable-name form of a stage name: shell builtins only (the loop forks
# nothing).
now() { read -r up _ < /proc/uptime; NOW=${up%%.*}; }

# start NAME: starts a stage in the background and notes its pid and start time (and a restart).
start() {
    name=$1
    shift
    ( run_stage "$name" "$@" ) &
    var "$name"
    now
    eval "[ -z \"\$started_$V\" ] || restarts_$V=\$((restarts_$V + 1)); pid_$V=$! started_$V=$NOW up_$V=1"
    changed=1
}

# publish: when a stage started or died since the last time, writes $RUN/metrics/supervisor.prom whole
# (docs/supervisor.md): written beside it, then renamed over it. Builtins and one mv, only on a change.
publish() {
    [ -n "$changed" ] && [ -d "$RUN/metrics" ] || return 0
    changed=''
    if {
        echo '# HELP logspout_supervisor_stage_up Whether the stage runs (1) or is down (0).'
        echo '# TYPE logspout_supervisor_stage_up gauge'
        echo "logspout_supervisor_stage_up{stage=\"attach\"} $up_attach"
        echo "logspout_supervisor_stage_up{stage=\"route\"} $up_route"
        echo "logspout_supervisor_stage_up{stage=\"emit-syslog\"} $up_emit_syslog"
        echo "logspout_supervisor_stage_up{stage=\"httpd\"} $up_httpd"
        echo '# HELP logspout_supervisor_stage_restarts_total Times the supervisor started the stage again after it died.'
        echo '# TYPE logspout_supervisor_stage_restarts_total counter'
        echo "logspout_supervisor_stage_restarts_total{stage=\"attach\"} $restarts_attach"
        echo "logspout_supervisor_stage_restarts_total{stage=\"route\"} $restarts_route"
        echo "logspout_supervisor_stage_restarts_total{stage=\"emit-syslog\"} $restarts_emit_syslog"
        echo "logspout_supervisor_stage_restarts_total{stage=\"httpd\"} $restarts_httpd"
    } > "$RUN/metrics/.supervisor.prom.tmp" 2>/dev/null; then
        mv -f "$RUN/metrics/.supervisor.prom.tmp" "$RUN/metrics/supervisor.prom" 2>/dev/null || true
    fi
}

var() { case $1 in emit-syslog) V=emit_syslog ;; *) V=$1 ;; esac; }

# tick SECONDS: waits without a process of its own (`sleep` would be a fork and an exec each tick): a
# read that times out on a FIFO held on descriptor 7, which only the loop's signal traps write to.
tick() { read -t "$1" tick_ <&7 || true; }

# alive PID: the process exists and is not a zombie. A zombie has no executable: one stat of
# /proc/PID/exe says a stage runs; only otherwise is its state read (the shell reads a file a byte at a
# time: a few hundred system calls for /proc/PID/stat).
alive() {
    [ ! -e "/proc/$1/exe" ] || return 0
    { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# check NAME ARGS...: restarts a stage that died, at least 1 s after its last start; a stage that keeps
# dying (5 deaths within 60 s) is reported and backed off, up to 30 s between restarts.
check() {
    name=$1
    var "$name"
    v=$V
    eval "pid=\$pid_$v started=\$started_$v deaths=\${deaths_$v:-0} delay=\${delay_$v:-1} due=\${due_$v:-0}"
    if [ "$due" = 0 ]; then
        alive "$pid" && return 0
        status=0
        wait "$pid" 2>/dev/null || status=$?
        # Bad configuration (EX_CONFIG) does not mend by restarting: the appliance stops, exit 78.
        if [ "$status" = 78 ]; then log "$name: bad configuration (exit 78); stopping"; failed=$name stopping=1; return 0; fi
        now
        t=$NOW
        if [ $((t - started)) -gt 60 ]; then deaths=0; delay=1; fi
        deaths=$((deaths + 1))
        if [ "$deaths" -ge 5 ]; then
            delay=$((delay * 2)); [ "$delay" -le 30 ] || delay=30
            log "$name keeps dying (exit $status, $deaths times); next start in $delay s"
        else
            log "$name exited ($status); restarting"
        fi
        due=$((started + delay)); [ "$due" -gt "$t" ] || due=$((t + 1))
        eval "deaths_$v=$deaths delay_$v=$delay due_$v=$due up_$v=0"
        changed=1
        return 0
    fi
    now
    [ "$NOW" -ge "$due" ] || return 0
    eval "due_$v=0"
    start "$@"
}

# running NAME SECONDS: waits (up to SECONDS, counted in $i tenths) until a stage that was started runs
# its program, or died: until then it is a subshell of this shell (the same executable) still opening its
# pipes, with the shell's handling of signals, not its own.
running() {
    var "$1"
    eval "pid=\$pid_$V"
    [ -n "$pid" ] || return 0
    while alive "$pid" && [ "/proc/$pid/exe" -ef "/proc/$$/exe" ] && [ "$i" -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
}

# stop_stage NAME SECONDS: waits up to SECONDS (counted in $i tenths, some perhaps spent already) for a
# stage to end by itself, then kills it. A stage never started is already stopped.
stop_stage() {
    var "$1"
    eval "pid=\$pid_$V"
    [ -n "$pid" ] || return 0
    while alive "$pid" && [ "$i" -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    if alive "$pid"; then log "$1 did not finish in $2 s; killing it"; kill -9 "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}

# term NAME SECONDS: asks a stage to finish (SIGTERM, once it runs its program) and waits for it.
term() {
    i=0
    running "$1" "$2"
    [ -z "$pid" ] || ! alive "$pid" || kill -TERM "$pid" 2>/dev/null || true
    stop_stage "$1" "$2"
}

# drain NAME FD PIPE FED ARGS...: lets NAME read the pipe the supervisor holds on descriptor FD to its
# end, and waits (10 s) for it to exit. When NAME is down (dead, or waiting out its restart backoff) and
# anything was ever written into that pipe (FED: its writer was started), it is started at once for it.
# The supervisor lets go of the pipe only once NAME runs its program (so its redirections are done): with
# nobody else holding the pipe, what is in it would be gone, and a reader still opening it would wait
# for a writer forever.
drain() {
    name=$1 fd=$2 pipe=$3 fed=$4
    shift 4
    var "$name"
    eval "pid=\$pid_$V"
    if [ -n "$fed" ] && [ "$name" != "$failed" ] && ! alive "$pid"; then
        [ -z "$pid" ] || wait "$pid" 2>/dev/null || true
        log "$name is down; starting it to drain $pipe"
        start "$name" "$@"
        eval "pid=\$pid_$V"
    fi
    i=0
    running "$name" 10
    eval "exec $fd>&-"
    stop_stage "$name" 10
}

# leave: on every exit, nothing of the run stays behind: a stage still running (only after an unexpected
# error; a stop has ended them all) is killed, and $RUN is removed.
leave() {
    for p in "$pid_attach" "$pid_route" "$pid_emit_syslog" "$pid_httpd"; do
        [ -z "$p" ] || ! alive "$p" || kill -9 "$p" 2>/dev/null || true
    done
    [ -z "$RUN" ] || rm -rf "$RUN"
}

# shutdown ARGS...: the graceful stop, from wherever the start or the loop was. Stop attach (it writes out
# what it has, saves its cursors), then close the supervisor's hold on each pipe in turn so the next stage
# sees the end of its input, drains and exits; a stage that is down is started for that (drain).
shutdown() {
    log "stopping"
    # A stage stopped with SIGSTOP would never finish its part.
    for p in "$pid_attach" "$pid_route" "$pid_emit_syslog" "$pid_httpd"; do
        [ -z "$p" ] || kill -CONT "$p" 2>/dev/null || true
    done
    term attach 10
    if [ -n "$held" ]; then
        drain route 3 records "$started_attach" "$@"
        drain emit-syslog 4 routed "$started_route"
    fi
    term httpd 5
    trap - EXIT
    [ -z "$RUN" ] || rm -rf "$RUN"
    log "stopped"
    [ -z "$failed" ] || exit 78
    exit 0
}

main() {
    if [ "${1:-}" = --ready-fd ]; then
        case ${2:-} in
        [3-9]) READY=$2 ;;
        *) log "--ready-fd needs a descriptor number from 3 to 9"; exit 64 ;;
        esac
        shift 2
        (true >&"$READY") 2>/dev/null || { log "--ready-fd $READY: no such open descriptor"; exit 64; }
        # Kept as descriptor 5 (3 and 4 hold the pipes).
        [ "$READY" = 5 ] || eval "exec 5>&$READY $READY>&-"
    fi
    # The seed's form, `docker run IMAGE /bin/logspout syslog://…`: logspout's own path is no route.
    case ${1:-} in */logspout) shift ;; esac
    [ -z "${stopping:-}" ] || shutdown "$@"
    find_bin
    # The routes are checked before anything starts: a bad one (route says which, one line each) stops
    # the appliance with route's status (78) before attach has read a line or moved a cursor.
    status=0
    "$BIN/route" --check "$@" < /dev/null > /dev/null 5>&- || status=$?
    [ -z "${stopping:-}" ] || shutdown "$@"
    [ "$status" = 0 ] || exit "$status"
    trap leave EXIT
    # The run folder: its metrics files are replaced every 0.5 s by each stage. In TMPDIR when set; else in
    # /dev/shm, a tmpfs, when there is one: on a disk's file system (ext4: a replaced file's data is written
    # out at the rename) each replacement costs about 150 µs of CPU and a write to the disk, on tmpfs about 20.
    if [ -n "${TMPDIR:-}" ]; then
        base=$TMPDIR
    elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
        base=/dev/shm
    else
        base=/tmp
    fi
    RUN=$(mktemp -d "$base/logspout.XXXXXX")
    mkfifo "$RUN/records" "$RUN/routed" "$RUN/tick"
    mkdir "$RUN/metrics"
    LOGSPOUT_METRICS_DIR=$RUN/metrics
    export LOGSPOUT_METRICS_DIR
    # Holding both ends of each pipe lets a stage restart while its neighbours wait for it, and keeps
    # what is in a pipe whose reader died for the restarted reader.
    exec 3<> "$RUN/records" 4<> "$RUN/routed" 7<> "$RUN/tick"
    held=1
    [ -z "${stopping:-}" ] || shutdown "$@"
    log "starting $BIN/attach | route $* | emit-syslog, and httpd on port ${PORT:-8000}"
    for stage in emit-syslog route attach httpd; do
        [ -z "${stopping:-}" ] || shutdown "$@"
        if [ "$stage" = route ]; then start route "$@"; else start "$stage"; fi
    done
    # A child's end or a stop wakes the loop at once: the trap writes a newline into the tick's FIFO, so
    # the `read -t` of the tick returns, also when the signal came between a check and that read. (One
    # byte a wake, read back one a turn; the FIFO holds 64 KiB.) Besides, the loop turns every 0.1 s
    # until the stages are ready (for at most the first 10 s), every 0.5 s while a restart waits for its
    # time, else every 5 s.
    trap 'stopping=1; { echo >&7; } 2>/dev/null || :' TERM INT
    trap '{ echo >&7; } 2>/dev/null || :' CHLD
    quick=100
    while :; do
        [ -z "${stopping:-}" ] || shutdown "$@"
        check attach
        check route "$@"
        check emit-syslog
        check httpd
        publish
        ready
        [ -z "${stopping:-}" ] || shutdown "$@"
        if [ -z "$announced" ] && [ "$quick" -gt 0 ]; then
            quick=$((quick - 1))
            tick 0.1
        elif [ "${due_attach:-0}${due_route:-0}${due_emit_syslog:-0}${due_httpd:-0}" != 0000 ]; then
            tick 0.5
        else
            tick 5
        fi
    done
}

main "$@"
