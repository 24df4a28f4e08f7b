"""decide_batch against `policy eval` on the same orders: decisions per second.

    python crates/policy-py/bench/bench.py [COUNT] [RUNS]

Generates COUNT orders (default 1,000,000) with the project's generator, types them as Arrow
columns (timestamps, decimals, strings: tests/orders.py), writes the same orders as JSON Lines, then
times `policy eval --orders FILE > /dev/null` (release build: reading JSON, deciding on every core,
writing JSON) and `decide_batch(table)` (typed columns in, typed columns out, on every core), and
both again on one thread (`--threads 1`, `threads=1`), RUNS times each (default 5), alternating.
Prints the best and the median of each.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent / "tests"))

import policy_lang  # noqa: E402
from conftest import policy_bin  # noqa: E402
from orders import generated_lines, generated_table, table_to_jsonl  # noqa: E402

POLICY = ROOT / "policies/alibaba-ssl-refund-legacy.policy"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    table = generated_table(generated_lines(count, seed=42)).combine_chunks()
    binary = policy_bin()
    policy = policy_lang.load(POLICY)
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp) / "orders.jsonl"
        jsonl.write_text("\n".join(table_to_jsonl(table)) + "\n")
        cli, cli1, batch, batch1 = [], [], [], []
        command = [str(binary), "eval", "--policy", str(POLICY), "--action", "refund", "--orders", str(jsonl)]
        for _ in range(runs):
            for times, extra in [(cli, []), (cli1, ["--threads", "1"])]:
                start = time.perf_counter()
                with open(os.devnull, "w") as sink:
                    done = subprocess.run(command + extra, stdout=sink)
                times.append(time.perf_counter() - start)
                assert done.returncode in (0, 1)
            start = time.perf_counter()
            out = policy.decide_batch(table, action="refund")
            batch.append(time.perf_counter() - start)
            assert out.num_rows == count
            start = time.perf_counter()
            policy.decide_batch(table, action="refund", threads=1)
            batch1.append(time.perf_counter() - start)
    cores = os.cpu_count()
    print(f"{count} orders, {runs} runs each, {cores} cores")
    for label, times in [
        ("policy eval --orders (CLI, all cores)", cli),
        ("policy eval --threads 1", cli1),
        ("decide_batch (all cores)", batch),
        ("decide_batch (threads=1)", batch1),
    ]:
        best, median = min(times), statistics.median(times)
        print(f"{label:40} best {best:.3f} s ({count / best:,.0f}/s)  median {median:.3f} s ({count / median:,.0f}/s)")
    print(f"speed-up of decide_batch over the CLI: best {min(cli) / min(batch):.2f}x, median {statistics.median(cli) / statistics.median(batch):.2f}x")
    print(f"speed-up on one thread each: best {min(cli1) / min(batch1):.2f}x, median {statistics.median(cli1) / statistics.median(batch1):.2f}x")


if __name__ == "__main__":
    main()
