#!/usr/bin/env bash
# Builds the IDL JSON of both programs natively and writes idl/concord_{staking,market}.json.
# `./scripts/idl.sh --check` fails when the checked-in IDL is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --quiet -p concord-idl -- "$@"
