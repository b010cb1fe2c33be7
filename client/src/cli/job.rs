//! `concord job ...`: buyers submit jobs (manifest built from WGSL and input files or a library
//! kernel, blobs uploaded, payment escrowed), follow them, cancel or close them, and download
//! results verified against the hash the chain agreed on. Providers can serve a job by hand:
//! `claim`, `execute` (run the kernel, upload outputs, commit), `reveal`; anyone can `settle`.
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;

use super::context::{chain_error, parse_pubkey, ChainArgs, Ctx, Mint};
use super::progress;
use super::store::{open as open_store, store_error};
use super::{emit, exit, CliError, OutputFormat, Status};
use crate::chain::commitment_salt;
use crate::chain::ix;
use crate::chain::{
    commitment_hash, pda, Job as JobAccount, JobFilter, JobState, SlotOutcome, SlotStatus,
};
use crate::executor::{AdapterSelector, Backend, Execution, Executor};
use crate::job::{Job, JobBuilder};
use crate::manifest::{Hash32, Limits};
use crate::results;

#[derive(Subcommand, Debug)]
pub enum JobCommand {
    /// Build a job, upload its blobs, escrow the payment and create it on chain.
    Submit(Box<SubmitArgs>),
    /// Show a job.
    Status { job: String },
    /// Wait until a job reaches a state (default: any terminal state).
    Wait {
        job: String,
        #[arg(long, value_enum, default_value_t = WaitFor::Terminal)]
        until: WaitFor,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 900)]
        timeout: u64,
    },
    /// Download a settled job's outputs, verify them against the agreed hash, write them.
    Result {
        job: String,
        /// Store holding the outputs (default: the job's manifest store).
        #[arg(long)]
        store: Option<String>,
        /// Directory to write output-<buffer>.bin files to.
        #[arg(long, short = 'o')]
        out: PathBuf,
    },
    /// Cancel your job before any result was committed (full refund).
    Cancel { job: String },
    /// List jobs.
    List {
        /// Only jobs you created.
        #[arg(long)]
        mine: bool,
        #[arg(long, value_enum)]
        state: Option<StateArg>,
    },
    /// Close a finished job: the treasury's fee is paid and the rent returns to the buyer.
    Close { job: String },
    /// Provider: take a slot of an open job (locks collateral).
    Claim { job: String },
    /// Provider: run a claimed job, upload its outputs, and commit the result hash.
    Execute {
        job: String,
        /// Store to fetch the job from and upload outputs to (default: the job's manifest URI).
        #[arg(long)]
        store: Option<String>,
        /// Backend to run on: vulkan or gl.
        #[arg(long)]
        backend: Option<String>,
        /// Where commitments are kept between commit and reveal.
        #[arg(long)]
        state_dir: Option<PathBuf>,
        /// Flip one bit of the first output before hashing: a lying provider, for demos and
        /// tests of slashing.
        #[arg(long, hide = true)]
        corrupt: bool,
    },
    /// Provider: reveal the committed result hash.
    Reveal {
        job: String,
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Anyone: settle a job whose slots all revealed or whose reveal window closed; or refund
    /// a job whose claim window closed unfilled.
    Settle { job: String },
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
    Running,
    Settled,
    Terminal,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateArg {
    Open,
    Running,
    Settled,
    Cancelled,
    Expired,
}

impl From<StateArg> for JobState {
    fn from(s: StateArg) -> Self {
        match s {
            StateArg::Open => JobState::Open,
            StateArg::Running => JobState::Running,
            StateArg::Settled => JobState::Settled,
            StateArg::Cancelled => JobState::Cancelled,
            StateArg::Expired => JobState::Expired,
        }
    }
}

#[derive(Args, Debug)]
pub struct SubmitArgs {
    /// A kernel of the reproducible library (see `concord kernel list`), with its inputs.
    #[arg(long, conflicts_with = "wgsl")]
    pub kernel: Option<String>,
    /// A WGSL file with one compute entry point.
    #[arg(long, required_unless_present = "kernel")]
    pub wgsl: Option<PathBuf>,
    /// Entry point (default: main).
    #[arg(long, default_value = "main")]
    pub entry: String,
    /// Workgroups to dispatch, as x,y,z.
    #[arg(long, default_value = "1,1,1")]
    pub dispatch: String,
    /// Input files, bound in order from binding 0 (repeatable).
    #[arg(long = "input")]
    pub inputs: Vec<PathBuf>,
    /// Output buffer sizes in bytes, bound after the inputs (repeatable).
    #[arg(long = "output-size")]
    pub outputs: Vec<u64>,
    /// Store for the job's blobs (directory, http(s)://, s3://bucket).
    #[arg(long)]
    pub store: String,
    #[arg(long, default_value_t = 3)]
    pub replicas: u8,
    /// Default: the smallest majority of the replicas.
    #[arg(long)]
    pub quorum: Option<u8>,
    /// Price per replica, in tokens.
    #[arg(long)]
    pub price: String,
    /// Collateral each provider locks per slot, in tokens.
    #[arg(long)]
    pub collateral: String,
    /// Job id (default: the current time in milliseconds).
    #[arg(long)]
    pub job_id: Option<u64>,
    #[arg(long, default_value_t = 600)]
    pub claim_window: i64,
    #[arg(long, default_value_t = 600)]
    pub exec_window: i64,
    #[arg(long, default_value_t = 600)]
    pub reveal_window: i64,
    /// Minimum GPU memory of providers, in MiB.
    #[arg(long, default_value_t = 0)]
    pub min_memory_mib: u32,
    /// Maximum run time in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    pub max_runtime_ms: u64,
}

fn parse_dispatch(s: &str) -> Result<[u32; 3], CliError> {
    let parts: Vec<u32> = s
        .split(',')
        .map(|p| p.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|_| CliError::msg(format!("`{s}` is not a dispatch size (x,y,z)")))?;
    match parts.as_slice() {
        [x] => Ok([*x, 1, 1]),
        [x, y] => Ok([*x, *y, 1]),
        [x, y, z] => Ok([*x, *y, *z]),
        _ => Err(CliError::msg(format!(
            "`{s}` is not a dispatch size (x,y,z)"
        ))),
    }
}

fn build_job(a: &SubmitArgs) -> Result<Job, CliError> {
    if let Some(name) = &a.kernel {
        return crate::kernels::find_by_name(name)
            .map(|k| k.job)
            .ok_or_else(|| {
                CliError::msg(format!(
                    "no library kernel named `{name}` (see `concord kernel list`)"
                ))
            });
    }
    let path = a
        .wgsl
        .as_ref()
        .expect("clap requires --wgsl without --kernel");
    let source = std::fs::read_to_string(path)
        .map_err(|e| CliError::msg(format!("cannot read {}: {e}", path.display())))?;
    let mut b = JobBuilder::new();
    let mut bindings = Vec::new();
    for input in &a.inputs {
        let bytes = std::fs::read(input)
            .map_err(|e| CliError::msg(format!("cannot read {}: {e}", input.display())))?;
        let i = b.input(bytes);
        bindings.push((i, i));
    }
    for size in &a.outputs {
        let i = b.output(*size);
        bindings.push((i, i));
    }
    b.pass(&source, &a.entry, parse_dispatch(&a.dispatch)?, &bindings);
    b.max_runtime_ms(a.max_runtime_ms);
    Ok(b.build())
}

/// Accepts a job address.
fn job_address(s: &str) -> Result<Pubkey, CliError> {
    parse_pubkey(s, "job")
}

fn state_name(s: JobState) -> &'static str {
    match s {
        JobState::Open => "open",
        JobState::Running => "running",
        JobState::Settled => "settled",
        JobState::Cancelled => "cancelled",
        JobState::Expired => "expired",
    }
}

