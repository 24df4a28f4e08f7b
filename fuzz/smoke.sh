#!/usr/bin/env bash
# CI's fuzz smoke run: builds the targets once, then for each target replays fuzz/regressions/TARGET/
# and fuzzes for SECONDS seconds (default 25). Fails on the first crash, panic, timeout or OOM.
# Usage: fuzz/smoke.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-25}"
targets=(policy_text syntax_tree order_decide batch_lines calendar)
./cargo-fuzz.sh build --sanitizer "${FUZZ_SANITIZER:-address}" --debug-assertions --release
for target in "${targets[@]}"; do
    # The fuzzer stops itself after SECONDS; the bound covers a hang outside libFuzzer's -timeout.
    if ! timeout --kill-after=30 "$((seconds + 300))" ./run.sh "$target" "$seconds"; then
        echo "fuzz: $target FAILED (on a file of fuzz/regressions/$target/, or on a new input saved under fuzz/artifacts/$target/)" >&2
        exit 1
    fi
done
echo "fuzz: ${#targets[@]} targets passed"
