//! `concord job ...`: buyers submit jobs (manifest built from WGSL and input files or a library
//! kernel, blobs uploaded, payment escrowed), follow them, cancel or close them, and download
//! results verified against the hash the chain agreed on. Providers can serve a job by hand
//! with the provider engine: `claim`, `execute` (run the kernel, commit), `reveal`, and
//! `publish` the outputs once the job settled with the slot paid; anyone can `settle`. One
//! file per command.
use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use clap::Subcommand;
use serde_json::json;

use crate::context::{parse_pubkey, ChainArgs, Ctx, Mint};
use crate::{CliError, OutputFormat, Status};
use concord_protocol::Hash32;
use concord_sdk::chain::{Job as JobAccount, JobState, SlotStatus};

mod cancel;
mod claim;
mod close;
mod execute;
mod list;
mod publish;
pub(crate) mod result;
mod reveal;
mod settle;
mod status;
pub(crate) mod submit;
pub(crate) mod wait;

#[derive(Subcommand, Debug)]
pub enum JobCommand {
    /// Build a job, upload its blobs, escrow the payment and create it on chain.
    Submit(Box<submit::SubmitArgs>),
    /// Show a job.
    Status { job: String },
    /// Wait until a job reaches a state (default: any terminal state).
    Wait {
        job: String,
        #[arg(long, value_enum, default_value_t = wait::WaitFor::Terminal)]
        until: wait::WaitFor,
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
    /// Cancel your job while it is still open: providers that claimed a slot are paid their
    /// price less the fee, the rest is refunded.
    Cancel { job: String },
    /// List jobs.
    List {
        /// Only jobs you created.
        #[arg(long)]
        mine: bool,
        /// Only jobs in this state: open, running, settled, cancelled, expired.
        #[arg(long, value_parser = parse_state)]
        state: Option<JobState>,
    },
    /// Close a finished job: its fees move to the market's fee vault and the rent returns to
    /// the buyer.
    Close { job: String },
    /// Provider: take a slot of an open job you were drawn for (locks collateral).
    Claim { job: String },
    /// Anyone: begin a new draw round for an open job's free slots, once the current round
    /// had its take window (drawn providers that did not take their slots are replaced).
    Redraw { job: String },
    /// Provider: run a claimed job, save its outputs, and commit the result hash.
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
    /// Provider: publish the saved outputs to the job's store, once the job settled with your
    /// slot paid.
    Publish {
        job: String,
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Anyone: settle a job once nothing can change (every slot revealed, every commitment
    /// revealed after the execution deadline, or the reveal window closed); or refund a job
    /// whose claim window closed unfilled. A provider paid here also publishes its saved
    /// outputs.
    Settle {
        job: String,
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
}

/// `--state`: a job state by its name (`JobState::name`).
fn parse_state(s: &str) -> Result<JobState, String> {
    JobState::from_name(s).ok_or_else(|| {
        let names: Vec<_> = JobState::ALL.iter().map(|s| s.name()).collect();
        format!("`{s}` is not a job state ({})", names.join(", "))
    })
}

/// Accepts a job address.
fn job_address(s: &str) -> Result<Pubkey, CliError> {
    parse_pubkey(s, "job")
}

fn job_json(address: &Pubkey, j: &JobAccount, mint: &Mint) -> serde_json::Value {
    let slots: Vec<_> = j.filled_slots()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "role": j.role_name(i),
                "provider": s.provider.to_string(),
                "status": s.status.name(),
                "outcome": s.outcome.name(),
                "result_hash": (s.status == SlotStatus::Revealed).then(|| Hash32(s.result_hash).to_hex()),
            })
        })
        .collect();
    json!({
        "job": address.to_string(),
        "buyer": j.buyer.to_string(),
        "job_id": j.job_id,
        "state": j.state.name(),
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
        "draw_round": j.draw_round,
        "seed_slot": j.seed_slot,
        "exec_deadline": j.exec_deadline,
        "reveal_deadline": j.reveal_deadline,
        "agreed_hash": j.agreed_hash.map(|h| Hash32(h).to_hex()),
        "referees": j.referees,
        "dispute": j.dispute_name(),
        "audit_bps": j.audit_bps,
        "audit": j.audit_name(),
        "slots": slots,
    })
}

