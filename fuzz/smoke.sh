#!/usr/bin/env bash
# Fuzz smoke run: builds every fuzz target once (libFuzzer, no sanitizer, debug assertions
# on, so overflows panic), then runs each for SECONDS (default 20) starting from its committed
# seed corpus. A crash, an input slower than 25 s or a run over 1 GiB fails the script and
# leaves the input in fuzz/artifacts/<target>/. New inputs found go to a temporary directory,
# never into the committed seeds.
#
# Usage: fuzz/smoke.sh [SECONDS] [TARGET...]      (needs cargo-fuzz: cargo install cargo-fuzz)
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-20}"
shift || true
# cargo-fuzz wants nightly flags; the stable compiler accepts them with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP=1
fuzz=(cargo fuzz)
flags=(-s none --debug-assertions)

"${fuzz[@]}" build "${flags[@]}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <("${fuzz[@]}" list)
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target" "corpus/$target"
    dict=()
    case "$target" in
        sip_* | sdp | voicemail | engine_frames | announce | notify_datagram) dict=(-dict=dicts/sip.dict) ;;
    esac
    echo "fuzz smoke: $target for ${seconds}s"
    log="$scratch/$target.log"
    if ! "${fuzz[@]}" run "${flags[@]}" "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=25 -rss_limit_mb=1024 "${dict[@]}" \
        -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz smoke: $target FAILED (the input is under fuzz/artifacts/$target/)" >&2
        exit 1
    fi
    grep -E '^stat::number_of_executed_units|^#[0-9]+ +DONE' "$log" || true
done
echo "fuzz smoke: ${#targets[@]} targets, no crash"
