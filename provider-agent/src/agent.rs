//! The daemon: start-up (keypair, chain, adapter, registration and stake top-up, journal),
//! resuming every unfinished job, the discovery loop that claims jobs, and graceful shutdown
//! (stop claiming, let in-flight steps reach a durable point, exit; the journal resumes them).
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use concord_client::chain::{
    ix, pda, read_keypair, Chain, ChainError, HardwareProfile, JobFilter, JobState, Mint, Provider,
    Sender,
};
use concord_client::executor::{list_adapters, AdapterSelector, AdapterSummary, Backend, Executor};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::config::Config;
use crate::eligibility::{refusal, Offer};
use crate::fetch::{open_job_store, prepare, Prepared};
use crate::journal::{Entry, Journal};
use crate::lifecycle;
use crate::metrics::Metrics;

/// How long in-flight steps may run after a shutdown signal before the agent exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("the chain at {url}: {error}")]
    Chain { url: String, error: ChainError },
    #[error("{0}")]
    Journal(#[from] crate::journal::JournalError),
    #[error("{0}")]
    Adapter(String),
}

/// Everything a job task needs, shared.
pub struct Agent {
    pub config: Config,
    pub me: Pubkey,
    pub keypair: Arc<Keypair>,
    pub chain: Chain,
    pub sender: Sender,
    pub mint: Mint,
    pub journal: Journal,
    pub metrics: Arc<Metrics>,
    pub executor: Executor,
    pub adapter: AdapterSummary,
    pub hardware: HardwareProfile,
    /// One job on the GPU at a time.
    pub gpu: Semaphore,
    pub shutdown: watch::Receiver<bool>,
    /// Jobs with a running task.
    pub active: Mutex<HashSet<Pubkey>>,
    /// Open jobs decided against for good (refused, unfetchable, claim refused).
    pub passed_over: Mutex<HashSet<Pubkey>>,
}

impl Agent {
    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Sleeps `d`, or less if shutdown begins.
    pub async fn pause(&self, d: Duration) {
        let mut rx = self.shutdown.clone();
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = rx.wait_for(|s| *s) => {}
        }
    }

    /// Runs a chain call, retrying RPC failures and timeouts with backoff (up to 15 s apart)
    /// until it succeeds, the program refuses, or shutdown begins.
    pub async fn retry<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, ChainError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ChainError>>,
    {
        let mut delay = Duration::from_millis(250);
        loop {
            match call().await {
                Err(e @ (ChainError::Rpc(_) | ChainError::Timeout(_))) => {
                    self.metrics.rpc_errors.inc();
                    warn!(what, error = %e, retry_in_ms = delay.as_millis() as u64, "RPC call failed");
                    if self.shutting_down() {
                        return Err(e);
                    }
                    self.pause(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(15));
                }
                other => return other,
            }
        }
    }
}

/// The adapter jobs will run on, by the config's choice.
pub fn choose_adapter(config: &Config) -> Result<(AdapterSelector, AdapterSummary), StartError> {
    let selector = AdapterSelector {
        backend: config
            .gpu
            .backend
            .as_deref()
            .map(|b| b.parse::<Backend>().map_err(StartError::Config))
            .transpose()?,
        name_contains: config.gpu.adapter_name_contains.clone(),
    };
    let all = list_adapters();
    let chosen = all
        .iter()
        .find(|a| {
            selector.backend.is_none_or(|b| a.backend == b)
                && selector
                    .name_contains
                    .as_deref()
                    .is_none_or(|n| a.name.to_lowercase().contains(&n.to_lowercase()))
        })
        .cloned()
        .ok_or_else(|| {
            let seen: Vec<String> = all.iter().map(|a| a.to_string()).collect();
            StartError::Adapter(format!(
                "no GPU adapter matches the [gpu] section (adapters here: {})",
                if seen.is_empty() {
                    "none".into()
                } else {
                    seen.join("; ")
                }
            ))
        })?;
    if chosen.device_type == "Cpu" && !config.gpu.allow_cpu_adapter {
        return Err(StartError::Adapter(format!(
            "{chosen} is a CPU rasteriser; it truncates long loops and is slow, so it is refused \
             for real jobs (set gpu.allow_cpu_adapter = true for tests and demos)"
        )));
    }
    // Run on exactly the adapter we advertise.
    let selector = AdapterSelector {
        backend: Some(chosen.backend),
        name_contains: Some(chosen.name.clone()),
    };
    Ok((selector, chosen))
}

