#!/usr/bin/env bash
# Runs every check and test of Concord: formatting, clippy (-D warnings), the IDL staleness
# check, and all tests (programs in the Agave bank, executor on lavapipe, client, end to end).
# Installs what it needs on a fresh Debian machine first.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
source scripts/env.sh
echo "== target dir: $CARGO_TARGET_DIR"

step() { echo; echo "== $*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

# The client's GPU executor, CLI and their tests sit behind features (so SDK users need not
# compile wgpu); it is checked and tested with all of them. The program crates' features
# (cpi, no-entrypoint, idl-build) are for dependants, not for a workspace-wide build.
step "cargo clippy -D warnings"
cargo clippy --workspace --exclude concord-client --all-targets -- -D warnings
cargo clippy -p concord-client --all-targets --all-features -- -D warnings

step "IDL is up to date (scripts/idl.sh --check)"
./scripts/idl.sh --check

step "cargo test"
log="${CARGO_TARGET_DIR}/last-test.log"
: > "$log"
status=0
cargo test --workspace --exclude concord-client --no-fail-fast 2>&1 | tee -a "$log" || status=1
cargo test -p concord-client --all-features --no-fail-fast 2>&1 | tee -a "$log" || status=1
summary=$(grep -E '^test result:' "$log" | awk '{p+=$4; f+=$6; i+=$8} END {print p" passed, "f" failed, "i" skipped"}')
echo
echo "tests: $summary"
exit $status
