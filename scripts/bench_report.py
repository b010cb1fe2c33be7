#!/usr/bin/env python3
"""Renders docs/benchmarks.md from the pieces scripts/bench.sh measured in one run:
executor.md (concord-bench), locks.md and accounts.md (concord-agent-bench), and scale.jsonl
(one line per concord-agent-bench scale run). Sections of the previous docs/benchmarks.md
that this script does not generate (measurements recorded by hand, each saying how it was
run) are kept, after the generated ones. Usage: bench_report.py WORKDIR COMMAND [PREVIOUS]."""
import datetime
import json
import os
import re
import sys

work, command = sys.argv[1], sys.argv[2]
previous = sys.argv[3] if len(sys.argv) > 3 else ""


def machine():
    cpu, mem = "unknown CPU", 0
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) / 1024 / 1024
    return f"{cpu}, {os.cpu_count()} cores available, {mem:.0f} GiB RAM"


def min_txs(replicas):
    """The fewest transactions a job life takes: create, a claim carrying its commitment per
    replica, a reveal per replica, settle, close."""
    return 2 * replicas + 3


def read(name):
    path = os.path.join(work, name)
    return open(path).read() if os.path.exists(path) else ""


def mmm(s, fmt="{:.2f}"):
    if not s or not s.get("n"):
        return "-"
    return " / ".join(fmt.format(s[k]) for k in ("min", "median", "max"))


def one(s, key, fmt="{:.2f}"):
    v = (s or {}).get(key)
    return "-" if v is None else fmt.format(v)


rows = [json.loads(l) for l in read("scale.jsonl").splitlines() if l.strip()]
# A later row for the same configuration replaces an earlier one (a re-measured row).
latest = {}
for r in rows:
    latest[(r["agents"], r["jobs"], r["replicas"])] = r
rows = list(latest.values())
life_rows = sorted([r for r in rows if r["jobs"] == 3 and r["agents"] == r["replicas"]], key=lambda r: r["replicas"])
scale_rows = sorted([r for r in rows if r not in life_rows], key=lambda r: (r["agents"], r["jobs"]))
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

out = []
w = out.append
w("# Benchmarks\n")
w(f"Produced by `{command}`; report written {now}. The figures of each table were measured "
  "side by side in one run; a row measured again after a fix replaces the earlier one (see "
  "\"Reading the figures\").\n")
w(f"- machine: {machine()}; no GPU (wgpu runs on Mesa's lavapipe / llvmpipe)")
w("- reproduce: `./scripts/bench.sh` (about 30–60 min on 2 cores with the full scale matrix; "
  "`./scripts/bench.sh --quick` for a smoke run). It installs what it needs, builds, starts a "
  "local chain (`concord-localnet`) and real `concord-agent` processes, and rewrites this file.")
w("- builds: the executor benchmark is a release build; the local chain, the CLI and the agents "
  "are the debug builds the tests use (a release build of the validator takes ~30 min here), so "
  "chain and agent figures are pessimistic.\n")

executor = read("executor.md")
executor = re.sub(r"^# Executor benchmarks\n+", "", executor)
executor = re.sub(r"^Produced by .*\n+", "", executor, flags=re.M)
executor = re.sub(r"^## ", "### ", executor, flags=re.M)
w("## Executor\n")
w("Every library kernel at its test size (what the tests and the demo run) and its bench size, "
  "against its CPU reference in the same run; result hashing against plain blake3.\n")
w(executor.strip() + "\n")

w("## Protocol\n")
w("### Write locks\n")
w("Which accounts each instruction write-locks, from the SDK's instruction builders (the one "
  "definition clients and tests use). Global accounts: the market and staking configs, the "
  "market authority PDA, the payment mint, the treasury, the fee vault, the event authorities. A per-job "
  "instruction that write-locks one of them serialises every job on the chain, so "
  "`scripts/bench.sh` fails if one does.\n")
w(read("locks.md").strip() + "\n")
w("As a control, marking `update_market` as per-job makes the check print **FAIL** and exit 1.\n")
w("Result: **pass** — create, claim, commit, reveal and settle write only the job, its vault, "
  "the buyer's or provider's own accounts (slashed collateral moves into the job's own vault; "
  "the mint stays read-only). `close_job` writes the market's fee vault and the payment mint "
  "(fees move there and slashed collateral is burned, once per job, off the hot path).\n")
