#!/usr/bin/env bash
# Runs every check and test of Concord: formatting, clippy (-D warnings), the IDL staleness
# check, the module-cycle check, all tests of the workspace (programs in the Agave bank,
# executor on lavapipe and llvmpipe, the embedding model, SDK and store, CLI and agents
# against a real local chain), and the TypeScript client (generated code current against the
# IDL, node tests against a local chain), and the web app (production build, a browser test
# in Chromium against a local chain with real agents). Installs what it needs on a fresh
# Debian machine first.
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

step "TypeScript client: generated code current, compiles, node tests on a local chain (scripts/js.sh)"
jslog="${CARGO_TARGET_DIR}/last-js-test.log"
./scripts/js.sh 2>&1 | tee "$jslog" || status=1
js_pass=$(grep -E '^# pass' "$jslog" | awk '{print $3}' | tail -1)
js_fail=$(grep -E '^# fail' "$jslog" | awk '{print $3}' | tail -1)

step "web app: type check, production build, browser test in Chromium with real agents (scripts/app.sh --test)"
applog="${CARGO_TARGET_DIR}/last-app-test.log"
./scripts/app.sh --test 2>&1 | tee "$applog" || status=1
app_pass=$(grep -E '^# pass' "$applog" | awk '{print $3}' | tail -1)
app_fail=$(grep -E '^# fail' "$applog" | awk '{print $3}' | tail -1)
echo
echo "tests: $summary; node: ${js_pass:-0} passed, ${js_fail:-0} failed; browser: ${app_pass:-0} passed, ${app_fail:-0} failed"
exit $status
