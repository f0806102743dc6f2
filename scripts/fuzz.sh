#!/usr/bin/env bash
# fuzz.sh [SECONDS] [TARGET…] - builds the fuzz targets (Fuzz/, libFuzzer with AddressSanitizer) and runs
# each for SECONDS (default 60), starting from a scratch copy of its seed corpus (Fuzz/Corpus/TARGET).
# Findings (crash-*, timeout-*, oom-*, leak-*) go to FUZZ_OUT (default ${TMPDIR:-/tmp}/logspout-fuzz), never
# into the repository; the script fails when any target found one, naming the reproducer.
# Rerun one: .build-fuzz/debug/TARGET REPRODUCER
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
case "$seconds" in ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a number, not '$seconds'" >&2; exit 2 ;; esac
shift || true
all=()
for file in Fuzz/Sources/*/Fuzz.swift; do
    all+=("$(basename "$(dirname "$file")")")
done
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi
for t in "${targets[@]}"; do
    [ -f "Fuzz/Sources/$t/Fuzz.swift" ] || { echo "fuzz.sh: no target '$t' (targets: ${all[*]})" >&2; exit 2; }
done

out=${FUZZ_OUT:-${TMPDIR:-/tmp}/logspout-fuzz}
mkdir -p "$out"

# Every module the targets use is built with coverage instrumentation and AddressSanitizer, in a build
# directory of its own; lld because gold warns about every sanitizer symbol.
build_start=$(date +%s)
build() {
    swift build -c debug --package-path Fuzz --build-path .build-fuzz \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld "$@" >>"$out/build.log" 2>&1
}
: >"$out/build.log"
built=true
if [ $# -gt 0 ]; then
    # One product per call: swift build takes only the last --product.
    for t in "${targets[@]}"; do build --product "$t" || { built=false; break; }; done
else
    build || built=false
fi
if ! $built; then
    tail -n 40 "$out/build.log" >&2
    echo "fuzz.sh: the fuzz targets did not build (the whole log: $out/build.log)" >&2
    exit 1
fi
echo "fuzz.sh: built ${#targets[@]} targets in $(( $(date +%s) - build_start )) s"

# Swift's backtracer would race AddressSanitizer's report; the sanitizer's own is the one wanted.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
failed=()
for t in "${targets[@]}"; do
    work="$out/$t"
    rm -rf "$work/corpus"
    mkdir -p "$work/corpus"
    if [ -d "Fuzz/Corpus/$t" ]; then cp -R "Fuzz/Corpus/$t/." "$work/corpus/"; fi
    # -timeout: one input taking over 10 s is a finding (a hang); -rss_limit_mb: so is 2 GB of memory.
    if .build-fuzz/debug/"$t" "$work/corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
            -max_len=65536 -artifact_prefix="$work/" -print_final_stats=1 >"$work/log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
        echo "fuzz.sh: $t: ${runs:-?} inputs in ${seconds} s, no finding"
    else
        reproducer=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/log" | tail -n 1)
        grep -m 12 -E 'Fatal error|Precondition failed|ERROR: (AddressSanitizer|libFuzzer)|SUMMARY' "$work/log" >&2 || tail -n 20 "$work/log" >&2
        echo "fuzz.sh: $t found a crash: reproducer ${reproducer:-(none written; see $work/log)}" >&2
        echo "fuzz.sh: rerun it with .build-fuzz/debug/$t ${reproducer:-REPRODUCER}; the log: $work/log" >&2
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh: findings in ${failed[*]}" >&2
    exit 1
fi
