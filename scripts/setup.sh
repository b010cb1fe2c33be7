#!/usr/bin/env bash
# Installs what Concord needs to build and test on a fresh Debian machine: the C toolchain
# and libraries the Agave crates link (OpenSSL, udev, clang for RocksDB), protoc, and Mesa's
# CPU Vulkan (lavapipe) and GL (llvmpipe) drivers so wgpu has real devices without a GPU.
# Idempotent: installs only what is missing. Source it or run it.
set -euo pipefail

packages=(
  build-essential pkg-config libssl-dev libudev-dev clang libclang-dev protobuf-compiler
  python3-pip curl
  mesa-vulkan-drivers libegl1 libgl1-mesa-dri
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

# moto's S3 server, for the content store's S3-compatible backend test.
if ! command -v moto_server >/dev/null 2>&1; then
  if command -v pip3 >/dev/null 2>&1 || command -v pip >/dev/null 2>&1; then
    "$(command -v pip3 || command -v pip)" install -q "moto[server]" || echo "setup: moto not installed; the S3 store test will be skipped"
  fi
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
