//! `concord-agent-bench`: the protocol and scale benchmarks `scripts/bench.sh` runs against a
//! local chain (`concord-localnet` in another process).
//!
//! - `locks`: which accounts every instruction write-locks (built with the SDK's instruction
//!   builders, the one definition); fails if a per-job hot instruction (create, claim, commit,
//!   reveal, settle) write-locks a global account. Prints a markdown table.
//! - `accounts`: bytes and rent (asked of the chain) of each account kind per job and provider.
//! - `scale`: funds a buyer and K agents, starts K real `concord-agent` processes, escrows N jobs
//!   as fast as the chain takes them (one per transaction, or with `--pack-escrow` as many as
//!   fit), and measures until all are settled: jobs per second, escrow rate,
//!   per-job latency, agent RSS (idle and peak), the agents' fetched-to-commit overhead from
//!   their logs, and transactions and signatures per job life (closing a sample of jobs and
//!   counting every transaction that touched each). Appends one JSON line to `--out`.
//! - `ceiling`: what the chain itself confirms per second: S senders, each with a key of its
//!   own, send transfers (0.001 SOL to a fresh address, above its rent minimum) through the
//!   SDK's `Sender` (send, then wait until confirmed, as agents and buyers do), each keeping D
//!   of them in flight, for T seconds; one JSON line per S. A confirmation takes about a slot,
//!   so S x D bounds what one row can see (about 2.5 S x D a second): the rows grow until the
//!   chain, not the senders, is the limit.
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use concord_compute::kernels;
use concord_sdk::chain::{
    ix, pda, pubsub_url_for, Chain, JobFilter, JobState, Sender, SignatureWatch,
};
use concord_sdk::store::BlobStore;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    Locks,
    Accounts {
        #[arg(long)]
        rpc: String,
    },
    Scale(Box<ScaleArgs>),
    Ceiling(CeilingArgs),
}

/// A local chain (`concord-localnet`): its RPC, its faucet, and the CLI that asks the faucet.
#[derive(clap::Args)]
struct LocalChain {
    #[arg(long)]
    rpc: String,
    #[arg(long)]
    faucet: String,
    /// The `concord` CLI (used for the faucet).
    #[arg(long)]
    concord: PathBuf,
}

#[derive(clap::Args)]
struct CeilingArgs {
    #[command(flatten)]
    chain: LocalChain,
    #[arg(long)]
    work: PathBuf,
    /// Concurrent senders, one row each.
    #[arg(long, value_delimiter = ',', default_value = "8,32")]
    senders: Vec<usize>,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Transfers each sender keeps in flight.
    #[arg(long, default_value_t = 1)]
    depth: usize,
}

#[derive(clap::Args)]
struct ScaleArgs {
    #[command(flatten)]
    chain: LocalChain,
    /// The `concord-agent` binary.
    #[arg(long)]
    agent: PathBuf,
    #[arg(long)]
    work: PathBuf,
    #[arg(long)]
    agents: usize,
    #[arg(long)]
    jobs: usize,
    #[arg(long, default_value_t = 1)]
    replicas: u8,
    /// Library kernel to run (test size).
    #[arg(long, default_value = "mix_u32")]
    kernel: String,
    /// Stop waiting for settlement this many seconds after the last escrow (the figures then
    /// say how many settled).
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// Jobs closed and their transactions counted.
    #[arg(long, default_value_t = 3)]
    sample: usize,
    /// Escrow as many jobs per transaction as fit (`Sender::pack`), not one.
    #[arg(long)]
    pack_escrow: bool,
    /// The buyer's escrow transactions in flight at once.
    #[arg(long, default_value_t = 16)]
    escrow_depth: usize,
    /// The agents' `pubsub_url` (`off`: they poll only); derived from `--rpc` when absent.
    #[arg(long)]
    pubsub_url: Option<String>,
    /// Each agent's `jobs.max_concurrent`: the jobs it holds at once, from drawn to settled.
    /// By Little's law it bounds the market at agents x this / replicas / a job's life (about
    /// 2 s here): 64 caps 3 agents near 31 jobs/s, and an agent at its cap lets the rounds that
    /// draw it lapse (each a take window and a redraw).
    #[arg(long, default_value_t = 64)]
    max_concurrent: usize,
    #[arg(long)]
    out: PathBuf,
}

