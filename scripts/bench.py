#!/usr/bin/env python3
"""bench.py - measures attach against the engine's own delivery rate, in one run.

Run through scripts/bench.sh, which starts the private engine and builds the release binaries.

1. Replay: a container prints N lines and waits. The engine's own rate is the time for
   GET /containers/{id}/logs?follow=1&stdout=1&stderr=1&timestamps=1 to deliver all N lines (read
   with curl); attach's is the time for `attach --backlog` to write all N records. Reported as a ratio,
   with attach's CPU time per line and its peak memory (PSS).
2. Live: attach follows a container that prints N lines as fast as it can; reported as CPU per line and
   peak memory (the rate is the container's own).
3. Idle: attach follows C idle containers for S seconds; reported as CPU used.
"""
import os
import resource
import subprocess
import sys
import time

BIN = os.environ.get("LOGSPOUT_BIN", ".build/release")
IMAGE = "logspout-test:latest"
HOST = os.environ["DOCKER_HOST"]
SOCK = HOST[len("unix://"):] if HOST.startswith("unix://") else None


def docker(*args, check=True):
    r = subprocess.run(["docker", *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        sys.exit(f"bench: docker {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout.strip()


def cpu_of(pid):
    """user+system CPU seconds of a running process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def read_lines(proc, n, watch_pid=None):
    """Reads proc.stdout until n newlines; returns (seconds, peak PSS kB of watch_pid)."""
    start = time.monotonic()
    seen = 0
    peak = 0
    fd = proc.stdout.fileno()
    checks = 0
    while seen < n:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        seen += chunk.count(b"\n")
        checks += 1
        if watch_pid and checks % 16 == 0:
            peak = max(peak, pss_kb(watch_pid))
    elapsed = time.monotonic() - start
    if watch_pid:
        peak = max(peak, pss_kb(watch_pid))
    if seen < n:
        sys.exit(f"bench: the reader ended after {seen} of {n} lines")
    return elapsed, peak


def last_number(name):
    """The number at the start of the container's last line so far (0 before any)."""
    last = docker("logs", "--tail", "1", name)
    return int(last.split()[0]) if last else 0


def logs_url(cid):
    return f"http://docker/containers/{cid}/logs?follow=1&stdout=1&stderr=1&timestamps=1"


def curl(cid, since=None):
    url = logs_url(cid) + (f"&since={since}" if since else "")
    return subprocess.Popen(["curl", "-sN", "--unix-socket", SOCK, url], stdout=subprocess.PIPE)


def fast_script(n, width, pause=True):
    """Prints n numbered lines of `width` bytes as fast as busybox awk can, then waits."""
    pad = "x" * max(0, width - 8)
    awk = f"awk 'BEGIN {{ for (i = 1; i <= {n}; i++) printf \"%07d {pad}\\n\", i }}'"
    return ("sleep 2; " if pause else "") + awk + "; sleep 3600"


def replay(n, width):
    name = f"bench-replay-{os.getpid()}"
    cid = docker("run", "-d", "--network", "none", "--name", name, IMAGE, "sh", "-c", fast_script(n, width, pause=False))
    try:
        deadline = time.monotonic() + 300
        while last_number(name) < n:
            if time.monotonic() > deadline:
                sys.exit("bench: the container did not print its lines within 300 s")
            time.sleep(0.2)
        results = {}
        for rnd in range(3):
            c = curl(cid)
            engine_s, _ = read_lines(c, n)
            c.kill()
            c.wait()
            a = subprocess.Popen([f"{BIN}/attach", "--backlog"], stdout=subprocess.PIPE)
            attach_s, peak = read_lines(a, n, watch_pid=a.pid)
            cpu = cpu_of(a.pid)
            a.terminate()
            a.wait()
            results.setdefault("engine", []).append(engine_s)
            results.setdefault("attach", []).append(attach_s)
            results.setdefault("cpu", []).append(cpu)
            results.setdefault("pss", []).append(peak)
        e = min(results["engine"])
        t = min(results["attach"])
        cpu = min(results["cpu"])
        print(f"replay  {n} lines of {width} B: engine logs?follow {n / e:,.0f} lines/s; "
              f"attach {n / t:,.0f} records/s; ratio {e / t:.2f}; attach CPU {cpu / n * 1e6:.2f} µs/line; "
              f"attach peak PSS {max(results['pss']) / 1024:.1f} MB (best of 3)")
    finally:
        docker("rm", "-f", name, check=False)


def live(n, width):
    """attach following a container while it prints: CPU per line and memory (the rate is the container's)."""
    name = f"bench-live-{os.getpid()}"
    a = subprocess.Popen([f"{BIN}/attach"], stdout=subprocess.PIPE)
    time.sleep(0.5)
    docker("run", "-d", "--network", "none", "--name", name, IMAGE, "sh", "-c", fast_script(n, width))
    try:
        cpu0 = cpu_of(a.pid)
        elapsed, peak = read_lines(a, n, watch_pid=a.pid)
        attach_cpu = cpu_of(a.pid) - cpu0
        print(f"live    {n} lines of {width} B printed as fast as the container can (about {n / max(elapsed - 2, 0.001):,.0f}/s): "
              f"attach CPU {attach_cpu / n * 1e6:.2f} µs/line; peak PSS {peak / 1024:.1f} MB")
    finally:
        a.terminate()
        a.wait()
        docker("rm", "-f", name, check=False)


def idle(count, seconds):
    names = [f"bench-idle-{os.getpid()}-{i}" for i in range(count)]
    for nm in names:
        docker("run", "-d", "--network", "none", "--name", nm, IMAGE, "sleep", "3600")
    a = subprocess.Popen([f"{BIN}/attach"], stdout=subprocess.DEVNULL)
    try:
        time.sleep(2)
        cpu0 = cpu_of(a.pid)
        threads = len(os.listdir(f"/proc/{a.pid}/task"))
        fds = len(os.listdir(f"/proc/{a.pid}/fd"))
        time.sleep(seconds)
        used = cpu_of(a.pid) - cpu0
        print(f"idle    {count} idle containers for {seconds} s: attach used {used * 1000:.0f} ms CPU, "
              f"{threads} thread(s), {fds} descriptors, PSS {pss_kb(a.pid) / 1024:.1f} MB")
    finally:
        a.terminate()
        a.wait()
        subprocess.run(["docker", "rm", "-f", *names], capture_output=True)


def main():
    n = int(os.environ.get("BENCH_LINES", "200000"))
    width = int(os.environ.get("BENCH_WIDTH", "100"))
    replay(n, width)
    live(n, width)
    idle(int(os.environ.get("BENCH_IDLE", "50")), 10)


if __name__ == "__main__":
    main()
