//! Test fixtures for the agent's end-to-end tests: a real local chain (an in-process
//! solana-test-validator with both programs) for each scenario, one scenario at a time; a
//! buyer that publishes jobs to a directory store and escrows them through the SDK; real
//! `concord-agent` processes with their own config, journal and logs; a flaky JSON-RPC
//! proxy (a real HTTP hop that fails a share of `sendTransaction` calls); and a TCP hop in
//! front of the PubSub port that can cut every connection it carries.

pub mod cutting_proxy;
pub mod flaky_proxy;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use concord_localnet::{Funder, Localnet, LocalnetConfig};
use concord_protocol::job::Job as ComputeJob;
use concord_sdk::chain::{ix, pda, Chain, Job, JobState, Mint, Sender, SlotOutcome};
use concord_sdk::store::BlobStore;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

pub const TOKEN: u64 = 1_000_000; // 6 decimals
pub const PRICE: u64 = 2 * TOKEN;
pub const COLLATERAL: u64 = 3 * TOKEN;

/// What a scenario's chain offers.
pub struct SharedChain {
    pub rpc_url: String,
    pub pubsub_url: String,
    admin: Vec<u8>,
    mint_authority: Vec<u8>,
    pub mint: Pubkey,
    pub token_program: Pubkey,
}

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A chain of one scenario's own, in a thread that keeps it running until the scenario ends
/// (then the validator is stopped and the thread joined). One chain per scenario rather than
/// one for the whole binary: Agave 4.2.2's validator sometimes dies after minutes under load
/// (a `solBroadcast` panic, "All banks frozen ... must have a block id"), and a short-lived
/// chain meets that far less often.
pub struct ScenarioChain {
    pub info: SharedChain,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for ScenarioChain {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Bounded: the chain's thread stops its validator within `Localnet`'s own limit, but a
        // scenario must never hang the run on a thread that does not end.
        if let Some(thread) = self.thread.take() {
            let deadline = Instant::now() + Duration::from_secs(90);
            while !thread.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if thread.is_finished() {
                let _ = thread.join();
            } else {
                eprintln!("a scenario's chain thread did not end within 90 s; left behind");
            }
        }
    }
}

/// Starts a scenario's chain, again on fresh ports if the validator could not bind one (two
/// scenarios start their validators at once, and each picks its dynamic ports by trying them).
fn start_chain() -> ScenarioChain {
    const ATTEMPTS: u32 = 3;
    for attempt in 1..=ATTEMPTS {
        if let Some(chain) = try_start_chain() {
            return chain;
        }
        eprintln!("the local chain did not start (attempt {attempt} of {ATTEMPTS}); retrying");
    }
    panic!("the local chain did not start in {ATTEMPTS} attempts");
}

/// One attempt of [`start_chain`]: `None` when the chain's thread ended before it was up.
fn try_start_chain() -> Option<ScenarioChain> {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The validator logs every transaction otherwise.
        std::env::set_var("RUST_LOG", "error");
        report_panics_past_the_capture();
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async move {
            // `on_free_ports` picks free RPC, PubSub, faucet and gossip ports. No hidden
            // audits unless a scenario turns them on (`Scenario::set_audit_bps`, (n)): the
            // others count on which agents the draws can give a job.
            let mut config = LocalnetConfig::on_free_ports();
            config.market.audit_bps = 0;
            let net = Localnet::start(config).await.expect("local chain");
            tx.send(SharedChain {
                rpc_url: net.info.rpc_url.clone(),
                pubsub_url: net.info.pubsub_url.clone(),
                admin: net.admin.to_bytes().to_vec(),
                mint_authority: net.mint_authority.to_bytes().to_vec(),
                mint: net.mint,
                token_program: net.token_program,
            })
            .expect("send");
            let _keep = net;
            let _ = stopped.await;
        });
        // Not a plain drop, which would wait without end for any blocking task still running.
        rt.shutdown_timeout(Duration::from_secs(10));
    });
    let Ok(info) = rx.recv() else {
        let _ = thread.join();
        return None;
    };
    Some(ScenarioChain {
        info,
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// The validator's threads are spawned from a test thread, so the test harness captures what
/// they print, panics included, and drops it with that test's output: a validator thread that
/// dies would leave a stalled chain and no trace. This hook also writes every panic straight to
/// the process's stderr, past the capture.
fn report_panics_past_the_capture() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        use std::io::Write;
        let thread = std::thread::current();
        let _ = writeln!(
            std::io::stderr(),
            "panic in thread {}: {info}",
            thread.name().unwrap_or("unnamed")
        );
        default(info);
    }));
}

