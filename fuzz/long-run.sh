#!/usr/bin/env bash
# A long fuzzing run of one target, for FUZZING.md: runs TARGET for MINUTES (default 10) at
# the lowest priority, keeps the grown corpus in fuzz/grown/<target>/ (not committed) and its
# log in fuzz/logs/<target>.log, then prints a table row: executions, coverage (`cov:`/`ft:`)
# once the seeds are loaded and at the end, time and crashes.
#
# Usage: fuzz/long-run.sh TARGET [MINUTES]        (after fuzz/smoke.sh has built the targets)
set -euo pipefail
cd "$(dirname "$0")"

target="$1"
minutes="${2:-10}"
export RUSTC_BOOTSTRAP=1
mkdir -p "grown/$target" logs "corpus/$target"
log="logs/$target.log"
dict=()
case "$target" in
    sip_* | sdp | voicemail | engine_frames | announce | notify_datagram) dict=(-dict=dicts/sip.dict) ;;
esac
status=0
nice -n 19 cargo fuzz run -s none --debug-assertions "$target" "grown/$target" "corpus/$target" -- \
    -max_total_time=$((minutes * 60)) -timeout=10 -rss_limit_mb=1024 "${dict[@]}" \
    -print_final_stats=1 >"$log" 2>&1 || status=$?

coverage() { grep -oE 'cov: [0-9]+ ft: [0-9]+' | sed -E 's/cov: ([0-9]+) ft: ([0-9]+)/\1 \/ \2/'; }
start="$(grep -m1 -E 'INITED' "$log" | coverage || true)"
end="$(grep -E '^#[0-9]+' "$log" | tail -n1 | coverage || true)"
execs="$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')"
crashes="$(ls "artifacts/$target" 2>/dev/null | wc -l)"
echo "| \`$target\` | $execs | $start | $end | $minutes min | $crashes (exit $status) |"
