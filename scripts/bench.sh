#!/usr/bin/env bash
# Executor benchmarks -> docs/benchmarks.md. Release build of `concord-bench` (client/src/bin),
# run on the local adapters (Vulkan and GL; lavapipe/llvmpipe on a machine without a GPU).
# Usage: scripts/bench.sh [--repeats N] [--backend vulkan|gl] [--hash-mib N]
# Honours CARGO_TARGET_DIR. Needs: mesa-vulkan-drivers libegl1 libgl1-mesa-dri without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

cargo build --release -q -p concord-client --no-default-features --features gpu --bin concord-bench
CONCORD_BENCH_COMMAND="scripts/bench.sh${*:+ $*}" \
    "$CARGO_TARGET_DIR/release/concord-bench" --repeats 5 "$@" --out docs/benchmarks.md
echo "wrote docs/benchmarks.md"
