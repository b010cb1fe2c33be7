#!/usr/bin/env bash
# The main job: starts a real local chain (concord-localnet, a solana-test-validator with both
# programs) in another process, funds a buyer and nine providers, and runs nine provider
# agents (`concord-agent`) as separate processes: eight honest, one configured to corrupt its
# output.
# The buyer submits a job from the reproducible kernel library (3 replicas, quorum 2); the
# drawn agents claim it, run it on this machine's GPU (lavapipe without one), commit and
# reveal. The liar's hash differs, so settling opens a dispute: six referees are drawn among
# the agents that hold no slot, re-run the job, and their verdict settles it. The script prints
# who was drawn, the dispute, who was paid and who was slashed and a scrape of an agent's
# metrics, downloads the result, checks it against the CPU reference, and exits non-zero if
# anything differs from the expected settlement. Installs what it needs on a
# fresh Debian machine.
#
# `./scripts/demo.sh --app` then keeps the chain and the agents running and serves the web
# app against them (http://127.0.0.1:5173, printed): connect a Wallet Standard wallet set to
# the local chain, get test tokens from the faucet button, escrow jobs and watch them settle.
set -euo pipefail
app=false
[ "${1:-}" = "--app" ] && app=true
cd "$(dirname "$0")/.."
./scripts/setup.sh
source scripts/env.sh
echo "== building"
# The whole workspace's binaries in one build: the same feature set as the tests, so a tree
# that ./scripts/test.sh built is reused as it is.
cargo build --quiet --workspace --bins
$app && ./scripts/app.sh
bin="$CARGO_TARGET_DIR/debug"
work=$(mktemp -d)
export HOME="$work/home"
mkdir -p "$HOME"
rpc_port=${CONCORD_DEMO_RPC_PORT:-28899}
faucet_port=$((rpc_port + 2))
url=http://127.0.0.1:$rpc_port
faucet=http://127.0.0.1:$faucet_port
store="$work/store"
kernel=${CONCORD_DEMO_KERNEL:-gemm_u32}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${CONCORD_DEMO_KEEP:-}" ]; then echo "demo files kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "== starting the local chain"
"$bin/concord-localnet" --quiet --ledger "$work/ledger" --rpc-port "$rpc_port" \
  --token-faucet-port "$faucet_port" > "$work/localnet.out" 2> "$work/localnet.log" &