fn job_json(address: &Pubkey, j: &JobAccount, mint: &Mint) -> serde_json::Value {
    let slots: Vec<_> = j.slots[..usize::from(j.filled)]
        .iter()
        .map(|s| {
            json!({
                "provider": s.provider.to_string(),
                "status": format!("{:?}", s.status).to_lowercase(),
                "outcome": format!("{:?}", s.outcome).to_lowercase(),
                "result_hash": (s.status == SlotStatus::Revealed).then(|| Hash32(s.result_hash).to_hex()),
            })
        })
        .collect();
    json!({
        "job": address.to_string(),
        "buyer": j.buyer.to_string(),
        "job_id": j.job_id,
        "state": state_name(j.state),
        "manifest_hash": Hash32(j.manifest_hash).to_hex(),
        "manifest_uri": j.manifest_uri,
        "replicas": j.replicas,
        "quorum": j.quorum,
        "filled": j.filled,
        "committed": j.committed,
        "revealed": j.revealed,
        "price_per_replica": mint.format(j.price_per_replica),
        "collateral_per_replica": mint.format(j.collateral_per_replica),
        "claim_deadline": j.claim_deadline,
        "exec_deadline": j.exec_deadline,
        "reveal_deadline": j.reveal_deadline,
        "agreed_hash": j.agreed_hash.map(|h| Hash32(h).to_hex()),
        "slots": slots,
    })
}

