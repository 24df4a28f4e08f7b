#!/usr/bin/env bash
# `cargo fuzz ARGS...` with whatever toolchain this machine has: `cargo +nightly fuzz` when a nightly
# toolchain is installed, else stable with RUSTC_BOOTSTRAP=1 (cargo-fuzz passes `-Z` flags to rustc).
# Installs cargo-fuzz from crates.io when it is missing. Runs from fuzz/.
set -euo pipefail
cd "$(dirname "$0")"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi
if [ -z "${FUZZ_TOOLCHAIN:-}" ]; then
    if command -v rustup >/dev/null 2>&1 && rustup toolchain list | grep -q '^nightly'; then
        FUZZ_TOOLCHAIN=nightly
    else
        FUZZ_TOOLCHAIN=stable
    fi
fi
if [ "$FUZZ_TOOLCHAIN" = nightly ]; then
    exec cargo +nightly fuzz "$@"
else
    RUSTC_BOOTSTRAP=1 exec cargo fuzz "$@"
fi
