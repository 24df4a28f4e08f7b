#!/usr/bin/env bash
# Fuzzes one target for a while: replays fuzz/regressions/TARGET/ first (every input there once; any
# crash, timeout or leak fails), then fuzzes from the seed corpus for SECONDS seconds.
# Exit status non-zero on any crash, panic, timeout or out-of-memory; the input is then saved under
# fuzz/artifacts/TARGET/ (minimise with
# `fuzz/cargo-fuzz.sh tmin --sanitizer address --debug-assertions --release TARGET FILE`).
#
# Usage: fuzz/run.sh TARGET SECONDS [libFuzzer options...]
#   TARGET: policy_text | syntax_tree | order_decide | batch_lines | calendar
#   FUZZ_TOOLCHAIN=stable|nightly picks the toolchain (default: nightly when installed);
#   FUZZ_SANITIZER=address|none (default: address);
#   FUZZ_SKIP_REGRESSIONS=1 skips the replay (to look for new crashes while known ones are unfixed).
set -euo pipefail
cd "$(dirname "$0")"
if [ $# -lt 2 ]; then
    echo "usage: fuzz/run.sh TARGET SECONDS [libFuzzer options...]" >&2
    exit 2
fi
target="$1"
seconds="$2"
shift 2
case "$target" in
    policy_text | syntax_tree) max_len=100000 dict=policy.dict ;;
    batch_lines) max_len=16384 dict=order.dict ;;
    calendar) max_len=16384 dict= ;;
    order_decide) max_len=4096 dict=order.dict ;;
    *)
        echo "fuzz: unknown target \`$target\` (policy_text, syntax_tree, order_decide, batch_lines, calendar)" >&2
        exit 2
        ;;
esac
# AddressSanitizer (FUZZ_SANITIZER=none to go without): the crate forbids unsafe code, but ASan is what
# gives every thread an alternate signal stack, so a stack overflow is reported, with its input saved,
# rather than killing the fuzzer silently. Debug assertions and overflow checks on, optimised build.
build_flags=(--sanitizer "${FUZZ_SANITIZER:-address}" --debug-assertions --release)
# Per input: 10 s at most, 2 GiB at most.
# No leak detection: batch workers end while std's per-thread channel context (a thread-local) is still
# being torn down after the scope has joined them, which LeakSanitizer reports as a leak of 48 bytes per
# thread; a leak is not what these targets look for.
fuzz_flags=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 -detect_leaks=0)
if [ -n "$dict" ]; then
    fuzz_flags+=(-dict="$dict")
fi

./cargo-fuzz.sh build "${build_flags[@]}" "$target"

if [ -z "${FUZZ_SKIP_REGRESSIONS:-}" ] && [ -d "regressions/$target" ] &&
    [ -n "$(ls -A "regressions/$target")" ]; then
    echo "fuzz: $target: replaying regressions/$target/"
    ./cargo-fuzz.sh run "${build_flags[@]}" "$target" "regressions/$target"/* -- "${fuzz_flags[@]}" "$@"
fi

./seed.sh >/dev/null
echo "fuzz: $target: fuzzing for $seconds s"
./cargo-fuzz.sh run "${build_flags[@]}" "$target" "corpus/$target" -- \
    -max_total_time="$seconds" "${fuzz_flags[@]}" "$@"
