#!/usr/bin/env bash
# Runs every check and test of Concord: formatting, clippy (-D warnings), the IDL staleness
# check, the module-cycle check, and all tests of the workspace (programs in the Agave bank,
# executor on lavapipe and llvmpipe, SDK and store, CLI and agents against a real local
# chain). Installs what it needs on a fresh Debian machine first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
source scripts/env.sh
echo "== target dir: $CARGO_TARGET_DIR"

step() { echo; echo "== $*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "IDL is up to date (scripts/idl.sh --check)"
./scripts/idl.sh --check

step "no module import cycles (scripts/module_cycles.py)"
python3 scripts/module_cycles.py

step "cargo test"
log="${CARGO_TARGET_DIR}/last-test.log"
status=0
cargo test --workspace --no-fail-fast 2>&1 | tee "$log" || status=1
summary=$(grep -E '^test result:' "$log" | awk '{p+=$4; f+=$6; i+=$8} END {print p" passed, "f" failed, "i" skipped"}')
echo
echo "tests: $summary"
exit $status
