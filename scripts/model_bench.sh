#!/usr/bin/env bash
# The embedding model's benchmark -> docs/benchmarks.md, section "Embedding model": the
# all-MiniLM-L6-v2 job's sentences per second on this machine's adapter against candle's BERT on
# the CPU, and the `linear` operator's GFLOP/s against matrixmultiply's sgemm and the CPU's
# non-fused f32 peak, measured side by side in one run (release build).
#
# Usage: scripts/model_bench.sh [concord-model-bench arguments]
#   e.g. on a machine with a GPU: scripts/model_bench.sh --adapter NVIDIA --sentences 2048
# Installs what it needs on a fresh Debian machine (scripts/setup.sh, which also downloads the
# model); honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
source scripts/env.sh
cargo build --release -q -p concord-bench --bin concord-model-bench
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$CARGO_TARGET_DIR/release/concord-model-bench" --out "$out" "$@"
cat "$out"
python3 - "$out" docs/benchmarks.md <<'PY'
import re, sys
new = open(sys.argv[1]).read().rstrip() + "\n\n"
doc = open(sys.argv[2]).read()
sections = re.split(r"^(?=## )", doc, flags=re.M)
title = new.splitlines()[0]
kept = [s for s in sections if s.splitlines()[0] != title] if sections else []
# The model section goes before "## Reading the figures" (or at the end).
at = next((i for i, s in enumerate(kept) if s.startswith("## Reading the figures")), len(kept))
kept.insert(at, new)
open(sys.argv[2], "w").write("".join(kept))
PY
echo "updated docs/benchmarks.md"
