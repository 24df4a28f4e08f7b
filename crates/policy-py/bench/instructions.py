"""Instructions an order: decide_batch against `policy eval`, counted by callgrind.

    python crates/policy-py/bench/instructions.py [COUNT]

Wall-clock time on a shared machine moves by half from run to run; the instructions a process executes
do not. This script generates COUNT orders (default 20,000) with the project's generator, typed as
Arrow columns (tests/orders.py) and written as an Arrow IPC file and as JSON Lines, then counts, under
`valgrind --tool=callgrind`, the instructions of

- `policy eval --threads 1` (release build) on the JSON Lines, and
- a Python process that reads the IPC file and calls `decide_batch(threads=1)` on its rows,

each on all COUNT orders and on the first one. The difference over COUNT - 1 is the cost of one more
order, reading, deciding and writing included: process start, imports, loading the policy and reading
the file cancel out. Prints both, and their ratio (how many times as many orders a second
`decide_batch` decides on one thread, as far as instructions tell). Needs valgrind (Debian package).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.feather as feather

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent / "tests"))

from conftest import policy_bin  # noqa: E402
from orders import generated_lines, generated_table, table_to_jsonl  # noqa: E402

POLICY = ROOT / "policies/alibaba-ssl-refund-legacy.policy"
AT = "2026-01-01T00:00:00Z"

#: The Python side: decide the first N rows of the IPC file.
DECIDE = """
import sys, pyarrow.feather as feather, policy_lang
table = feather.read_table(sys.argv[1]).slice(0, int(sys.argv[2]))
policy = policy_lang.load(sys.argv[3])
policy.decide_batch(table, at=sys.argv[4], action="refund", threads=1)
"""


def instructions(command: list) -> int:
    """The instructions `command` executes, all its threads together. `policy eval` exits 1 when an
    order cannot be decided (the generator's invalid ones): that is not a failure here."""
    # Write-only: `policy eval` refuses a /dev/null opened for reading and writing (as a closed
    # standard output is reopened), which subprocess.DEVNULL is.
    with open(os.devnull, "w") as sink:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
            stdout=sink, stderr=subprocess.PIPE, text=True,
        )
    if done.returncode not in (0, 1):
        sys.exit(f"{command[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return int(re.findall(r"Collected : (\d+)", done.stderr)[-1])


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    table = generated_table(generated_lines(count, seed=42)).combine_chunks()
    lines = table_to_jsonl(table)
    binary = str(policy_bin())
    with tempfile.TemporaryDirectory() as tmp:
        ipc = Path(tmp) / "orders.arrow"
        feather.write_feather(table, ipc, compression="uncompressed")
        files = {n: Path(tmp) / f"orders{n}.jsonl" for n in (1, count)}
        for n, path in files.items():
            path.write_text("\n".join(lines[:n]) + "\n")

        def cli(n: int) -> int:
            return instructions([binary, "eval", "--threads", "1", "--policy", str(POLICY),
                                 "--action", "refund", "--at", AT, "--orders", str(files[n])])

        def batch(n: int) -> int:
            return instructions([sys.executable, "-c", DECIDE, str(ipc), str(n), str(POLICY), AT])

        per_cli = (cli(count) - cli(1)) / (count - 1)
        per_batch = (batch(count) - batch(1)) / (count - 1)
    print(f"{count} orders, instructions an order (callgrind, one thread each)")
    print(f"policy eval --threads 1     {per_cli:10,.0f}")
    print(f"decide_batch(threads=1)     {per_batch:10,.0f}")
    print(f"ratio                       {per_cli / per_batch:10.2f}x")


if __name__ == "__main__":
    main()