fn main() {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let code = match cli.command {
        Cmd::Locks => locks(),
        Cmd::Accounts { rpc } => runtime.block_on(accounts(&rpc)),
        Cmd::Scale(args) => runtime.block_on(scale(*args)),
        Cmd::Ceiling(args) => runtime.block_on(ceiling(args)),
    };
    std::process::exit(code);
}

/// The write-lock table; 1 if a hot per-job instruction write-locks a global account.
fn locks() -> i32 {
    use concord_sdk::chain::HardwareProfile;
    let (admin, buyer, provider, mint, treasury, draw_set) = (
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
        Pubkey::new_unique(),
    );
    let token = anchor_spl::token::ID;
    let job = pda::job(&buyer, 1);
    let escrow = concord_sdk::chain::ix::EscrowKeys {
        job,
        buyer_token: pda::associated_token(&buyer, &mint, &token),
        payment_mint: mint,
        token_program: token,
    };
    let payout = pda::associated_token(&provider, &mint, &token);
    let globals: HashMap<Pubkey, &str> = [
        (pda::market_config(), "market config"),
        (pda::staking_config(), "staking config"),
        (pda::market_authority(), "market authority"),
        (mint, "payment mint"),
        (treasury, "treasury"),
        (pda::fee_vault(), "fee vault"),
        (draw_set, "draw set"),
        (ix::SLOT_HASHES, "SlotHashes sysvar"),
        (
            pda::event_authority(&concord_market::ID),
            "market event authority",
        ),
        (
            pda::event_authority(&concord_staking::ID),
            "staking event authority",
        ),
    ]
    .into_iter()
    .collect();
    let market_params = concord_market::MarketParams::DEFAULT;
    let args = concord_market::instructions::CreateJobArgs {
        job_id: 1,
        manifest_hash: [0; 32],
        manifest_uri: String::new(),
        requirements: Default::default(),
        replicas: 3,
        quorum: 2,
        price_per_replica: 1,
        collateral_per_replica: 1,
        claim_window: 1,
        exec_window: 1,
        reveal_window: 1,
        max_fee_bps: concord_market::MAX_FEE_BPS,
    };
    let holders = [(provider, payout)];
    // (name, hot: runs once or more per job and must parallelise, instruction)
    let table = vec![
        (
            "create_job",
            true,
            ix::create_job(&buyer, &escrow.buyer_token, &mint, &token, args),
        ),
        (
            "claim_slot",
            true,
            ix::claim_slot(&provider, &job, &draw_set),
        ),
        ("redraw", true, ix::redraw(&job, &draw_set)),
        ("join_draws", false, ix::join_draws(&provider, &draw_set)),
        (
            "sync_draw_weight",
            false,
            ix::sync_draw_weight(&provider, &draw_set),
        ),
        (
            "commit_result",
            true,
            ix::commit_result(&provider, &job, [0; 32]),
        ),
        (
            "reveal_result",
            true,
            ix::reveal_result(&provider, &job, [0; 32], [0; 32]),
        ),
        ("settle", true, ix::settle(&escrow, &holders)),
        (
            "cancel_job",
            false,
            ix::cancel_job(&buyer, &escrow, &holders),
        ),
        (
            "refund_unfilled",
            false,
            ix::refund_unfilled(&escrow, &[provider]),
        ),
        ("close_job", false, ix::close_job(&escrow, &buyer)),
        (
            "withdraw_fees",
            false,
            ix::withdraw_fees(&admin, &treasury, &mint, &token),
        ),
        (
            "register_provider",
            false,
            ix::register_provider(&provider, &mint, &token, HardwareProfile::default(), ""),
        ),
        (
            "deposit_stake",
            false,
            ix::deposit_stake(&provider, &payout, &mint, &token, 1),
        ),
        ("request_unbond", false, ix::request_unbond(&provider, 1, 0)),
        (
            "withdraw_stake",
            false,
            ix::withdraw_stake(&provider, &payout, &mint, &token),
        ),
        (
            "update_market",
            false,
            ix::update_market(&admin, &treasury, market_params),
        ),
        ("set_paused", false, ix::set_paused(&admin, true)),
    ];
    let mut failed = false;
    println!("| instruction | per job | accounts written | global accounts written | check |");
    println!("|---|---|---|---|---|");
    for (name, hot, instruction) in table {
        let written: Vec<&Pubkey> = instruction
            .accounts
            .iter()
            .filter(|m| m.is_writable)
            .map(|m| &m.pubkey)
            .collect();
        let global: Vec<&str> = written
            .iter()
            .filter_map(|k| globals.get(k).copied())
            .collect();
        let ok = !hot || global.is_empty();
        failed |= !ok;
        println!(
            "| `{name}` | {} | {} | {} | {} |",
            if hot { "yes" } else { "no" },
            written.len(),
            if global.is_empty() {
                "none".to_string()
            } else {
                global.join(", ")
            },
            if !hot {
                "-"
            } else if ok {
                "pass"
            } else {
                "**FAIL**"
            }
        );
    }
    if failed {
        eprintln!("write-lock check FAILED: a per-job instruction write-locks a global account");
        1
    } else {
        0
    }
}

