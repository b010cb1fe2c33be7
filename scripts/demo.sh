#!/usr/bin/env bash
# The main job: starts a real local chain (concord-localnet, a solana-test-validator with both
# programs) in another process, funds a buyer and four providers, submits a job from the
# reproducible kernel library (3 replicas, quorum 2), has three providers claim it (one of them
# corrupts its output), run it on this machine's GPU (lavapipe without one), commit, reveal,
# and settles. It prints who was paid and who was slashed, downloads the result, checks it
# against the CPU reference, and exits non-zero if anything differs from the expected
# settlement. Installs what it needs on a fresh Debian machine.
#
# The providers are driven by the `concord` CLI here (claim / execute / reveal by hand); the
# unattended `concord-agent` daemon will take their place.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
source scripts/env.sh
echo "== building"
cargo build --quiet -p concord-localnet --bins
cargo build --quiet -p concord-client --features cli --bins
bin="$CARGO_TARGET_DIR/debug"
work=$(mktemp -d)
export HOME="$work/home"
mkdir -p "$HOME"
url=http://127.0.0.1:28899
faucet=http://127.0.0.1:28901
store="$work/store"
kernel=${CONCORD_DEMO_KERNEL:-gemm_u32}

echo "== starting the local chain"
"$bin/concord-localnet" --quiet --ledger "$work/ledger" --rpc-port 28899 \
  --token-faucet-port 28901 > "$work/localnet.json" 2> "$work/localnet.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 240); do
  grep -q '"rpc_url"' "$work/localnet.json" 2>/dev/null && break
  kill -0 $pid 2>/dev/null || { cat "$work/localnet.log"; exit 1; }
  sleep 0.5
done
cat "$work/localnet.json"

c() { local key=$1; shift; "$bin/concord" -u "$url" -k "$work/$key.json" "$@"; }
cj() { local key=$1; shift; "$bin/concord" -u "$url" -k "$work/$key.json" --output json "$@"; }

echo "== funding a buyer and four providers (honest-1..3, liar)"
for who in buyer honest-1 honest-2 honest-3 liar; do
  "$bin/concord" keygen -o "$work/$who.json" > /dev/null
done
c buyer airdrop --sol 5 --tokens 100 --faucet "$faucet"
for p in honest-1 honest-2 honest-3 liar; do
  c "$p" airdrop --sol 5 --tokens 20 --faucet "$faucet" > /dev/null
  c "$p" provider register --detect --memory-mib 4096 > /dev/null
  c "$p" provider stake 10 > /dev/null
done
c buyer provider list

echo "== the buyer submits $kernel: 3 replicas, quorum 2, 2 tokens per replica, 3 tokens collateral"
job=$(cj buyer job submit --kernel "$kernel" --store "$store" --replicas 3 --quorum 2 --price 2 --collateral 3 \
  --exec-window 300 --reveal-window 300 | python3 -c 'import json,sys; print(json.load(sys.stdin)["job"])')
echo "job $job"

echo "== three providers claim, run, commit (the liar corrupts its output), reveal"
for p in honest-1 liar honest-2; do c "$p" job claim "$job" > /dev/null; done
for p in honest-1 honest-2; do c "$p" job execute "$job"; done
c liar job execute "$job" --corrupt
for p in honest-1 liar honest-2; do c "$p" job reveal "$job" > /dev/null; done
c buyer job settle "$job"

echo "== settlement"
cj buyer job status "$job" > "$work/status.json"
for p in honest-1 honest-2 liar honest-3; do
  cj "$p" provider show > "$work/$p.show.json"
  printf '%s %s\n' "$p" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["authority"])' "$work/$p.show.json")"
done > "$work/names"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
status = json.load(open(f"{work}/status.json"))
names = dict(reversed(l.split()) for l in open(f"{work}/names"))
slots = {s["provider"]: s for s in status["slots"]}
print(f"{'provider':<10} {'result hash':<18} {'outcome':<8} {'paid':>6} {'slashed':>8}")
ok = status["state"] == "settled" and status["agreed_hash"] is not None
for name in ["honest-1", "honest-2", "liar", "honest-3"]:
    show = json.load(open(f"{work}/{name}.show.json"))
    slot = slots.get(show["authority"])
    outcome = slot["outcome"] if slot else "-"
    h = (slot["result_hash"] or "-")[:16] if slot else "-"
    print(f"{name:<10} {h:<18} {outcome:<8} {show['earned']:>6} {show['slashed']:>8}")
    expected = {"honest-1": ("paid", "0"), "honest-2": ("paid", "0"), "liar": ("slashed", "3"), "honest-3": ("-", "0")}[name]
    ok &= (outcome, show["slashed"]) == expected
print(f"agreed hash {status['agreed_hash']}")
sys.exit(0 if ok else 1)
PY

echo "== the buyer downloads the result, verified against the agreed hash"
c buyer job result "$job" --out "$work/result"
# The agreed hash must be what this machine's backends and the kernel's CPU reference compute.
"$bin/concord" kernel check "$kernel" --expect "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["agreed_hash"])' "$work/status.json")" \
  | tail -n 5
c buyer job close "$job" > /dev/null
echo "demo: settled as expected; the result matches the CPU reference"