fn backend_bit(b: Backend) -> u8 {
    match b {
        Backend::Vulkan => concord_staking::backend::VULKAN,
        Backend::Gl => concord_staking::backend::GL,
    }
}

/// Connects, checks the adapter, registers or updates the provider, tops up the stake and
/// opens the journal.
pub async fn start(
    config: Config,
    shutdown: watch::Receiver<bool>,
) -> Result<Arc<Agent>, StartError> {
    let keypair = Arc::new(read_keypair(&config.keypair).map_err(StartError::Config)?);
    let me = keypair.pubkey();
    let (selector, adapter) = choose_adapter(&config)?;
    let rpc = Arc::new(RpcClient::new_with_commitment(
        config.rpc_url.clone(),
        CommitmentConfig::confirmed(),
    ));
    let chain = Chain::new(rpc.clone());
    let mut sender = Sender::new(rpc, keypair.clone());
    sender.priority_fee =
        (config.priority_fee_micro_lamports > 0).then_some(config.priority_fee_micro_lamports);
    let url = config.rpc_url.clone();
    let chain_err = move |error| StartError::Chain {
        url: url.clone(),
        error,
    };
    let mint = chain.payment_mint().await.map_err(&chain_err)?;
    let hardware = HardwareProfile {
        gpu_name: adapter.name.chars().take(64).collect(),
        memory_mib: config.provider.memory_mib,
        backend: backend_bit(adapter.backend),
        features: config.provider.features,
    };
    let journal = Journal::open(&config.journal, &config.outputs_dir())?;
    let metrics = Metrics::new(
        me.to_string(),
        Duration::from_millis(config.poll_interval_ms),
    );
    let worker = std::env::current_exe()
        .map_err(|e| StartError::Config(format!("cannot find this program's path: {e}")))?;
    let mut executor = Executor::new(worker, selector).worker_args(["worker"]);
    if let Some(secs) = config.gpu.max_runtime_secs {
        executor = executor.max_runtime(Duration::from_secs(secs));
    }
    let agent = Agent {
        config,
        me,
        keypair,
        chain,
        sender,
        mint,
        journal,
        metrics,
        executor,
        adapter,
        hardware,
        gpu: Semaphore::new(1),
        shutdown,
        active: Mutex::new(HashSet::new()),
        passed_over: Mutex::new(HashSet::new()),
    };
    ensure_registered(&agent).await.map_err(chain_err)?;
    Ok(Arc::new(agent))
}