async fn accounts(rpc_url: &str) -> i32 {
    use anchor_lang::Space;
    let rpc = RpcClient::new(rpc_url.to_string());
    let kinds: [(&str, &str, usize); 6] = [
        ("Job", "per job", 8 + concord_market::Job::INIT_SPACE),
        ("job escrow vault (SPL token account)", "per job", 165),
        (
            "Provider",
            "per provider",
            8 + concord_staking::Provider::INIT_SPACE,
        ),
        ("stake vault (SPL token account)", "per provider", 165),
        (
            "MarketConfig",
            "once",
            8 + concord_market::MarketConfig::INIT_SPACE,
        ),
        (
            "StakingConfig",
            "once",
            8 + concord_staking::StakingConfig::INIT_SPACE,
        ),
    ];
    println!("| account | held | bytes | rent-exempt deposit (SOL, from the chain) |");
    println!("|---|---|---|---|");
    let (mut job_total, mut provider_total) = (0u64, 0u64);
    for (name, held, bytes) in kinds {
        let Ok(lamports) = rpc.get_minimum_balance_for_rent_exemption(bytes).await else {
            eprintln!("cannot reach {rpc_url}");
            return 1;
        };
        match held {
            "per job" => job_total += lamports,
            "per provider" => provider_total += lamports,
            _ => {}
        }
        println!(
            "| {name} | {held} | {bytes} | {:.6} |",
            lamports as f64 / 1e9
        );
    }
    println!(
        "| **per job, total** (returned to the buyer by `close_job`) | | | {:.6} |",
        job_total as f64 / 1e9
    );
    println!(
        "| **per provider, total** (returned by `close_provider`) | | | {:.6} |",
        provider_total as f64 / 1e9
    );
    0
}

fn write_keypair(path: &Path, key: &Keypair) {
    std::fs::write(
        path,
        serde_json::to_string(&key.to_bytes().to_vec()).unwrap(),
    )
    .unwrap();
}

impl LocalChain {
    /// Funds the keypair file `key` with SOL and payment tokens from the chain's faucet.
    fn fund(&self, key: &Path, sol: &str, tokens: &str) {
        let (rpc, faucet) = (&self.rpc, &self.faucet);
        let status = Command::new(&self.concord)
            .args(["-u", rpc, "-k"])
            .arg(key)
            .args([
                "airdrop", "--sol", sol, "--tokens", tokens, "--faucet", faucet,
            ])
            .stdout(Stdio::null())
            .status()
            .expect("run concord");
        assert!(status.success(), "airdrop failed");
    }
}

/// `GET path` on a local HTTP endpoint; the status code.
fn http_status(addr: &str, path: &str) -> Option<u16> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

