#!/usr/bin/env bash
# The Python package (crates/policy-py): builds its wheel with maturin into a virtual environment this
# script creates (target/py-venv), installs it, and runs its pytest suite against the release `policy`
# command line. `.ci/run` calls it; `.ci/spark.sh` reuses the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${POLICY_PY_VENV:-$ROOT/target/py-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

# A Python with venv: Debian's python3-venv when missing.
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
fi
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
timeout 600 "$VENV/bin/pip" install --quiet --upgrade pip
timeout 600 "$VENV/bin/pip" install --quiet "maturin>=1.5,<2" "pyarrow>=14" "pytest>=7"

# The binding crate is a workspace of its own: the root's fmt and clippy do not see it.
cargo fmt --check --manifest-path crates/policy-py/Cargo.toml
timeout 1800 cargo clippy --quiet --manifest-path crates/policy-py/Cargo.toml --all-targets -- -D warnings

# The command line the tests compare with, and the generator they take orders from.
timeout 1800 cargo build --release --quiet --bin policy
timeout 1800 cargo build --release --quiet -p policy --example generate_orders

# The wheel (abi3: one for every CPython >= 3.9), installed as a user would.
rm -rf "$CARGO_TARGET_DIR/wheels"
timeout 1800 "$VENV/bin/maturin" build --release --quiet \
    --manifest-path crates/policy-py/Cargo.toml --out "$CARGO_TARGET_DIR/wheels" \
    --interpreter "$VENV/bin/python"
"$VENV/bin/pip" install --quiet --force-reinstall --no-deps "$CARGO_TARGET_DIR"/wheels/policy_lang-*.whl

# pytest exits 5 when it collects no test: that is a failure here too, as is any other non-zero code.
set +e
POLICY_BIN="$CARGO_TARGET_DIR/release/policy" timeout 1200 "$VENV/bin/python" -m pytest \
    crates/policy-py/tests -q -p no:cacheprovider
status=$?
set -e
if [ "$status" -ne 0 ]; then
    echo "pytest failed (exit $status)" >&2
    exit 1
fi