/// One scenario: its turn on the chain, a directory for keys, configs, journals and the
/// store, a funded buyer, and the agents it started (killed when it ends).
pub struct Scenario {
    pub name: String,
    pub dir: PathBuf,
    pub rpc_url: String,
    pub pubsub_url: String,
    pub chain: Chain,
    pub funder: Funder,
    pub mint: Mint,
    pub buyer: Arc<Keypair>,
    pub buyer_sender: Sender,
    pub store: BlobStore,
    _dir: tempfile::TempDir,
    /// Stopped before the turn is released (fields drop in order).
    _chain: ScenarioChain,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

fn keypair_from(bytes: &[u8]) -> Arc<Keypair> {
    Arc::new(Keypair::try_from(bytes).expect("keypair"))
}

impl Scenario {
    pub async fn start(name: &str) -> Scenario {
        let turn = TURN.lock().await;
        let own_chain = start_chain();
        let shared = &own_chain.info;
        let rpc = Arc::new(RpcClient::new_with_commitment(
            shared.rpc_url.clone(),
            CommitmentConfig::confirmed(),
        ));
        let funder = Funder {
            rpc: rpc.clone(),
            admin: keypair_from(&shared.admin),
            mint: shared.mint,
            mint_authority: keypair_from(&shared.mint_authority),
            token_program: shared.token_program,
        };
        let chain = Chain::new(rpc.clone());
        let mint = chain.payment_mint().await.expect("mint");
        let dir = tempfile::Builder::new()
            .prefix(&format!("concord-e2e-{name}-"))
            .tempdir()
            .expect("tempdir");
        let buyer = Arc::new(Keypair::new());
        funder
            .airdrop(&buyer.pubkey(), 5_000_000_000, 100 * TOKEN)
            .await
            .expect("fund the buyer");
        let store = BlobStore::local(dir.path().join("store")).expect("store");
        Scenario {
            name: name.into(),
            dir: dir.path().to_path_buf(),
            rpc_url: shared.rpc_url.clone(),
            pubsub_url: shared.pubsub_url.clone(),
            chain,
            buyer_sender: Sender::new(rpc, buyer.clone()),
            funder,
            mint,
            buyer,
            store,
            _dir: dir,
            _chain: own_chain,
            _turn: turn,
        }
    }

    /// Publishes `job` to the store and escrows it: `replicas`, quorum `quorum`, the windows in
    /// seconds. Returns the job's address.
    pub async fn submit(
        &self,
        job: &ComputeJob,
        replicas: u8,
        quorum: u8,
        exec_window: i64,
        reveal_window: i64,
    ) -> Pubkey {
        let manifest_hash = concord_sdk::results::publish_job(&self.store, job, |_, _| {})
            .await
            .expect("publish");
        let job_id = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        let me = self.buyer.pubkey();
        let args = concord_market::instructions::CreateJobArgs {
            job_id,
            manifest_hash: manifest_hash.0,
            manifest_uri: self.store.location().to_string(),
            requirements: concord_market::JobRequirements::default(),
            replicas,
            quorum,
            price_per_replica: PRICE,
            collateral_per_replica: COLLATERAL,
            claim_window: 300,
            exec_window,
            reveal_window,
            max_fee_bps: concord_market::MAX_FEE_BPS,
        };
        self.buyer_sender
            .send(
                &[ix::create_job(
                    &me,
                    &self.mint.account_of(&me),
                    &self.mint.address,
                    &self.mint.token_program,
                    args,
                )],
                &[],
            )
            .await
            .expect("create the job");
        pda::job(&me, job_id)
    }

    /// A new provider keypair with SOL and 20 tokens.
    pub async fn funded_provider(&self) -> Keypair {
        let key = Keypair::new();
        self.funder
            .airdrop(&key.pubkey(), 5_000_000_000, 20 * TOKEN)
            .await
            .expect("fund a provider");
        key
    }

    /// A provider that is no agent: registers, stakes and joins the draws in one transaction.
    /// Call it before the job it is to serve is submitted (its weight counts from the next
    /// draw epoch); [`Scenario::silent_claim`] then takes its slot once drawn.
    pub async fn silent_provider(&self) -> Keypair {
        self.silent_provider_staking(10 * TOKEN).await
    }