w("### Account state and rent\n")
w(read("accounts.md").strip() + "\n")
w("### Transactions and signatures per job life\n")
w("Measured on the local chain: real agents serve jobs with r replicas (quorum r/2+1); the "
  "buyer then closes a sample of jobs and every transaction that touched each job account is "
  "counted (`getSignaturesForAddress`). The minimum is 2r + 3: create, r claims each carrying "
  "its commitment (a provider runs the job before it claims), r reveals, settle, close.\n")
w("| replicas r | jobs sampled | transactions (min / median / max) | signatures (min / median / max) | fees, lamports (median) | minimum 2r+3 |")
w("|---|---|---|---|---|---|")
for r in life_rows:
    life = r["life"]
    if not life:
        w(f"| {r['replicas']} | 0 | - | - | - | {min_txs(r['replicas'])} |")
        continue
    tx = sorted(l["transactions"] for l in life)
    sg = sorted(l["signatures"] for l in life)
    fees = sorted(l["fees_lamports"] for l in life)
    w(f"| {r['replicas']} | {len(life)} | {tx[0]} / {tx[len(tx)//2]} / {tx[-1]} | "
      f"{sg[0]} / {sg[len(sg)//2]} / {sg[-1]} | {fees[len(fees)//2]} | {min_txs(r['replicas'])} |")
w("")
w("Transactions above the minimum are settle calls sent by more than one agent (a settle on a "
  "settled job is a no-op that still costs its fee) or claims retried after a lost answer.\n")

w("## Scale on the local chain\n")
depth = "/".join(sorted({str(r.get("escrow_depth", 16)) for r in scale_rows})) or "16"
cap = "/".join(sorted({str(r.get("max_concurrent", 64)) for r in scale_rows})) or "64"
w("Three replicas per job (quorum 2, the market's minimum), `mix_u32` at test size, K agents on this machine (each runs "
  "every job in a worker process on lavapipe), N jobs escrowed as fast as the chain takes them "
  f"(packed several to a transaction, {depth} transactions in flight), agents holding up to {cap} jobs each, release builds. Throughput is jobs settled per second from the first escrow to the last "
  "settlement; latency is per job, from its escrow confirmed to its settlement seen (polled "
  "every 250 ms).\n")
ceiling = [json.loads(l) for l in read("ceiling.jsonl").splitlines() if l.strip().startswith("{")]
top = max((c["confirmed_per_sec"] for c in ceiling), default=0.0)
per_job = min_txs(3)
if ceiling:
    w("The chain's own ceiling (`concord-agent-bench ceiling`: S senders, each with its own key "
      "and D transfers in flight, send transfers and wait for `confirmed`, 20 s): the most any job "
      "load could get from this validator on this machine, as long as the largest row is not "
      "bounded by its senders (about 2.5 S x D a second at a slot a confirmation).\n")
    w("| senders × in flight | confirmed | per second |")
    w("|---|---|---|")
    for c in ceiling:
        w(f"| {c['senders']} × {c.get('depth', 1)} | {c['confirmed']} | {c['confirmed_per_sec']:.1f} |")
    w(f"\nAt {per_job} transactions per job life that is {top / per_job:.1f} jobs a second.\n")
w("Mid-run: jobs settled per second between the quarter and three quarters of the jobs "
  "settled, apart from the first job's latency and the end of the buyer's escrow.\n")
w("| agents | jobs | settled | escrow all (s) | elapsed (s) | jobs settled / s | of the ceiling | mid-run settled / s | of the ceiling | latency s (min / median / max) | latency p90 (s) |")
w("|---|---|---|---|---|---|---|---|---|---|---|")
def share(rate):
    """A rate of jobs against the ceiling's jobs a second."""
    return f"{100 * rate * per_job / top:.0f} %" if top and rate else "-"


for r in scale_rows:
    lat = r["latency_secs"]
    mid = r.get("mid_jobs_per_sec") or 0.0
    w(f"| {r['agents']} | {r['jobs']} | {r['settled']} | {r['escrow_secs']:.1f} | {r['elapsed_secs']:.1f} | "
      f"{r['jobs_per_sec']:.2f} | {share(r['jobs_per_sec'])} | {mid:.2f} | {share(mid)} | {mmm(lat)} | {one(lat, 'p90')} |")