/// Registers the provider (or updates its profile) and deposits up to `provider.stake`.
async fn ensure_registered(agent: &Agent) -> Result<(), ChainError> {
    let me = agent.me;
    let mint = &agent.mint;
    let address = pda::provider(&me);
    let existing: Option<Provider> = agent
        .retry("read provider", || agent.chain.fetch(&address))
        .await?;
    match &existing {
        None => {
            let register = [ix::register_provider(
                &me,
                &mint.address,
                &mint.token_program,
                agent.hardware.clone(),
                &agent.config.provider.metadata_uri,
            )];
            agent.sender.send(&register, &[]).await?;
            info!(provider = %me, gpu = %agent.hardware.gpu_name, "registered as a provider");
        }
        Some(p) if p.hardware != agent.hardware || !p.accepting_jobs => {
            let update = concord_staking::instructions::ProviderUpdate {
                hardware: Some(agent.hardware.clone()),
                metadata_uri: None,
                accepting_jobs: Some(true),
            };
            agent
                .sender
                .send(&[ix::update_provider(&me, update)], &[])
                .await?;
            info!(provider = %me, gpu = %agent.hardware.gpu_name, "updated the provider profile");
        }
        Some(_) => {}
    }
    let Some(target) = &agent.config.provider.stake else {
        return Ok(());
    };
    let target = mint
        .parse_units(target)
        .map_err(|e| ChainError::Invalid(format!("provider.stake: {e}")))?;
    let staked = existing.map_or(0, |p| p.staked);
    if staked >= target {
        return Ok(());
    }
    let missing = target - staked;
    let source = mint.account_of(&me);
    let balance = agent
        .retry("read token balance", || agent.chain.token_balance(&source))
        .await?;
    if balance < missing {
        return Err(ChainError::Invalid(format!(
            "provider.stake asks for {} more tokens staked but {source} holds {}",
            mint.format(missing),
            mint.format(balance)
        )));
    }
    let deposit = [ix::deposit_stake(
        &me,
        &source,
        &mint.address,
        &mint.token_program,
        missing,
    )];
    agent.sender.send(&deposit, &[]).await?;
    info!(deposited = %mint.format(missing), staked = %mint.format(target), "stake topped up");
    Ok(())
}

/// Starts a task driving `job` (resumed from the journal) unless one is running already.
fn spawn_job(agent: &Arc<Agent>, tasks: &mut JoinSet<()>, job: Pubkey, prepared: Option<Prepared>) {
    spawn_task(agent, tasks, job, move |agent| async move {
        lifecycle::drive(&agent, job, prepared, None).await
    });
}

/// Runs `work` for `job` in a task unless one is running for it already.
fn spawn_task<F, Fut>(agent: &Arc<Agent>, tasks: &mut JoinSet<()>, job: Pubkey, work: F)
where
    F: FnOnce(Arc<Agent>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if !agent.active.lock().expect("lock").insert(job) {
        return;
    }
    let agent = agent.clone();
    tasks.spawn(async move {
        work(agent.clone()).await;
        agent.active.lock().expect("lock").remove(&job);
    });
}

/// Jobs on chain where we hold a slot but the journal has no record (a lost journal, or a
/// crash between a claim landing and its record): adopted as claimed, so they are re-run
/// (the salt is derived from the key, so even a commitment made before can be revealed).
async fn adopt_orphans(agent: &Agent) -> Result<Vec<Pubkey>, ChainError> {
    let mut adopted = Vec::new();
    for state in [JobState::Open, JobState::Running] {
        let filter = JobFilter {
            state: Some(state),
            buyer: None,
        };
        let jobs = agent
            .retry("list jobs", || agent.chain.jobs(filter))
            .await?;
        for (address, job) in jobs {
            let ours = job.slots[..usize::from(job.filled)]
                .iter()
                .any(|s| s.provider == agent.me);
            if ours && agent.journal.get(&address).ok().flatten().is_none() {
                warn!(job = %address, "holding a slot with no journal record; adopting it");
                agent
                    .journal
                    .put(&Entry::claimed(&address))
                    .map_err(|e| ChainError::Invalid(e.to_string()))?;
                adopted.push(address);
            }
        }
    }
    Ok(adopted)
}