    /// [`Scenario::silent_provider`] with `stake` base units staked.
    pub async fn silent_provider_staking(&self, stake: u64) -> Keypair {
        let silent = Keypair::new();
        self.funder
            .airdrop(&silent.pubkey(), 5_000_000_000, stake.max(20 * TOKEN))
            .await
            .expect("fund a provider");
        let sender = concord_sdk::chain::Sender::new(
            self.chain.rpc.clone(),
            Arc::new(silent.insecure_clone()),
        );
        let hw = concord_sdk::chain::HardwareProfile {
            gpu_name: "silent".into(),
            memory_mib: 4096,
            backend: concord_staking::backend::VULKAN,
            features: 0,
        };
        let me = silent.pubkey();
        let draw_set = self.chain.market_config().await.unwrap().draw_set;
        sender
            .send(
                &[
                    ix::register_provider(
                        &me,
                        &self.mint.address,
                        &self.mint.token_program,
                        hw,
                        "",
                    ),
                    ix::deposit_stake(
                        &me,
                        &self.mint.account_of(&me),
                        &self.mint.address,
                        &self.mint.token_program,
                        stake,
                    ),
                    ix::join_draws(&me, &draw_set),
                ],
                &[],
            )
            .await
            .expect("the silent provider registers");
        silent
    }