fn job_text(address: &Pubkey, j: &JobAccount, mint: &Mint) -> String {
    let mut s = format!(
        "job {address}\n  state         {}\n  buyer         {} (id {})\n  manifest      {}\n  replicas      {} (quorum {}), {} claimed, {} committed, {} revealed\n  draw          round {} seeded by slot {}\n  price         {} per replica, collateral {}\n  agreed hash   {}",
        j.state.name(), j.buyer, j.job_id, Hash32(j.manifest_hash).to_hex(), j.replicas, j.quorum, j.filled,
        j.committed, j.revealed, j.draw_round, j.seed_slot, mint.format(j.price_per_replica), mint.format(j.collateral_per_replica),
        j.agreed_hash.map_or("-".to_string(), |h| Hash32(h).to_hex())
    );
    if j.audit_bps > 0 {
        s.push_str(&format!(
            "\n  audit         {} ({} bps of jobs are audited)",
            j.audit_name(),
            j.audit_bps
        ));
    }
    if j.disputed() {
        s.push_str(&format!(
            "\n  dispute       {} ({} referees; a verdict needs {} reveals, all agreeing; claims until {})",
            j.dispute_name(),
            j.referees,
            concord_market::REFEREE_QUORUM,
            j.claim_deadline
        ));
    }
    for (i, slot) in j.filled_slots().iter().enumerate() {
        let role = match j.role_name(i) {
            "replica" => "slot   ",
            other => other,
        };
        let hash = if slot.status == SlotStatus::Revealed {
            Hash32(slot.result_hash).to_hex()[..16].to_string()
        } else {
            "-".into()
        };
        s.push_str(&format!(
            "\n  {role}       {} {} {} {}",
            slot.provider,
            slot.status.name(),
            slot.outcome.name(),
            hash
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

/// The commitment record saved at `job execute` (result hash and store), if readable.
fn read_saved(path: &std::path::Path) -> Option<serde_json::Value> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
}

/// The file a job's outputs wait in between `job execute` and `job publish`.
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
    let mint = ctx.mint().await?;
    match cmd {
        JobCommand::Submit(a) => submit::run(&ctx, &mint, &a, output).await?,
        JobCommand::Status { job } => status::run(&ctx, &mint, &job, output).await?,
        JobCommand::Wait {
            job,
            until,
            timeout,
        } => wait::run(&ctx, &mint, &job, until, timeout, output).await?,
        JobCommand::Result { job, store, out } => {
            result::run(&ctx, &job, store, out, output).await?
        }
        JobCommand::Cancel { job } => cancel::run(&ctx, &mint, &job, output).await?,
        JobCommand::List { mine, state } => list::run(&ctx, &mint, mine, state, output).await?,
        JobCommand::Close { job } => close::run(&ctx, &mint, &job, output).await?,
        JobCommand::Claim { job } => claim::run(&ctx, &job, output).await?,
        JobCommand::Redraw { job } => claim::redraw(&ctx, &job, output).await?,
        JobCommand::Execute {
            job,
            store,
            backend,
            state_dir: dir,
            corrupt,
        } => execute::run(&ctx, &job, store, backend, dir, corrupt, output).await?,
        JobCommand::Reveal {
            job,
            state_dir: dir,
        } => reveal::run(&ctx, &job, dir, output).await?,
        JobCommand::Publish {
            job,
            state_dir: dir,
        } => publish::run(&ctx, &job, dir, output).await?,
        JobCommand::Settle {
            job,
            state_dir: dir,
        } => settle::run(&ctx, &mint, &job, dir, output).await?,
    }
    Ok(Status::Ok)
}

/// Reports a transaction that did `what`.
fn signed(output: OutputFormat, what: String, sig: solana_sdk::signature::Signature) {
    crate::emit_signed(output, &what, &sig)
}