/// (VmRSS, VmHWM) of a process in KiB.
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn scale(args: ScaleArgs) -> i32 {
    let dir = args.work.join(format!(
        "scale-{}a-{}j-r{}",
        args.agents, args.jobs, args.replicas
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let rpc = Arc::new(RpcClient::new_with_commitment(
        args.chain.rpc.clone(),
        CommitmentConfig::confirmed(),
    ));
    let chain = Chain::new(rpc.clone());
    let mint = chain.payment_mint().await.expect("a market on this chain");

    // The buyer and the agents.
    let buyer = Arc::new(Keypair::new());
    let buyer_file = dir.join("buyer.json");
    write_keypair(&buyer_file, &buyer);
    args.chain.fund(&buyer_file, "100", "10000");
    let mut children: Vec<Child> = Vec::new();
    let mut metrics_addrs = Vec::new();
    for i in 0..args.agents {
        let key = Keypair::new();
        let adir = dir.join(format!("agent-{i}"));
        std::fs::create_dir_all(&adir).unwrap();
        write_keypair(&adir.join("id.json"), &key);
        args.chain.fund(&adir.join("id.json"), "20", "100");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        std::fs::write(
            adir.join("agent.toml"),
            format!(
                "rpc_url = \"{}\"\n{pubsub}keypair = \"id.json\"\njournal = \"journal.redb\"\nmetrics_addr = \"{addr}\"\npoll_interval_ms = 250\n\
                 [provider]\nstake = \"50\"\n[gpu]\nallow_cpu_adapter = true\n\
                 [jobs]\nmax_concurrent = {max_concurrent}\nbuyers = [\"{}\"]\n[store]\nallow_local_paths = true\n",
                args.chain.rpc,
                buyer.pubkey(),
                max_concurrent = args.max_concurrent,
                pubsub = args
                    .pubsub_url
                    .as_ref()
                    .map(|u| format!("pubsub_url = \"{u}\"\n"))
                    .unwrap_or_default(),
            ),
        )
        .unwrap();
        let log = std::fs::File::create(adir.join("agent.log")).unwrap();
        let child = Command::new(&args.agent)
            .args(["run", "--log-json", "--config"])
            .arg(adir.join("agent.toml"))
            // The agents log at info unless the caller set their filter (to profile a step).
            .env(
                "CONCORD_AGENT_LOG",
                std::env::var("CONCORD_AGENT_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start concord-agent");
        children.push(child);
        metrics_addrs.push(addr);
    }
    for addr in &metrics_addrs {
        let start = Instant::now();
        while http_status(addr, "/health") != Some(200) {
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "agent at {addr} never became healthy"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    // The agents joined the draws at start; their stake counts from the next draw epoch.
    let draw_set = chain.market_config().await.expect("market config").draw_set;
    chain
        .wait_for_draw_epoch(&draw_set, Duration::from_secs(60))
        .await
        .expect("a new draw epoch");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle: Vec<u64> = children.iter().map(|c| rss_kib(c.id()).0).collect();

    // One job's content, escrowed N times.
    let case = kernels::find_by_name(&args.kernel).expect("library kernel");
    let store = BlobStore::local(dir.join("store")).unwrap();
    let manifest = concord_sdk::results::publish_job(&store, &case.job, |_, _| {})
        .await
        .unwrap();
    // Confirmations by notification, as the agents have them (polling each of the escrow's
    // transactions in flight every 200 ms would be load on the node they share).
    let mut sender = Sender::new(rpc.clone(), buyer.clone());
    sender.signatures = Some(SignatureWatch::new(
        pubsub_url_for(&args.chain.rpc).expect("a PubSub URL for the RPC URL"),
    ));
    let me = buyer.pubkey();
    let source = mint.account_of(&me);
    let started = Instant::now();
    let mut created: HashMap<Pubkey, Instant> = HashMap::new();
    let creates: Vec<_> = (0..args.jobs as u64)
        .map(|id| {
            let args_ = concord_market::instructions::CreateJobArgs {
                job_id: id,
                manifest_hash: manifest.0,
                manifest_uri: store.location().to_string(),
                requirements: Default::default(),
                replicas: args.replicas,
                quorum: args.replicas / 2 + 1,
                price_per_replica: 10_000,
                collateral_per_replica: 10_000,
                claim_window: 3_600,
                exec_window: 3_600,
                reveal_window: 3_600,
                max_fee_bps: concord_market::MAX_FEE_BPS,
            };
            ix::create_job(&me, &source, &mint.address, &mint.token_program, args_)
        })
        .collect();
    // One job per transaction, or as many as fit (in order: job ids run on across batches).
    let batches: Vec<Vec<_>> = if args.pack_escrow {
        sender.pack(creates)
    } else {
        creates.into_iter().map(|c| vec![c]).collect()
    };
    let transactions = batches.len();
    let mut pending = tokio::task::JoinSet::new();
    let mut next_id = 0u64;
    for batch in batches {
        while pending.len() >= args.escrow_depth.max(1) {
            for (address, at) in pending.join_next().await.unwrap().unwrap() {
                created.insert(address, at);
            }
        }
        let ids = next_id..next_id + batch.len() as u64;
        next_id = ids.end;
        let sender = sender.clone();
        pending.spawn(async move {
            sender.send(&batch, &[]).await.expect("create jobs");
            let at = Instant::now();
            ids.map(|id| (pda::job(&me, id), at)).collect::<Vec<_>>()
        });
    }
    while let Some(r) = pending.join_next().await {
        for (address, at) in r.unwrap() {
            created.insert(address, at);
        }
    }
    let escrowed = started.elapsed();

    // Until every job is settled (with no agents, only the escrow is timed).
    let mut settled: HashMap<Pubkey, Instant> = HashMap::new();
    // The timeout bounds the wait for settlement (escrowing is slow on a loaded machine).
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    while args.agents > 0 && settled.len() < args.jobs {
        let filter = JobFilter {
            state: Some(JobState::Settled),
            buyer: Some(me),
        };
        // Addresses only: the settled jobs' data, read four times a second, would be load on
        // the node the agents share (2 KB a job, 1000 jobs).
        if let Ok(jobs) = chain.job_addresses(filter).await {
            let now = Instant::now();
            for a in jobs {
                settled.entry(a).or_insert(now);
            }
        }
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let elapsed = started.elapsed();
    let peak: Vec<u64> = children.iter().map(|c| rss_kib(c.id()).1).collect();

    // Transactions per job life: close a sample, count what touched each job.
    let mut life = Vec::new();
    let mut closed = Vec::new();
    for address in settled.keys().take(args.sample) {
        let close = ix::close_job(&mint.escrow(address, &me), &me);
        if let Ok(sig) = sender.send(&[close], &[]).await {
            closed.push((*address, sig.to_string()));
        }
    }
    for (address, close_sig) in &closed {
        let config = || solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config {
            commitment: Some(CommitmentConfig::confirmed()),
            ..Default::default()
        };
        // The ledger's address index is written shortly after the slot: wait for the close.
        let mut sigs = Vec::new();
        for _ in 0..120 {
            match rpc
                .get_signatures_for_address_with_config(address, config())
                .await
            {
                Ok(s) if s.iter().any(|x| &x.signature == close_sig) => {
                    sigs = s;
                    break;
                }
                Ok(_) => {}
                Err(e) => eprintln!("cannot list the transactions of {address}: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        if sigs.is_empty() {
            continue;
        }
        let mut signatures = 0usize;
        let mut fees = 0u64;
        for s in &sigs {
            let sig = s.signature.parse().unwrap();
            let config = solana_rpc_client_api::config::RpcTransactionConfig {
                encoding: Some(solana_transaction_status_client_types::UiTransactionEncoding::Json),
                commitment: Some(CommitmentConfig::confirmed()),
                max_supported_transaction_version: Some(0),
            };
            let mut found = None;
            for _ in 0..20 {
                if let Ok(tx) = rpc.get_transaction_with_config(&sig, config).await {
                    found = Some(tx);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            if let Some(tx) = found {
                fees += tx.transaction.meta.as_ref().map_or(0, |m| m.fee);
                if let solana_transaction_status_client_types::EncodedTransaction::Json(t) =
                    &tx.transaction.transaction
                {
                    signatures += t.signatures.len();
                }
            }
        }
        life.push(serde_json::json!({"transactions": sigs.len(), "signatures": signatures, "fees_lamports": fees}));
    }

    // Stop the agents, then read their overhead figures.
    for c in &children {
        if let Ok(pid) = libc::pid_t::try_from(c.id()) {
            // SAFETY: signals our own child process, which has not been reaped yet.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
    }
    for c in children.iter_mut() {
        let _ = c.wait();
    }
    let mut overhead = Vec::new();
    let mut fetched_to_commit = Vec::new();
    for i in 0..args.agents {
        let log =
            std::fs::read_to_string(dir.join(format!("agent-{i}/agent.log"))).unwrap_or_default();
        for line in log.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let f = &v["fields"];
            if f["message"] == "committed" {
                if let (Some(total), Some(kernel)) =
                    (f["fetched_to_commit_ms"].as_f64(), f["kernel_ms"].as_f64())
                {
                    // Not overhead: the GPU time and the wait behind other queued jobs.
                    let queued = f["gpu_wait_ms"].as_f64().unwrap_or(0.0);
                    fetched_to_commit.push(total);
                    overhead.push(total - kernel - queued);
                }
            }
        }
    }
    let mut latencies: Vec<f64> = settled
        .iter()
        .filter_map(|(a, t)| {
            created
                .get(a)
                .map(|c| t.saturating_duration_since(*c).as_secs_f64())
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    // The settling rate in the middle of the run (from the quarter of the jobs settled to
    // three quarters), apart from the first job's latency and the buyer's escrow pace.
    let mut settle_times: Vec<f64> = settled
        .values()
        .map(|t| t.saturating_duration_since(started).as_secs_f64())
        .collect();
    settle_times.sort_by(f64::total_cmp);
    let (q1, q3) = (
        percentile(&settle_times, 0.25),
        percentile(&settle_times, 0.75),
    );
    let mid_rate = (settle_times.len() / 2) as f64 / (q3 - q1);
    overhead.sort_by(f64::total_cmp);
    fetched_to_commit.sort_by(f64::total_cmp);
    let summary = |v: &[f64]| serde_json::json!({"min": percentile(v, 0.0), "median": percentile(v, 0.5), "p90": percentile(v, 0.9), "max": percentile(v, 1.0), "n": v.len()});
    let line = serde_json::json!({
        "agents": args.agents,
        "jobs": args.jobs,
        "replicas": args.replicas,
        "kernel": args.kernel,
        "max_concurrent": args.max_concurrent,
        "escrow_depth": args.escrow_depth,
        "settled": settled.len(),
        "escrow_secs": escrowed.as_secs_f64(),
        "escrow_transactions": transactions,
        "jobs_escrowed_per_sec": args.jobs as f64 / escrowed.as_secs_f64(),
        "elapsed_secs": elapsed.as_secs_f64(),
        "jobs_per_sec": settled.len() as f64 / elapsed.as_secs_f64(),
        "settled_secs_quartiles": [q1, q3],
        "mid_jobs_per_sec": mid_rate,
        "latency_secs": summary(&latencies),
        "fetched_to_commit_ms": summary(&fetched_to_commit),
        "overhead_ms": summary(&overhead),
        "overhead_excludes_gpu_queue": true,
        "rss_idle_kib": idle,
        "rss_peak_kib": peak,
        "life": life,
    });
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.out)
        .unwrap();
    writeln!(out, "{line}").unwrap();
    println!("{line}");
    if settled.len() < args.jobs {
        2
    } else {
        0
    }
}

/// The chain's own confirmation rate (see the module doc): one JSON line per sender count.
async fn ceiling(args: CeilingArgs) -> i32 {
    use anchor_lang::solana_program::system_instruction;
    std::fs::create_dir_all(&args.work).expect("work dir");
    let most = args.senders.iter().copied().max().unwrap_or(0);
    let rpc = Arc::new(RpcClient::new_with_commitment(
        args.chain.rpc.clone(),
        CommitmentConfig::confirmed(),
    ));
    let mut keys = Vec::new();
    for i in 0..most {
        let key = Keypair::new();
        let path = args.work.join(format!("sender-{i}.json"));
        write_keypair(&path, &key);
        args.chain.fund(&path, "10", "1");
        keys.push(Arc::new(key));
    }
    for &n in &args.senders {
        let deadline = Instant::now() + Duration::from_secs(args.seconds);
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for key in keys
            .iter()
            .take(n)
            .flat_map(|k| std::iter::repeat_n(k, args.depth))
        {
            let sender = Sender::new(rpc.clone(), key.clone());
            let from = key.pubkey();
            tasks.spawn(async move {
                let (mut confirmed, mut failed) = (0u64, 0u64);
                while Instant::now() < deadline {
                    let to = Pubkey::new_unique();
                    let ix = system_instruction::transfer(&from, &to, 1_000_000);
                    match sender.send(&[ix], &[]).await {
                        Ok(_) => confirmed += 1,
                        Err(_) => failed += 1,
                    }
                }
                (confirmed, failed)
            });
        }
        let (mut confirmed, mut failed) = (0u64, 0u64);
        while let Some(done) = tasks.join_next().await {
            let (c, f) = done.expect("sender task");
            confirmed += c;
            failed += f;
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "{}",
            serde_json::json!({
                "senders": n,
                "depth": args.depth,
                "seconds": elapsed,
                "confirmed": confirmed,
                "failed": failed,
                "confirmed_per_sec": confirmed as f64 / elapsed,
            })
        );
    }
    0
}
