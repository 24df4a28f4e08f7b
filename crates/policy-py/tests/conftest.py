"""Fixtures: the repository's root, and the `policy` command line (release build) to compare with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def policy_bin() -> Path:
    """`POLICY_BIN`, else `target/release/policy` (built when missing)."""
    given = os.environ.get("POLICY_BIN")
    if given:
        return Path(given)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = target / "release" / "policy"
    if not binary.exists():
        subprocess.run(
            ["cargo", "build", "--release", "--quiet", "--bin", "policy"], cwd=ROOT, check=True
        )
    return binary


def eval_lines(
    policy: Path,
    lines: List[str],
    action: Optional[str] = None,
    at: Optional[str] = None,
    name: Optional[str] = None,
) -> List[dict]:
    """`policy eval --orders -` on `lines`: one dict (decision or error record) per line."""
    command = [str(policy_bin()), "eval", "--policy", str(policy), "--orders", "-"]
    if action:
        command += ["--action", action]
    if at:
        command += ["--at", at]
    if name:
        command += ["--name", name]
    done = subprocess.run(
        command, input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode in (0, 1), done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len(lines), done.stderr
    return out


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