pids+=($!)
for _ in $(seq 1 240); do
  [ -s "$work/ledger/localnet.json" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/localnet.log"; exit 1; }
  sleep 0.5
done
cat "$work/ledger/localnet.json"; echo

c() { local key=$1; shift; "$bin/concord" -u "$url" -k "$work/$key.json" "$@"; }
cj() { local key=$1; shift; "$bin/concord" -u "$url" -k "$work/$key.json" --output json "$@"; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

providers="honest-1 honest-2 honest-3 liar referee-1 referee-2 referee-3 referee-4 referee-5"
# Hidden audits (70 % of jobs by default) would draw one more agent as the auditor; this demo
# shows a dispute, so its market audits no job (the agents' test (n) shows an audit).
"$bin/concord" -u "$url" -k "$work/ledger/admin-keypair.json" market update --audit-bps 0 > /dev/null
echo "== funding a buyer and nine providers ($providers)"
for who in buyer $providers; do
  "$bin/concord" --output json keygen -o "$work/$who.json" | field address > "$work/$who.address"
done
buyer_address=$(cat "$work/buyer.address")
# With the web app, the agents serve any buyer (wallets connect to this chain); otherwise
# only the demo's.
buyers="buyers = [\"$buyer_address\"]"
$app && buyers=""

c buyer airdrop --sol 5 --tokens 100 --faucet "$faucet"
for p in $providers; do
  c "$p" airdrop --sol 5 --tokens 20 --faucet "$faucet" > /dev/null
done

# One config per agent (docs/operators.md lists every field).
metrics_port=$((rpc_port + 100))
agent_config() { # name port extra
  mkdir -p "$work/agents/$1"
  cat > "$work/agents/$1/agent.toml" <<TOML
rpc_url = "$url"
keypair = "$work/$1.json"
journal = "journal.redb"
metrics_addr = "127.0.0.1:$2"
poll_interval_ms = 500

[provider]
memory_mib = 4096
stake = "10"

[gpu]
# This demo runs anywhere; a real provider leaves this off (CPU rasterisers truncate loops).
allow_cpu_adapter = true

[jobs]
price_floor = "1"
max_concurrent = 2
$buyers
settle_delay_secs = 1

[store]
# The demo's store is a directory on this machine; the web app's is the local chain's.
allow_local_paths = true
allow_private_addresses = true
$3
TOML
}
start_agent() { # name
  "$bin/concord-agent" run --config "$work/agents/$1/agent.toml" > /dev/null 2> "$work/agents/$1/agent.log" &
  pids+=($!)
  eval "pid_${1//-/_}=$!"
}
wait_healthy() { # name port
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$2/health" > /dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "agent $1 did not become healthy:"; cat "$work/agents/$1/agent.log"; exit 1
}

agent_config honest-1 $metrics_port ""
agent_config honest-2 $((metrics_port + 1)) ""
agent_config honest-3 $((metrics_port + 2)) ""
agent_config liar $((metrics_port + 3)) "[chaos]
corrupt_results = true"
for i in 1 2 3 4 5; do agent_config "referee-$i" $((metrics_port + 3 + i)) ""; done

# The liar and honest-1 start first: the draws can only pick them for two of the three slots,
# so the liar certainly holds one.
echo "== starting the agents liar and honest-1 (each registers itself, stakes 10 tokens and joins the draws)"
start_agent liar; start_agent honest-1
wait_healthy liar $((metrics_port + 3)); wait_healthy honest-1 $metrics_port
c buyer provider list

echo "== the buyer submits $kernel: 3 replicas, quorum 2, 2 tokens per replica, 3 tokens collateral"
job=$(cj buyer job submit --kernel "$kernel" --store "$store" --replicas 3 --quorum 2 --price 2 --collateral 3 \
  --exec-window 120 --reveal-window 120 | field job)
echo "job $job"
for _ in $(seq 1 120); do
  [ "$(cj buyer job status "$job" | python3 -c 'import json,sys; print(json.load(sys.stdin)["filled"])')" -ge 2 ] && break
  sleep 0.5
done
echo "== two slots claimed by the two providers drawn"
c buyer job status "$job" | grep -E '^  (draw|drawn now|slot) '
echo "== starting honest-2 and honest-3 (a new draw round picks one of them for the last slot)"
start_agent honest-2; start_agent honest-3
for _ in $(seq 1 240); do
  [ "$(cj buyer job status "$job" | field state)" != open ] && break
  sleep 0.5
done
echo "== the job runs; starting referee-1..5 (too late to be drawn for it, but a dispute may draw them)"
for i in 1 2 3 4 5; do start_agent "referee-$i"; done
for _ in $(seq 1 480); do
  [ "$(cj buyer job status "$job" | field dispute)" != none ] && break
  sleep 0.5
done
echo "== the liar's hash differs: settle opened a dispute instead of settling by majority"
c buyer job status "$job" | grep -E '^  (state|dispute|slot|draw) '
c buyer job wait "$job" --timeout 400 > /dev/null
echo "== the referees' verdict"
c buyer job status "$job" | grep -E '^  (state|dispute|agreed hash|slot|referee) '

echo "== the agents' metrics (curl http://127.0.0.1:$metrics_port/metrics, honest-1)"
for _ in $(seq 1 20); do  # the agent notices the settlement within a second
  curl -fs "http://127.0.0.1:$metrics_port/metrics" | grep -q '^concord_agent_jobs_paid_total 1' && break
  sleep 0.5
done
curl -fs "http://127.0.0.1:$metrics_port/metrics" | grep -E '^concord_agent_(jobs|earned|slashed|rpc|kernel_seconds_(sum|count))' | tee "$work/metrics.txt"
curl -fs "http://127.0.0.1:$metrics_port/health"; echo

echo "== settlement"
cj buyer job status "$job" > "$work/status.json"
for p in $providers; do cj "$p" provider show > "$work/$p.show.json"; done
python3 - "$work" <<'PY2'
import json, sys
work = sys.argv[1]
status = json.load(open(f"{work}/status.json"))
slots = {s["provider"]: s for s in status["slots"]}
print(f"{'provider':<10} {'role':<8} {'result hash':<18} {'outcome':<8} {'paid':>6} {'slashed':>8}")
ok = status["state"] == "settled" and status["agreed_hash"] is not None
ok &= status["dispute"] == "verdict"
roles = {"replica": 0, "referee": 0}
for name in ["honest-1", "honest-2", "honest-3", "liar"] + [f"referee-{i}" for i in range(1, 6)]:
    show = json.load(open(f"{work}/{name}.show.json"))
    slot = slots.get(show["authority"])
    outcome = slot["outcome"] if slot else "-"
    role = slot["role"] if slot else "-"
    h = (slot["result_hash"] or "-")[:16] if slot else "-"
    print(f"{name:<10} {role:<8} {h:<18} {outcome:<8} {show['earned']:>6} {show['slashed']:>8}")
    if name == "liar":
        ok &= (role, outcome, show["slashed"]) == ("replica", "slashed", "3")
    elif slot:
        ok &= (outcome, show["slashed"]) == ("paid", "0")
        roles[role] += 1
    else:
        ok &= show["earned"] == "0"
# Two honest replicas paid; six referees paid out of the liar's collateral.
ok &= roles == {"replica": 2, "referee": 6}
print(f"agreed hash {status['agreed_hash']}")
print(f"slots filled over {status['draw_round'] + 1} draw round(s); the last seeded by the bank hash of slot {status['seed_slot']}")
sys.exit(0 if ok else 1)
PY2

echo "== the buyer downloads the result, verified against the agreed hash"
c buyer job result "$job" --out "$work/result"
# The agreed hash must be what this machine's backends and the kernel's CPU reference compute.
"$bin/concord" kernel check "$kernel" --expect "$(field agreed_hash < "$work/status.json")" | tail -n 5
c buyer job close "$job" > /dev/null

if $app; then
  app_port=${CONCORD_APP_PORT:-5173}
  echo "== the web app: http://127.0.0.1:$app_port/?rpc=$url"
  echo "   (a Wallet Standard wallet on the local chain; Ctrl-C stops the app, the agents and the chain)"
  (cd app && exec node_modules/.bin/vite preview --port "$app_port" --strictPort --logLevel warn) &
  pids+=($!)
  wait $!
else
  echo "(to see this market in a browser: ./scripts/demo.sh --app)"
fi

echo "== stopping the agents (SIGTERM: graceful)"
for p in $providers; do
  pid_var="pid_${p//-/_}"; kill -TERM "${!pid_var}"
done
for p in $providers; do
  pid_var="pid_${p//-/_}"; wait "${!pid_var}" || { echo "agent $p exited with an error:"; tail -n 20 "$work/agents/$p/agent.log"; exit 1; }
done
echo "demo: settled as expected; the result matches the CPU reference"
