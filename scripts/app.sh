#!/usr/bin/env bash
# The Concord web app, app/: installs its npm packages (pinned by package-lock.json) into the
# cache, outside the repository (app/node_modules is a link to it), exports the kernel
# library the buyer picks from (`concord kernel export` → app/public/library.json), type-checks
# and builds it with Vite (app/dist, sizes printed).
#
# Usage: scripts/app.sh            build
#        scripts/app.sh --serve    build, then serve app/dist on http://127.0.0.1:5173 (open it
#                                  with ?rpc=<your RPC URL>; the local chain's by default)
#        scripts/app.sh --test     build, then the browser test: Debian's Chromium (headless)
#                                  against a local chain and three provider agents; screenshots
#                                  and report.json go to $CONCORD_APP_OUT (default: a temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
command -v node >/dev/null || { echo "app: node is missing (scripts/setup.sh installs it)" >&2; exit 1; }
# The app bundles clients/js from its sources: its packages must be there too.
./scripts/js.sh --no-chain > /dev/null
cache="${CONCORD_CACHE:-$HOME/.cache/concord}/npm/app"
mkdir -p "$cache"
if ! cmp -s app/package-lock.json "$cache/package-lock.json" || [ ! -d "$cache/node_modules" ]; then
  echo "app: installing app's npm packages into $cache"
  cp app/package.json app/package-lock.json "$cache/"
  (cd "$cache" && npm ci --no-audit --no-fund --loglevel=error)
fi
[ -L app/node_modules ] || rm -rf app/node_modules
ln -sfn "$cache/node_modules" app/node_modules

cargo build -q -p concord-cli -p concord-localnet -p concord-agent --bins
bin="$CARGO_TARGET_DIR/debug"
# The buyer's kernel picker: the library's general kernels (the transformer operators are
# parts of the embedding model, which has its own command, `concord embed`).
mkdir -p app/public
"$bin/concord" kernel export gemm_u32 gemm_i8 gemm_f32 reduce_f32 mix_u32 mandelbrot mlp_i8 \
  -o app/public/library.json
cd app
node_modules/.bin/tsc --noEmit -p tsconfig.json
node_modules/.bin/vite build --logLevel warn
echo "app: production build in app/dist:"
(cd dist && find . -type f | sort | while read -r f; do
  printf '  %-36s %8d bytes, %7d gzipped\n' "$f" "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)"
done)
case "${1:-}" in
  --serve) exec node_modules/.bin/vite preview --port "${CONCORD_APP_PORT:-5173}" --strictPort ;;
  --test) CONCORD_BIN="$bin" node --test test/browser.test.mjs ;;
esac