fn job_text(address: &Pubkey, j: &JobAccount, mint: &Mint) -> String {
    let mut s = format!(
        "job {address}\n  state         {}\n  buyer         {} (id {})\n  manifest      {}\n  replicas      {} (quorum {}), {} claimed, {} committed, {} revealed\n  price         {} per replica, collateral {}\n  agreed hash   {}",
        state_name(j.state), j.buyer, j.job_id, Hash32(j.manifest_hash).to_hex(), j.replicas, j.quorum, j.filled,
        j.committed, j.revealed, mint.format(j.price_per_replica), mint.format(j.collateral_per_replica),
        j.agreed_hash.map_or("-".to_string(), |h| Hash32(h).to_hex())
    );
    for slot in &j.slots[..usize::from(j.filled)] {
        let hash = if slot.status == SlotStatus::Revealed {
            Hash32(slot.result_hash).to_hex()[..16].to_string()
        } else {
            "-".into()
        };
        s.push_str(&format!(
            "\n  slot          {} {:?} {:?} {}",
            slot.provider, slot.status, slot.outcome, hash
        ));
    }
    s
}

fn state_dir(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(|| {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
            .join(".config/concord/commitments")
    })
}

/// The file a job's outputs wait in between `job execute` and `job reveal`.
fn outputs_file(job: &Pubkey, provider: &Pubkey) -> String {
    format!("{job}-{provider}.outputs")
}

/// The file a commitment is kept in: one per job and provider key.
fn commitment_file(job: &Pubkey, provider: &Pubkey) -> String {
    format!("{job}-{provider}.json")
}

