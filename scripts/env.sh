# Shared environment for Concord's scripts (sourced, not run).
# Keeps one cargo target dir outside the clone so repeated runs reuse the build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/concord/target}"
# Mesa's drivers log to XDG_RUNTIME_DIR; program-test turns on debug logs unless told otherwise.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
export RUST_LOG="${RUST_LOG:-error}"
# The S3 test server, from the virtual environment scripts/setup.sh makes.
export CONCORD_MOTO_SERVER="${CONCORD_MOTO_SERVER:-${CONCORD_CACHE:-$HOME/.cache/concord}/venv/bin/moto_server}"
