#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the shipped files: policies (and the analysis/check test cases),
# calendars, and the example orders. The corpus is generated, never committed (see .gitignore).
# Usage: fuzz/seed.sh
set -euo pipefail
fuzz="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$fuzz")"
corpus="$fuzz/corpus"
mkdir -p "$corpus"/{policy_text,syntax_tree,order_decide,batch_lines,calendar}

# policy_text: every policy file of the repository.
find "$root/policies" "$root/tests/cases" -name '*.policy' -type f -print0 |
    while IFS= read -r -d '' f; do
        cp "$f" "$corpus/policy_text/$(basename "$(dirname "$f")")-$(basename "$f")"
    done
# syntax_tree: the same files.
cp "$corpus"/policy_text/* "$corpus/syntax_tree/"

# calendar: every calendar file.
find "$root/policies" "$root/tests" -name '*.calendar' -type f -print0 |
    while IFS= read -r -d '' f; do
        cp "$f" "$corpus/calendar/$(basename "$(dirname "$(dirname "$f")")")-$(basename "$f")"
    done

# A few small calendars at the edges of the format: empty weekend, the whole date range, a BOM.
printf 'name tiny\ncovers 2024-02-26 2024-03-04\nweekend\n2024-02-29 holiday leap day\n' >"$corpus/calendar/tiny"
printf 'name all_days\ncovers 0001-01-01 9999-12-31\nweekend saturday sunday\n9999-12-31 holiday end\n' >"$corpus/calendar/range"
printf '\xef\xbb\xbfname bom # comment\nweekend friday saturday\ncovers 2025-01-01 2025-01-01\n2025-01-01 workday one day\n' >"$corpus/calendar/bom"

# order_decide and batch_lines: one selector byte (the index into policy_fuzz::ACTIONS), then the orders.
selector() {
    case "$1" in
        alibaba-cms-refund-2026.jsonl) echo 0 ;;
        alibaba-ssl-refund-legacy.jsonl | orders.jsonl) echo 1 ;;
        alibaba-ssl-revoke.revoke.jsonl) echo 2 ;;
        alibaba-ssl-revoke.delete.jsonl) echo 3 ;;
        huawei-scm-unsubscribe.jsonl) echo 4 ;;
        huawei-scm-withdraw.jsonl) echo 5 ;;
        *) echo 1 ;;
    esac
}
for f in "$root"/examples/*.jsonl "$root"/tests/data/*.jsonl; do
    [ -f "$f" ] || continue
    name="$(basename "$f" .jsonl)"
    s="$(selector "$(basename "$f")")"
    byte="$(printf "\\\\x%02x" "$s")"
    n=0
    while IFS= read -r line || [ -n "$line" ]; do
        n=$((n + 1))
        { printf "$byte"; printf '%s' "$line"; } >"$corpus/order_decide/$name-$n"
    done <"$f"
    # Batches of 8 lines, so the seeds stay small and still span several chunks.
    split -l 8 -d -a 3 "$f" "$corpus/batch_lines/.part-$name-"
    # The high bit of the selector asks for 2 threads as well as 1: one seed in four.
    both="$(printf "\\\\x%02x" $((s | 128)))"
    k=0
    for part in "$corpus/batch_lines"/.part-"$name"-*; do
        { printf "$byte"; cat "$part"; } >"$corpus/batch_lines/$name-${part##*-}"
        if [ $((k % 4)) = 0 ]; then
            { printf "$both"; cat "$part"; } >"$corpus/batch_lines/$name-${part##*-}-2threads"
        fi
        k=$((k + 1))
        rm "$part"
    done
done
for t in policy_text syntax_tree order_decide batch_lines calendar; do
    echo "seed: $t: $(find "$corpus/$t" -type f | wc -l) files"
done