pub async fn run(
    cmd: JobCommand,
    args: &ChainArgs,
    output: OutputFormat,
) -> Result<Status, CliError> {
    let ctx = Ctx::new(args)?;
    let fail = |e| chain_error(e, &ctx.url);
    let mint = ctx.mint().await?;
    let me = ctx.me();
    let signed = |what: String, sig: solana_sdk::signature::Signature| {
        super::emit_signed(output, &what, &sig)
    };
    match cmd {
        JobCommand::Submit(a) => {
            let job = build_job(&a)?;
            // Refuse a bad job before anything is uploaded or paid.
            crate::wgsl::check_job(&job, &Limits::V1)
                .map_err(|e| CliError::msg(format!("the job is invalid: {e}")))?;
            let replicas = a.replicas;
            let quorum = a.quorum.unwrap_or(replicas / 2 + 1);
            let price = mint.parse(&a.price)?;
            let collateral = mint.parse(&a.collateral)?;
            let deposit = price
                .checked_mul(u64::from(replicas))
                .ok_or_else(|| CliError::msg("price × replicas overflows"))?;
            let source = mint.account_of(&me);
            let balance = ctx.chain.token_balance(&source).await.map_err(fail)?;
            if balance < deposit {
                return Err(CliError::new(
                    exit::REFUSED,
                    format!(
                        "insufficient funds: the job escrows {} tokens but {source} holds {}",
                        mint.format(deposit),
                        mint.format(balance)
                    ),
                ));
            }
            let store = open_store(&a.store)?;
            let bar = progress::bar(output, 1, "uploading blobs");
            let manifest_hash = results::publish_job(&store, &job, |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            })
            .await
            .map_err(store_error)?;
            bar.finish_and_clear();
            let job_id = a.job_id.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64)
            });
            let args_ = concord_market::instructions::CreateJobArgs {
                job_id,
                manifest_hash: manifest_hash.0,
                manifest_uri: store.location().to_string(),
                requirements: concord_market::JobRequirements {
                    min_memory_mib: a.min_memory_mib,
                    required_features: 0,
                    backends: 0,
                },
                replicas,
                quorum,
                price_per_replica: price,
                collateral_per_replica: collateral,
                claim_window: a.claim_window,
                exec_window: a.exec_window,
                reveal_window: a.reveal_window,
            };
            let sig = ctx
                .sender
                .send(
                    &[ix::create_job(
                        &me,
                        &source,
                        &mint.address,
                        &mint.token_program,
                        args_,
                    )],
                    &[],
                )
                .await
                .map_err(fail)?;
            let address = pda::job(&me, job_id);
            emit(
                output,
                json!({"job": address.to_string(), "job_id": job_id, "manifest_hash": manifest_hash.to_hex(), "escrowed": mint.format(deposit), "signature": sig.to_string()}),
                || {
                    format!(
                        "job {address} created (id {job_id}, manifest {}), {} tokens escrowed",
                        manifest_hash.to_hex(),
                        mint.format(deposit)
                    )
                },
            );
        }
        JobCommand::Status { job } => {
            let address = job_address(&job)?;
            let j = ctx.chain.job(&address).await.map_err(fail)?;
            emit(output, job_json(&address, &j, &mint), || {
                job_text(&address, &j, &mint)
            });
        }
        JobCommand::Wait {
            job,
            until,
            timeout,
        } => {
            let address = job_address(&job)?;
            let spinner = progress::spinner(output, "waiting");
            let start = Instant::now();
            let j = loop {
                let j = ctx.chain.job(&address).await.map_err(fail)?;
                spinner.set_message(format!(
                    "job is {} ({} claimed, {} committed, {} revealed)",
                    state_name(j.state),
                    j.filled,
                    j.committed,
                    j.revealed
                ));
                let reached = match until {
                    WaitFor::Running => j.state != JobState::Open,
                    WaitFor::Settled => j.state == JobState::Settled,
                    WaitFor::Terminal => j.state.is_terminal(),
                };
                if reached {
                    break j;
                }
                if until == WaitFor::Settled && j.state.is_terminal() {
                    spinner.finish_and_clear();
                    return Err(CliError::new(
                        exit::REFUSED,
                        format!(
                            "job {address} ended {} and will not settle",
                            state_name(j.state)
                        ),
                    ));
                }
                if start.elapsed() > Duration::from_secs(timeout) {
                    spinner.finish_and_clear();
                    return Err(CliError::new(
                        exit::TIMEOUT,
                        format!(
                            "job {address} is still {} after {timeout} s",
                            state_name(j.state)
                        ),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            };
            spinner.finish_and_clear();
            emit(output, job_json(&address, &j, &mint), || {
                job_text(&address, &j, &mint)
            });
        }
        JobCommand::Result { job, store, out } => {
            let address = job_address(&job)?;
            let j = ctx.chain.job(&address).await.map_err(fail)?;
            let agreed = j.agreed_hash.map(Hash32).ok_or_else(|| {
                CliError::new(
                    exit::REFUSED,
                    format!(
                        "job {address} has no agreed result (it is {})",
                        state_name(j.state)
                    ),
                )
            })?;
            let store = open_store(store.as_deref().unwrap_or(&j.manifest_uri))?;
            let manifest = results::fetch_manifest(&store, &Hash32(j.manifest_hash))
                .await
                .map_err(results_error)?;
            let spinner = progress::spinner(output, "downloading outputs");
            let outputs = results::fetch_outputs(&store, &agreed, &manifest)
                .await
                .map_err(results_error)?;
            spinner.finish_and_clear();
            std::fs::create_dir_all(&out)
                .map_err(|e| CliError::msg(format!("cannot create {}: {e}", out.display())))?;
            let mut files = Vec::new();
            for (index, bytes) in manifest.output_indices().into_iter().zip(&outputs) {
                let path = out.join(format!("output-{index}.bin"));
                std::fs::write(&path, bytes)
                    .map_err(|e| CliError::msg(format!("cannot write {}: {e}", path.display())))?;
                files.push(path.display().to_string());
            }
            emit(
                output,
                json!({"job": address.to_string(), "result_hash": agreed.to_hex(), "files": files}),
                || {
                    format!(
                        "verified {} output(s) against {}; wrote {}",
                        files.len(),
                        agreed.to_hex(),
                        files.join(", ")
                    )
                },
            );
        }
        JobCommand::Cancel { job } => {
            let address = job_address(&job)?;
            let j = ctx.chain.job(&address).await.map_err(fail)?;
            if j.buyer != me {
                return Err(CliError::new(
                    exit::REFUSED,
                    format!("job {address} belongs to {}, not to {me}", j.buyer),
                ));
            }
            let holders: Vec<Pubkey> = j.slots[..usize::from(j.filled)]
                .iter()
                .map(|s| s.provider)
                .collect();
            let sig = ctx
                .sender
                .send(
                    &[ix::cancel_job(
                        &me,
                        &mint.escrow(&address, &j.buyer),
                        &holders,
                    )],
                    &[],
                )
                .await
                .map_err(fail)?;
            signed(
                format!(
                    "job {address} cancelled, {} tokens refunded",
                    mint.format(j.escrow_owed)
                ),
                sig,
            );
        }
        JobCommand::List { mine, state } => {
            let filter = JobFilter {
                state: state.map(Into::into),
                buyer: mine.then_some(me),
            };
            let jobs = ctx.chain.jobs(filter).await.map_err(fail)?;
            let j: Vec<_> = jobs.iter().map(|(a, j)| job_json(a, j, &mint)).collect();
            emit(output, json!(j), || {
                let mut s = format!(
                    "{:<44}  {:<9}  {:>8}  {:>12}  {}",
                    "job", "state", "replicas", "price", "buyer"
                );
                for (a, j) in &jobs {
                    s.push_str(&format!(
                        "\n{:<44}  {:<9}  {:>4}/{:<3}  {:>12}  {}",
                        a.to_string(),
                        state_name(j.state),
                        j.filled,
                        j.replicas,
                        mint.format(j.price_per_replica),
                        j.buyer
                    ));
                }
                s
            });
        }
        JobCommand::Close { job } => {
            let address = job_address(&job)?;
            let j = ctx.chain.job(&address).await.map_err(fail)?;
            let treasury = ctx.chain.market_config().await.map_err(fail)?.treasury;
            let sig = ctx
                .sender
                .send(
                    &[ix::close_job(
                        &mint.escrow(&address, &j.buyer),
                        &j.buyer,
                        &treasury,
                    )],
                    &[],
                )
                .await
                .map_err(fail)?;
            signed(format!("job {address} closed"), sig);
        }
        JobCommand::Claim { job } => {
            let address = job_address(&job)?;
            let sig = ctx
                .sender
                .send(&[ix::claim_slot(&me, &address)], &[])
                .await
                .map_err(fail)?;
            signed(format!("claimed a slot of {address}"), sig);
        }
        JobCommand::Execute {
            job,
            store,
            backend,
            state_dir: dir,
            corrupt,
        } => {
            let address = job_address(&job)?;
            let j = ctx.chain.job(&address).await.map_err(fail)?;
            let store = open_store(store.as_deref().unwrap_or(&j.manifest_uri))?;
            let manifest = results::fetch_manifest(&store, &Hash32(j.manifest_hash))
                .await
                .map_err(results_error)?;
            let selector = match backend.as_deref() {
                None => AdapterSelector::default(),
                Some("vulkan") => AdapterSelector::backend(Backend::Vulkan),
                Some("gl") => AdapterSelector::backend(Backend::Gl),
                Some(other) => {
                    return Err(CliError::msg(format!(
                        "unknown backend `{other}` (vulkan or gl)"
                    )))
                }
            };
            let spinner = progress::spinner(output, "running the job");
            let execution = match store.fetch_job(manifest).await.map_err(store_error)? {
                Err(invalid) => Execution::Invalid(invalid),
                Ok(job) => {
                    let executor = Executor::with_default_worker(selector);
                    tokio::task::spawn_blocking(move || executor.execute(&job))
                        .await
                        .map_err(|e| CliError::msg(e.to_string()))?
                        .map_err(|e| CliError::msg(format!("the job could not run here: {e}")))?
                }
            };
            spinner.finish_and_clear();
            let mut execution = execution;
            if let (
                true,
                Execution::Completed {
                    outputs,
                    result_hash,
                    ..
                },
            ) = (corrupt, &mut execution)
            {
                if let Some(byte) = outputs.first_mut().and_then(|o| o.first_mut()) {
                    *byte ^= 1;
                }
                *result_hash = crate::result_hash(outputs);
            }
            let result = match &execution {
                Execution::Completed { result_hash, .. } => *result_hash,
                Execution::Invalid(_) => execution.outcome().hash(),
            };
            let salt = commitment_salt(&ctx.payer().to_bytes()[..32], &address);
            let commitment = commitment_hash(&address, &me, &result.0, &salt);
            let dir = state_dir(dir);
            std::fs::create_dir_all(&dir)
                .map_err(|e| CliError::msg(format!("cannot create {}: {e}", dir.display())))?;
            // The outputs are published only after the reveal (`job reveal`): published now,
            // anyone could copy their hash into a commitment without running the job.
            if let Execution::Completed { outputs, .. } = &execution {
                let bundle = borsh::to_vec(outputs).expect("borsh");
                std::fs::write(dir.join(outputs_file(&address, &me)), bundle)
                    .map_err(|e| CliError::msg(format!("cannot save the outputs: {e}")))?;
            }
            std::fs::write(
                dir.join(commitment_file(&address, &me)),
                json!({"job": address.to_string(), "provider": me.to_string(), "result_hash": result.to_hex(), "store": store.location()})
                    .to_string(),
            )
            .map_err(|e| CliError::msg(format!("cannot save the commitment: {e}")))?;
            let sig = ctx
                .sender
                .send(&[ix::commit_result(&me, &address, commitment)], &[])
                .await
                .map_err(fail)?;
            let kind = match &execution {
                Execution::Completed { .. } => "ran the job".to_string(),
                Execution::Invalid(e) => format!("the job is invalid ({e})"),
            };
            emit(
                output,
                json!({"job": address.to_string(), "result_hash": result.to_hex(), "signature": sig.to_string()}),
                || {
                    format!(
                        "{kind}; committed result {}; signature {sig}",
                        result.to_hex()
                    )
                },
            );
        }
        JobCommand::Reveal {
            job,
            state_dir: dir,
        } => {
            let address = job_address(&job)?;
            let path = state_dir(dir).join(commitment_file(&address, &me));
            let saved: serde_json::Value = std::fs::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .ok_or_else(|| {
                    CliError::new(
                        exit::NOT_FOUND,
                        format!("no commitment saved for job {address} ({})", path.display()),
                    )
                })?;
            let result = Hash32::from_hex(saved["result_hash"].as_str().unwrap_or_default())
                .map_err(|e| CliError::msg(e.to_string()))?;
            let salt = commitment_salt(&ctx.payer().to_bytes()[..32], &address);
            let sig = ctx
                .sender
                .send(&[ix::reveal_result(&me, &address, result.0, salt)], &[])
                .await
                .map_err(fail)?;
            // Now that the hash is revealed, publish the outputs for the buyer.
            let outputs_path = path.with_file_name(outputs_file(&address, &me));
            if let Ok(bundle) = std::fs::read(&outputs_path) {
                let outputs: Vec<Vec<u8>> = borsh::from_slice(&bundle)
                    .map_err(|e| CliError::msg(format!("the saved outputs are damaged: {e}")))?;
                let location = saved["store"].as_str().unwrap_or_default();
                let store = open_store(location)?;
                results::publish_outputs(&store, &outputs)
                    .await
                    .map_err(store_error)?;
                let _ = std::fs::remove_file(&outputs_path);
            }
            signed(format!("revealed {} for {address}", result.to_hex()), sig);
        }
        JobCommand::Settle { job } => {
            let address = job_address(&job)?;
            let j = ctx.chain.job(&address).await.map_err(fail)?;
            if j.state != JobState::Open {
                let payouts = mint.payout_account_instructions(&me, &j);
                ctx.sender.send(&payouts, &[]).await.map_err(fail)?;
            }
            let settle = [mint.settle_instruction(&address, &j)];
            let sig = ctx.sender.send(&settle, &[]).await.map_err(fail)?;
            let after = ctx.chain.job(&address).await.map_err(fail)?;
            let outcomes: Vec<String> = after.slots[..usize::from(after.filled)]
                .iter()
                .map(|s| format!("{}: {}", s.provider, outcome_name(s.outcome)))
                .collect();
            signed(
                format!(
                    "job {address} is {} ({})",
                    state_name(after.state),
                    outcomes.join(", ")
                ),
                sig,
            );
        }
    }
    Ok(Status::Ok)
}

fn outcome_name(o: SlotOutcome) -> &'static str {
    match o {
        SlotOutcome::Pending => "pending",
        SlotOutcome::Paid => "paid",
        SlotOutcome::Unpaid => "unpaid",
        SlotOutcome::Slashed => "slashed",
        SlotOutcome::Released => "released",
    }
}

fn results_error(e: results::ResultsError) -> CliError {
    match e {
        results::ResultsError::Store(s) => store_error(s),
        other => CliError::new(exit::VERIFY_FAILED, other.to_string()),
    }
}