/// Runs until shutdown: resumes the journal's unfinished jobs, then discovers and claims.
pub async fn run(agent: Arc<Agent>) -> Result<(), StartError> {
    let mut tasks = JoinSet::new();
    let unfinished = agent.journal.unfinished()?;
    let totals = agent.journal.entries()?;
    info!(
        provider = %agent.me,
        adapter = %agent.adapter,
        resuming = unfinished.len(),
        earned = %agent.mint.format(totals.iter().map(|e| e.earned).sum()),
        slashed = %agent.mint.format(totals.iter().map(|e| e.slashed).sum()),
        "agent started"
    );
    for entry in unfinished {
        info!(job = %entry.job, stage = ?entry.stage, "resuming");
        spawn_job(&agent, &mut tasks, entry.job_key(), None);
    }
    match adopt_orphans(&agent).await {
        Ok(adopted) => {
            for job in adopted {
                spawn_job(&agent, &mut tasks, job, None);
            }
        }
        Err(e) => warn!(error = %e, "could not look for jobs held without a record"),
    }

    let poll = Duration::from_millis(agent.config.poll_interval_ms);
    while !agent.shutting_down() {
        while tasks.try_join_next().is_some() {}
        if let Err(e) = discover(&agent, &mut tasks).await {
            agent.metrics.rpc_errors.inc();
            warn!(error = %e, "job discovery failed");
        } else {
            agent.metrics.poll_succeeded();
        }
        agent.pause(poll).await;
    }

    info!(
        in_flight = tasks.len(),
        "shutting down: no new claims; letting in-flight steps finish"
    );
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!(
            left = tasks.len(),
            "steps still running after the grace period; stopping them (the journal resumes them)"
        );
        tasks.abort_all();
    }
    let left = agent.journal.unfinished()?.len();
    info!(
        unfinished = left,
        "stopped; unfinished jobs resume on the next start"
    );
    Ok(())
}

/// One discovery pass: list open jobs and start a claim for each we can serve (claims go out
/// concurrently, each in its own task).
async fn discover(agent: &Arc<Agent>, tasks: &mut JoinSet<()>) -> Result<(), ChainError> {
    let held = agent.active.lock().expect("lock").len();
    if held >= agent.config.jobs.max_concurrent {
        return Ok(());
    }
    let open = agent
        .chain
        .jobs(JobFilter {
            state: Some(JobState::Open),
            buyer: None,
        })
        .await?;
    let mut candidates: Vec<_> = {
        let passed_over = agent.passed_over.lock().expect("lock");
        let active = agent.active.lock().expect("lock");
        open.into_iter()
            .filter(|(a, _)| !passed_over.contains(a) && !active.contains(a))
            .collect()
    };
    if candidates.is_empty() {
        return Ok(());
    }
    let provider = agent.chain.provider(&agent.me).await?;
    let now = agent.chain.unix_timestamp().await?;
    let buyers: Vec<Pubkey> = agent
        .config
        .jobs
        .buyers
        .iter()
        .filter_map(|b| b.parse().ok())
        .collect();
    let price_floor = agent
        .mint
        .parse_units(&agent.config.jobs.price_floor)
        .map_err(|e| ChainError::Invalid(format!("jobs.price_floor: {e}")))?;
    let mut free_stake = provider.staked.saturating_sub(provider.locked);
    // Best paid first.
    candidates.sort_by_key(|(_, j)| {
        std::cmp::Reverse(j.price_per_replica.saturating_sub(j.fee_per_replica))
    });
    let mut in_flight = held;
    for (address, job) in candidates {
        if in_flight >= agent.config.jobs.max_concurrent || agent.shutting_down() {
            break;
        }
        let offer = Offer {
            me: agent.me,
            hardware: &agent.hardware,
            price_floor,
            buyers: &buyers,
            free_stake,
            now,
        };
        if let Some(reason) = refusal(&job, &offer) {
            tracing::debug!(job = %address, %reason, "passing over");
            if reason.is_final() {
                agent.passed_over.lock().expect("lock").insert(address);
            }
            continue;
        }
        free_stake = free_stake.saturating_sub(job.collateral_per_replica);
        in_flight += 1;
        spawn_task(agent, tasks, address, move |agent| async move {
            lifecycle::claim_and_drive(&agent, address, job).await
        });
    }
    Ok(())
}

/// Opens the job's store under our policy and fetches its content.
pub async fn fetch_for(
    agent: &Agent,
    job: &concord_client::chain::Job,
) -> Result<Prepared, String> {
    let store = open_job_store(
        &job.manifest_uri,
        &agent.config.store,
        agent.config.jobs.max_job_bytes,
    )
    .await?;
    prepare(&store, &job.manifest_hash, agent.config.jobs.max_job_bytes).await
}
