//! `concord job submit`: build a job (a library kernel, or WGSL with input files), refuse it if
//! invalid, check the buyer can pay, upload its blobs, escrow the payment and create it.
use std::path::PathBuf;

use clap::Args;
use concord_protocol::job::{Job, JobBuilder};
use serde_json::json;

use crate::context::{Ctx, Mint};
use crate::progress;
use crate::store::open as open_store;
use crate::{emit, exit, CliError, OutputFormat};
use concord_sdk::chain::{ix, pda};
use concord_sdk::results;

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
    #[command(flatten)]
    pub escrow: EscrowArgs,
    /// Gas budget of every invocation (`--wgsl` jobs): how many loop-body entries one
    /// invocation may run, all loops counted (at most 60000). Library kernels carry their own.
    /// `concord kernel check --gas N` shows what a kernel uses.
    #[arg(long, default_value_t = concord_protocol::DEFAULT_GAS_PER_INVOCATION)]
    pub gas_per_invocation: u32,
}

/// Where a job's blobs go and what its escrow says: shared by `job submit` and `embed`.
#[derive(Args, Debug)]
pub struct EscrowArgs {
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
    /// Highest protocol fee you accept, in basis points (default: the market's fee now, so
    /// a fee raised before your transaction lands makes it fail instead of charging more).
    #[arg(long)]
    pub max_fee_bps: Option<u16>,
    /// Minimum GPU memory of providers, in MiB.
    #[arg(long, default_value_t = 0)]
    pub min_memory_mib: u32,
    /// Maximum run time in milliseconds (the providers' safety net; the gas budget decides).
    #[arg(long, default_value_t = 60_000)]
    pub max_runtime_ms: u64,
}

/// A job created on chain.
pub struct Created {
    pub address: anchor_lang::prelude::Pubkey,
    pub job_id: u64,
    pub manifest_hash: concord_protocol::Hash32,
    /// Base units escrowed.
    pub deposit: u64,
    pub signature: solana_sdk::signature::Signature,
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
        return concord_compute::kernels::find_by_name(name)
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
    b.max_runtime_ms(a.escrow.max_runtime_ms);
    b.gas_per_invocation(a.gas_per_invocation);
    Ok(b.build())
}

pub async fn run(
    ctx: &Ctx,
    mint: &Mint,
    a: &SubmitArgs,
    output: OutputFormat,
) -> Result<(), CliError> {
    let job = build_job(a)?;
    let c = create(ctx, mint, &job, &a.escrow, output).await?;
    emit(
        output,
        json!({"job": c.address.to_string(), "job_id": c.job_id, "manifest_hash": c.manifest_hash.to_hex(), "escrowed": mint.format(c.deposit), "signature": c.signature.to_string()}),
        || {
            format!(
                "job {} created (id {}, manifest {}), {} tokens escrowed",
                c.address,
                c.job_id,
                c.manifest_hash.to_hex(),
                mint.format(c.deposit)
            )
        },
    );
    Ok(())
}

/// Checks a job, checks the buyer can pay, uploads its blobs (with progress), escrows the
/// payment and creates it on chain.
pub async fn create(
    ctx: &Ctx,
    mint: &Mint,
    job: &Job,
    a: &EscrowArgs,
    output: OutputFormat,
) -> Result<Created, CliError> {
    let me = ctx.me()?;
    // Refuse a bad job before anything is uploaded or paid.
    concord_compute::wgsl::check_job(job, &job.manifest.limits())
        .map_err(|e| CliError::msg(format!("the job is invalid: {e}")))?;
    let replicas = a.replicas;
    let quorum = a.quorum.unwrap_or(replicas / 2 + 1);
    let price = mint.parse_units(&a.price)?;
    let collateral = mint.parse_units(&a.collateral)?;
    // What create_job escrows: the replicas' prices, and an auditor's when the market audits.
    let audit_bps = ctx.chain.market_config().await?.params.audit_bps;
    let deposit = concord_market::Job::deposit_for(price, replicas, audit_bps)
        .ok_or_else(|| CliError::msg("price × replicas overflows"))?;
    let source = mint.account_of(&me);
    let balance = ctx.chain.token_balance(&source).await?;
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
    let manifest_hash = results::publish_job(&store, job, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .await?;
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
        max_fee_bps: match a.max_fee_bps {
            Some(bps) => bps,
            None => ctx.chain.market_config().await?.params.fee_bps,
        },
    };
    let sig = ctx
        .sender()?
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
        .await?;
    Ok(Created {
        address: pda::job(&me, job_id),
        job_id,
        manifest_hash,
        deposit,
        signature: sig,
    })
}