w("")

w("## Agent overhead and memory\n")
w("From the agents' own JSON logs (`committed` events). *fetched → commit*: from a job's content "
  "fetched to its commitment confirmed; it includes waiting behind the other jobs queued for the "
  f"GPU (an agent runs one job at a time and holds up to {cap}), so it grows with the queue. "
  "*Overhead*: that minus the GPU time and minus the wait for the GPU, i.e. the run outside "
  "the GPU (the kept worker's IPC, a pipeline compiled on its first use), the journal's fsynced "
  "writes and the one transaction that claims and commits, confirmed (rows measured with the "
  "GPU wait logged; `-` otherwise). "
  "RSS of the agent process (not its per-job worker): idle after start-up, and its high-water "
  "mark at the end of the run (largest over the agents).\n")
w("| agents | jobs | fetched → commit ms (min / median / max) | overhead ms (min / median / max) | overhead p90 ms | RSS idle MiB | RSS peak MiB |")
w("|---|---|---|---|---|---|---|")
for r in scale_rows:
    idle = max(r["rss_idle_kib"]) / 1024 if r["rss_idle_kib"] else 0
    peak = max(r["rss_peak_kib"]) / 1024 if r["rss_peak_kib"] else 0
    exact = r.get("overhead_excludes_gpu_queue")
    w(f"| {r['agents']} | {r['jobs']} | {mmm(r['fetched_to_commit_ms'], '{:.0f}')} | "
      f"{mmm(r['overhead_ms'], '{:.0f}') if exact else '-'} | "
      f"{one(r['overhead_ms'], 'p90', '{:.0f}') if exact else '-'} | {idle:.1f} | {peak:.1f} |")
w("")

w("## GPU (NVIDIA H100)\n")
w("Not measured in this run: the `device` tool lent no GPU machine to this session "
  "(`status`: `can_start_another: false`). On a session that has one, run "
  "`scripts/bench.sh` there for the executor figures and `scripts/determinism.sh` for the "
  "cross-backend hash comparison (NVIDIA Vulkan against lavapipe); compare f32 throughput with "
  "half the H100's FP32 peak (bit-exact f32 cannot use fused multiply-add).\n")

w("## Reading the figures\n")
w("- Rows for the same configuration measured again later (after a fix) replace the earlier "
  "ones; the raw lines are in the run's `scale.jsonl`.")
w("- Transactions above 2r + 3 per job life come from claims sent alone while the run goes on "
  "(at half of what is left of the take window; the commitment follows in a transaction of its "
  "own), from `redraw`s (one a lapsed round) and from claims lost to another agent (a failed "
  "claim still lands and touches the job). Settling takes turns from the first slot's holder "
  "(the agents' default turn, 2 s), so a job is settled once.")
w(f"- Under load the overhead grows past one confirmation: an agent holds up to {cap} jobs, and "
  "their transactions, fsynced journal writes (redb has one writer) and the validator share two "
  "cores; with few jobs in flight it is one confirmation (about a slot) and a few milliseconds.")
w("- The escrow rate is bounded by the buyer's transactions in flight over their confirmation "
  "time: every `create_job` of one buyer write-locks the buyer's token account, which orders "
  "them within a block but does not limit them to one per slot.\n")
w("## Notes\n")
w("- Both cores are shared by the chain, the agents, their workers and the buyer in the scale "
  "runs; with 4 and 8 agents the figures measure contention on 2 cores more than the protocol.")
w("- Without a GPU the executor's \"GPU\" is Mesa's software rasteriser on the same cores as "
  "the reference; the ratios compare LLVM-compiled WGSL on all cores with scalar Rust on one.")
generated = {line for line in out if line.startswith("## ")}
kept = []
if previous and os.path.exists(previous):
    sections = re.split(r"^(?=## )", open(previous).read(), flags=re.M)
    kept = [x.rstrip("\n") + "\n" for x in sections
            if x.startswith("## ") and x.splitlines()[0] + "\n" not in generated
            and x.splitlines()[0] not in generated]
print("\n".join(out + kept))
