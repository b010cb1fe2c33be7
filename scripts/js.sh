#!/usr/bin/env bash
# The TypeScript client, clients/js: installs its npm packages (pinned by package-lock.json)
# into the cache, outside the repository (clients/js/node_modules is a link to it), checks that
# the Codama-generated code in clients/js/src/generated is current against idl/, compiles it,
# and runs its node tests against a local chain (the debug concord-localnet and concord).
#
# Usage: scripts/js.sh              check, build, test
#        scripts/js.sh --generate   regenerate clients/js/src/generated from idl/
#        scripts/js.sh --no-chain   check and build only
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
command -v node >/dev/null || { echo "js: node is missing (scripts/setup.sh installs it)" >&2; exit 1; }
cache="${CONCORD_CACHE:-$HOME/.cache/concord}/npm/clients-js"
mkdir -p "$cache"
if ! cmp -s clients/js/package-lock.json "$cache/package-lock.json" || [ ! -d "$cache/node_modules" ]; then
  echo "js: installing clients/js's npm packages into $cache"
  cp clients/js/package.json clients/js/package-lock.json "$cache/"
  (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error)
fi
# A real directory there (an `npm install` run by hand) would hide the link: replace it.
[ -L clients/js/node_modules ] || rm -rf clients/js/node_modules
ln -sfn "$cache/node_modules" clients/js/node_modules
cd clients/js
if [ "${1:-}" = "--generate" ]; then
  node scripts/generate.mjs
  exit 0
fi
node scripts/generate.mjs --check
node_modules/.bin/tsc -p tsconfig.json
echo "js: the client compiles"
if [ "${1:-}" != "--no-chain" ]; then
  (cd ../.. && cargo build -q -p concord-localnet -p concord-cli --bins)
  node --test test/
fi