    /// The silent provider claims a slot of `job` as soon as a draw round draws it (within
    /// `limit`), then never commits.
    pub async fn silent_claim(&self, silent: &Keypair, job: &Pubkey, limit: Duration) {
        let sender = concord_sdk::chain::Sender::new(
            self.chain.rpc.clone(),
            Arc::new(silent.insecure_clone()),
        );
        let me = silent.pubkey();
        let draw_set = self.chain.market_config().await.unwrap().draw_set;
        let deadline = std::time::Instant::now() + limit;
        loop {
            let state = self.chain.job(job).await.unwrap();
            let view = self.chain.draw_view(&draw_set, &me).await.unwrap();
            if let concord_sdk::chain::Turn::Drawn(_) = view.turn(job, &state) {
                if sender
                    .send(&[ix::claim_slot(&me, job, &draw_set)], &[])
                    .await
                    .is_ok()
                {
                    return;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the silent provider was never drawn for {job}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Writes a config for an agent named `name` serving this scenario's buyer, and returns
    /// an unstarted agent. `rpc_url` overrides the chain's; `extra` is more TOML (top-level
    /// keys, or sections when it starts with one). Notifications come from the chain's PubSub
    /// port unless `extra` sets `pubsub_url`.
    pub async fn agent(&self, name: &str, rpc_url: Option<&str>, extra: &str) -> AgentProcess {
        let key = self.funded_provider().await;
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let keypair = dir.join("id.json");
        std::fs::write(
            &keypair,
            serde_json::to_string(&key.to_bytes().to_vec()).unwrap(),
        )
        .unwrap();
        let config = dir.join("agent.toml");
        std::fs::write(
            &config,
            format!(
                r#"{top}
rpc_url = "{rpc}"
{pubsub}keypair = "id.json"
journal = "journal.redb"
poll_interval_ms = 500
[provider]
stake = "10"
[gpu]
allow_cpu_adapter = true
[jobs]
buyers = ["{buyer}"]
settle_delay_secs = 1
[store]
allow_local_paths = true
{extra}
"#,
                rpc = rpc_url.unwrap_or(&self.rpc_url),
                pubsub = if extra.contains("pubsub_url") {
                    String::new()
                } else {
                    format!("pubsub_url = \"{}\"\n", self.pubsub_url)
                },
                top = if extra.trim_start().starts_with('[') {
                    ""
                } else {
                    extra
                },
                extra = if extra.trim_start().starts_with('[') {
                    extra
                } else {
                    ""
                },
                buyer = self.buyer.pubkey(),
            ),
        )
        .unwrap();
        AgentProcess {
            name: name.into(),
            key,
            config,
            log: dir.join("agent.log"),
            child: None,
        }
    }

    /// Polls the job until `done` holds (or panics after `limit`).
    pub async fn wait_for(
        &self,
        job: &Pubkey,
        limit: Duration,
        what: &str,
        done: impl Fn(&Job) -> bool,
    ) -> Job {
        let start = Instant::now();
        loop {
            if let Ok(j) = self.chain.job(job).await {
                if done(&j) {
                    return j;
                }
            }
            if start.elapsed() > limit {
                let state = self.chain.job(job).await.map(|j| format!("{j:?}"));
                let logs: String = std::fs::read_dir(&self.dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter_map(|d| {
                        let log = std::fs::read_to_string(d.path().join("agent.log")).ok()?;
                        Some(format!(
                            "---- {} ----\n{log}",
                            d.file_name().to_string_lossy()
                        ))
                    })
                    .collect();
                panic!(
                    "{}: timed out waiting for {what}; job: {state:?}\n{logs}",
                    self.name
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    pub async fn wait_settled(&self, job: &Pubkey, limit: Duration) -> Job {
        self.wait_for(job, limit, "settlement", |j| j.state == JobState::Settled)
            .await
    }
}

/// The outcome of `who`'s slot.
pub fn outcome_of(job: &Job, who: &Pubkey) -> Option<SlotOutcome> {
    job.slot_index_of(who).map(|i| job.slots[i].outcome)
}

/// Asserts the outcome of `who`'s slot, with the agents' logs on failure.
#[track_caller]
pub fn assert_outcome(job: &Job, who: &Pubkey, expected: SlotOutcome, logs: &str) {
    assert_eq!(
        outcome_of(job, who),
        Some(expected),
        "slot of {who}:\n{logs}"
    );
}

/// A `concord-agent run` child process.
pub struct AgentProcess {
    pub name: String,
    pub key: Keypair,
    pub config: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
}

impl AgentProcess {
    pub fn pubkey(&self) -> Pubkey {
        self.key.pubkey()
    }

    /// Starts the agent (again), appending to its log.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.name);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_concord-agent"));
        // SAFETY: prctl is async-signal-safe; it makes the agent die with the test process
        // (no agents left polling a chain that is gone when a test run is killed).
        unsafe {
            use std::os::unix::process::CommandExt;
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command
            .args(["run", "--config"])
            .arg(&self.config)
            .env("CONCORD_AGENT_LOG", "info")
            .env("XDG_RUNTIME_DIR", "/tmp")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start concord-agent");
        self.child = Some(child);
    }

    pub fn sigkill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Sends SIGTERM and waits for the exit; returns its code.
    pub fn sigterm(&mut self, limit: Duration) -> Option<i32> {
        let mut child = self.child.take().expect("running");
        let pid = libc::pid_t::try_from(child.id()).expect("a pid");
        // SAFETY: signals our own child process, which has not been reaped yet.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM");
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code();
            }
            if start.elapsed() > limit {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!(
                    "{} did not stop within {limit:?} of SIGTERM:\n{}",
                    self.name,
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The journal as the agent's own `journal` command prints it.
    pub fn journal(&self) -> Vec<serde_json::Value> {
        let out = Command::new(env!("CARGO_BIN_EXE_concord-agent"))
            .args(["journal", "--config"])
            .arg(&self.config)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Dumps every agent's log (for a failed assertion's message).
pub fn all_logs(agents: &[&AgentProcess]) -> String {
    agents
        .iter()
        .map(|a| format!("---- {} ----\n{}", a.name, a.logs()))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Scenario {
    /// `count` agents named `{prefix}-1`… started, once they and the providers of `also` all
    /// count in the draws ([`Scenario::wait_in_draws`]): a market that has been running.
    pub async fn agents_in_draws(
        &self,
        prefix: &str,
        count: usize,
        also: &[&Keypair],
    ) -> Vec<AgentProcess> {
        let mut agents = Vec::new();
        for i in 1..=count {
            agents.push(self.agent(&format!("{prefix}-{i}"), None, "").await);
        }
        for a in agents.iter_mut() {
            a.start();
        }
        let mut everyone: Vec<Pubkey> = agents.iter().map(|a| a.pubkey()).collect();
        everyone.extend(also.iter().map(|k| k.pubkey()));
        self.wait_in_draws(&everyone).await;
        agents
    }

    /// The buyer's payment-token balance.
    pub async fn buyer_funds(&self) -> u64 {
        self.chain
            .token_balance(&self.mint.account_of(&self.buyer.pubkey()))
            .await
            .expect("buyer balance")
    }

    /// Sets the market's hidden-audit probability (basis points), as its admin.
    pub async fn set_audit_bps(&self, audit_bps: u16) {
        let config = self.chain.market_config().await.expect("market config");
        let params = concord_market::MarketParams {
            audit_bps,
            ..config.params
        };
        let admin = self.funder.admin.clone();
        Sender::new(self.funder.rpc.clone(), admin.clone())
            .send(
                &[ix::update_market(&admin.pubkey(), &config.treasury, params)],
                &[],
            )
            .await
            .expect("update the market");
    }

    /// Once `job` runs (its replicas drawn and claimed), starts one agent per entry of
    /// `extras` (its extra config) named `referee-N`: they join the draws too late to be a
    /// replica, so the draw can only give them an audit's or a dispute's slots.
    pub async fn late_agents_once_running(
        &self,
        job: &Pubkey,
        extras: &[&str],
    ) -> Vec<AgentProcess> {
        self.wait_for(job, Duration::from_secs(120), "the replicas' claims", |j| {
            j.state != JobState::Open || j.disputed()
        })
        .await;
        let mut referees = Vec::new();
        for (i, extra) in extras.iter().enumerate() {
            let mut a = self.agent(&format!("referee-{}", i + 1), None, extra).await;
            a.start();
            referees.push(a);
        }
        referees
    }

    /// Waits (at most a minute) until every provider of `who` has joined the draws and a draw
    /// epoch has begun since the last weight edit: a job created now draws from all of them.
    pub async fn wait_in_draws(&self, who: &[Pubkey]) {
        let draw_set = self.chain.market_config().await.unwrap().draw_set;
        let deadline = Instant::now() + Duration::from_secs(60);
        for k in who {
            while self.chain.draw_entry(k).await.unwrap().is_none() {
                assert!(Instant::now() < deadline, "{k} never joined the draws");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        self.chain
            .wait_for_draw_epoch(&draw_set, Duration::from_secs(60))
            .await
            .expect("a new draw epoch");
    }

    /// The buyer's Sybil identities attack `job`: each sends `claim_slot` every 300 ms whether
    /// drawn or not, until the job stops being open; those that got a slot commit `lie` and
    /// reveal it once reveals open. Returns the Sybils holding a slot, and for each Sybil how
    /// many of its claims the draw refused (`NotDrawn`, or `DrawNotReady` before the seed
    /// slot).
    pub async fn sybils_attack(
        &self,
        sybils: &[Keypair],
        job: &Pubkey,
        lie: [u8; 32],
    ) -> (Vec<Pubkey>, Vec<u32>) {
        let draw_set = self.chain.market_config().await.unwrap().draw_set;
        let senders: Vec<Sender> = sybils
            .iter()
            .map(|k| Sender::new(self.chain.rpc.clone(), Arc::new(k.insecure_clone())))
            .collect();
        let mut refusals = vec![0u32; sybils.len()];
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let state = self.chain.job(job).await.unwrap();
            if state.state != JobState::Open {
                break;
            }
            for (i, (k, sender)) in sybils.iter().zip(&senders).enumerate() {
                if state.slot_index_of(&k.pubkey()).is_some() {
                    continue;
                }
                let claim = ix::claim_slot(&k.pubkey(), job, &draw_set);
                if let Err(e) = sender.send(&[claim], &[]).await {
                    if matches!(e.program_error_name(), Some("NotDrawn" | "DrawNotReady")) {
                        refusals[i] += 1;
                    }
                }
            }
            assert!(Instant::now() < deadline, "the job never filled");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let state = self.chain.job(job).await.unwrap();
        let held: Vec<Pubkey> = sybils
            .iter()
            .map(|k| k.pubkey())
            .filter(|k| state.slot_index_of(k).is_some())
            .collect();
        let salt = [9u8; 32];
        for (k, sender) in sybils.iter().zip(&senders) {
            if held.contains(&k.pubkey()) {
                let c = concord_sdk::chain::commitment_hash(job, &k.pubkey(), &lie, &salt);
                sender
                    .send(&[ix::commit_result(&k.pubkey(), job, c)], &[])
                    .await
                    .expect("the Sybil commits");
            }
        }
        let deadline = Instant::now() + Duration::from_secs(240);
        let mut revealed = Vec::new();
        while revealed.len() < held.len() {
            for (k, sender) in sybils.iter().zip(&senders) {
                if !held.contains(&k.pubkey()) || revealed.contains(&k.pubkey()) {
                    continue;
                }
                let reveal = ix::reveal_result(&k.pubkey(), job, lie, salt);
                if sender.send(&[reveal], &[]).await.is_ok() {
                    revealed.push(k.pubkey());
                }
            }
            assert!(Instant::now() < deadline, "the Sybils could never reveal");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        (held, refusals)
    }
}
