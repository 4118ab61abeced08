#!/usr/bin/env bash
# A long fuzzing run of one target, for FUZZING.md: runs TARGET for MINUTES (default 10) at
# the lowest priority, keeps the grown corpus in fuzz/grown/<target>/ (not committed) and its
# log in fuzz/logs/<target>.log, then prints a table row: executions, coverage (`cov:`/`ft:`)
# once the seeds are loaded, halfway through the executions and at the end, time, the
# slowest input, peak memory and crashes.
#
# Usage: fuzz/long-run.sh TARGET [MINUTES]        (after fuzz/smoke.sh has built the targets)
#        fuzz/long-run.sh --row TARGET [MINUTES]  (only the row, from the last run's log)
set -euo pipefail
cd "$(dirname "$0")"

run=true
if [ "$1" = --row ]; then
    run=false
    shift
fi
target="$1"
minutes="${2:-10}"
export RUSTC_BOOTSTRAP=1
mkdir -p "grown/$target" logs "corpus/$target" "artifacts/$target"
log="logs/$target.log"
dict=()
case "$target" in
    sip_* | sdp | voicemail | engine_frames | announce | notify_datagram) dict=(-dict=dicts/sip.dict) ;;
esac
status=0
if $run; then
    nice -n 19 cargo fuzz run -s none --debug-assertions "$target" "grown/$target" "corpus/$target" -- \
        -max_total_time=$((minutes * 60)) -timeout=10 -rss_limit_mb=1024 "${dict[@]}" \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
fi

coverage() { grep -oE 'cov: [0-9]+ ft: [0-9]+' | sed -E 's/cov: ([0-9]+) ft: ([0-9]+)/\1 \/ \2/'; }
start="$(grep -m1 -E 'INITED' "$log" | coverage || true)"
end="$(grep -E '^#[0-9]+' "$log" | tail -n1 | coverage || true)"
execs="$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)"
half="$(grep -E '^#[0-9]+' "$log" | awk -v half=$((execs / 2)) 'substr($1, 2) + 0 <= half' |
    tail -n1 | coverage || true)"
stat() { grep -oE "stat::$1: +[0-9]+" "$log" | grep -oE '[0-9]+$' || echo '?'; }
crashes="$(find "artifacts/$target" -type f 2>/dev/null | wc -l)"
echo "| \`$target\` | $execs | $start | $half | $end | $minutes min | $(stat slowest_unit_time_sec) s |" \
    "$(stat peak_rss_mb) MB | $crashes (exit $status) |"
