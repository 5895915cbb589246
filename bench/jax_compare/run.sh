#!/usr/bin/env bash
# Times dlf-engine and JAX (CPU, float64, jit) on the same cases in one run and prints one table.
#
#   bash bench/jax_compare/run.sh
#
# (a) creates bench/jax_compare/.venv with JAX from PyPI if it is missing, (b) runs the Rust side twice
# (`cargo run --release -p dlf-engine --example jax_compare`, JSON on stdout), (c) runs the JAX side twice
# inside compare.py, (d) prints case, dlf µs, JAX µs and the ratio; each side's faster run counts.
# OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE are unset for the JAX side only (they exist on some machines here
# for old OpenBLAS builds; JAX does not use OpenBLAS, and numpy's kernels should not be held back).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

if ! "$venv/bin/python" -c "import jax" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet jax
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for run in 1 2; do
    cargo run --release --quiet --manifest-path "$root/Cargo.toml" -p dlf-engine --example jax_compare \
        > "$out/rust$run.json"
done
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" "$here/compare.py" "$out/rust1.json" "$out/rust2.json"
