//! `concord provider register|update|stake|unbond|withdraw|show|list`: a provider's staking
//! account. Amounts are in whole tokens of the payment (= stake) mint.
use clap::Subcommand;
use serde_json::json;

use super::context::{parse_pubkey, ChainArgs, Ctx, Mint};
use super::{emit, exit, CliError, OutputFormat, Status};
use concord_sdk::chain::{ix, pda, HardwareProfile, Provider};

#[derive(clap::Args, Debug, Clone, Default)]
pub struct HardwareArgs {
    /// GPU name (default with --detect: the first Vulkan adapter's).
    #[arg(long)]
    pub gpu: Option<String>,
    /// GPU memory in MiB.
    #[arg(long)]
    pub memory_mib: Option<u32>,
    /// Backend: vulkan, metal, dx12, gl, webgpu.
    #[arg(long)]
    pub backend: Option<String>,
    /// Feature bits the adapter supports.
    #[arg(long)]
    pub features: Option<u64>,
    /// Fill the profile from this machine's first GPU adapter.
    #[arg(long)]
    pub detect: bool,
}

fn backend_bit(name: &str) -> Result<u8, CliError> {
    concord_staking::backend::from_name(name).ok_or_else(|| {
        CliError::msg(format!(
            "unknown backend `{}` (vulkan, metal, dx12, gl, webgpu)",
            name.to_ascii_lowercase()
        ))
    })
}

impl HardwareArgs {
    fn profile(&self, base: Option<HardwareProfile>) -> Result<Option<HardwareProfile>, CliError> {
        let mut hw = base.clone().unwrap_or_default();
        let mut changed = base.is_none();
        if self.detect {
            let adapter = concord_compute::executor::list_adapters()
                .into_iter()
                .next()
                .ok_or_else(|| CliError::msg("no GPU adapter found on this machine (--detect)"))?;
            hw = HardwareProfile::from_adapter(
                &adapter.name,
                hw.memory_mib,
                backend_bit(adapter.backend.name())?,
                hw.features,
            );
            changed = true;
        }
        if let Some(g) = &self.gpu {
            hw.gpu_name = g.clone();
            changed = true;
        }
        if let Some(m) = self.memory_mib {
            hw.memory_mib = m;
            changed = true;
        }
        if let Some(b) = &self.backend {
            hw.backend = backend_bit(b)?;
            changed = true;
        }
        if let Some(f) = self.features {
            hw.features = f;
            changed = true;
        }
        if hw.backend == 0 {
            hw.backend = concord_staking::backend::VULKAN;
        }
        Ok(changed.then_some(hw))
    }
}

#[derive(Subcommand, Debug)]
pub enum ProviderCommand {
    /// Register the keypair as a provider with its GPU profile.
    Register {
        #[command(flatten)]
        hardware: HardwareArgs,
        /// Metadata URI (contact, terms).
        #[arg(long, default_value = "")]
        uri: String,
    },
    /// Change the profile, metadata URI, or whether new jobs are accepted.
    Update {
        #[command(flatten)]
        hardware: HardwareArgs,
        #[arg(long)]
        uri: Option<String>,
        /// Accept new jobs: true or false.
        #[arg(long)]
        accepting: Option<bool>,
    },
    /// Deposit stake from the keypair's token account.
    Stake { amount: String },
    /// Start unbonding free stake (withdrawable after the unbonding period).
    Unbond { amount: String },
    /// Withdraw unbonded stake once the unbonding period has passed.
    Withdraw,
    /// Show a provider (default: the keypair's).
    Show { authority: Option<String> },
    /// List registered providers.
    List {
        /// Only providers accepting new jobs.
        #[arg(long)]
        accepting: bool,
    },
}

pub fn provider_json(authority: &str, p: &Provider, mint: &Mint) -> serde_json::Value {
    json!({
        "authority": authority,
        "gpu": p.hardware.gpu_name,
        "memory_mib": p.hardware.memory_mib,
        "backend": p.hardware.backend,
        "features": p.hardware.features,
        "accepting_jobs": p.accepting_jobs,
        "staked": mint.format(p.staked),
        "locked": mint.format(p.locked),
        "unbonding": mint.format(p.unbonding),
        "unbonding_release_at": p.unbonding_release_at,
        "jobs_claimed": p.stats.jobs_claimed,
        "jobs_paid": p.stats.jobs_paid,
        "jobs_slashed": p.stats.jobs_slashed,
        "earned": mint.format(p.stats.earned),
        "slashed": mint.format(p.stats.slashed),
        "metadata_uri": p.metadata_uri,
    })
}

pub async fn run(
    cmd: ProviderCommand,
    args: &ChainArgs,
    output: OutputFormat,
) -> Result<Status, CliError> {
    let ctx = Ctx::new(args)?;
    let mint = ctx.mint().await?;
    let done = |what: String, sig: solana_sdk::signature::Signature| {
        super::emit_signed(output, &what, &sig)
    };
    match cmd {
        ProviderCommand::Register { hardware, uri } => {
            let me = ctx.me()?;
            let hw = hardware.profile(None)?.expect("a new profile");
            let draw_set = ctx.chain.market_config().await?.draw_set;
            let sig = ctx
                .sender()?
                .send(
                    &[
                        ix::register_provider(
                            &me,
                            &mint.address,
                            &mint.token_program,
                            hw.clone(),
                            &uri,
                        ),
                        ix::join_draws(&me, &draw_set),
                    ],
                    &[],
                )
                .await?;
            done(
                format!("registered {me} ({}) and joined the draws", hw.gpu_name),
                sig,
            );
        }
        ProviderCommand::Update {
            hardware,
            uri,
            accepting,
        } => {
            let me = ctx.me()?;
            let current = ctx.chain.provider(&me).await?;
            let update = concord_staking::instructions::ProviderUpdate {
                hardware: hardware.profile(Some(current.hardware))?,
                metadata_uri: uri,
                accepting_jobs: accepting,
            };
            let mut ixs = vec![ix::update_provider(&me, update)];
            ixs.extend(sync_draws(&ctx, &me).await?);
            let sig = ctx.sender()?.send(&ixs, &[]).await?;
            done("provider updated".into(), sig);
        }
        ProviderCommand::Stake { amount } => {
            let me = ctx.me()?;
            let units = mint.parse_units(&amount)?;
            let source = mint.account_of(&me);
            let balance = ctx.chain.token_balance(&source).await?;
            if balance < units {
                return Err(CliError::new(
                    exit::REFUSED,
                    format!(
                        "insufficient funds: {} holds {} tokens, {amount} needed",
                        source,
                        mint.format(balance)
                    ),
                ));
            }
            let ixs = [ix::deposit_stake(
                &me,
                &source,
                &mint.address,
                &mint.token_program,
                units,
            )]
            .into_iter()
            .chain(sync_draws(&ctx, &me).await?)
            .collect::<Vec<_>>();
            let sig = ctx.sender()?.send(&ixs, &[]).await?;
            done(format!("staked {amount}"), sig);
        }
        ProviderCommand::Unbond { amount } => {
            let me = ctx.me()?;
            let units = mint.parse_units(&amount)?;
            // The period read now is the longest accepted: a raise before this lands fails.
            let period = ctx.chain.staking_config().await?.unbonding_period;
            let sig = ctx
                .sender()?
                .send(
                    &[ix::request_unbond(&me, units, period)]
                        .into_iter()
                        .chain(sync_draws(&ctx, &me).await?)
                        .collect::<Vec<_>>(),
                    &[],
                )
                .await?;
            let p = ctx.chain.provider(&me).await?;
            done(
                format!(
                    "unbonding {amount}, withdrawable from unix time {}",
                    p.unbonding_release_at
                ),
                sig,
            );
        }
        ProviderCommand::Withdraw => {
            let me = ctx.me()?;
            let dest = mint.account_of(&me);
            let ixs = [
                ix::create_associated_token_idempotent(
                    &me,
                    &me,
                    &mint.address,
                    &mint.token_program,
                ),
                ix::withdraw_stake(&me, &dest, &mint.address, &mint.token_program),
            ];
            let sig = ctx.sender()?.send(&ixs, &[]).await?;
            done("withdrew the unbonded stake".into(), sig);
        }
        ProviderCommand::Show { authority } => {
            let who = authority
                .map(|a| parse_pubkey(&a, "provider"))
                .transpose()?
                .map_or_else(|| ctx.me(), Ok)?;
            let p = ctx.chain.provider(&who).await?;
            let j = provider_json(&who.to_string(), &p, &mint);
            emit(output, j, || {
                format!(
                    "provider {who}\n  account       {}\n  gpu           {} ({} MiB, backend bits {:#x}, features {:#x})\n  accepting     {}\n  staked        {} (locked {}, unbonding {})\n  jobs          {} claimed, {} paid, {} slashed\n  earned        {}\n  slashed       {}",
                    pda::provider(&who), p.hardware.gpu_name, p.hardware.memory_mib, p.hardware.backend, p.hardware.features,
                    p.accepting_jobs, mint.format(p.staked), mint.format(p.locked), mint.format(p.unbonding),
                    p.stats.jobs_claimed, p.stats.jobs_paid, p.stats.jobs_slashed, mint.format(p.stats.earned), mint.format(p.stats.slashed)
                )
            });
        }
        ProviderCommand::List { accepting } => {
            let list = ctx.chain.providers(accepting).await?;
            let j: Vec<_> = list
                .iter()
                .map(|(_, p)| provider_json(&p.authority.to_string(), p, &mint))
                .collect();
            emit(output, json!(j), || {
                let mut s = format!(
                    "{:<44}  {:<28}  {:>10}  {:>10}  {}",
                    "authority", "gpu", "staked", "locked", "accepting"
                );
                for (_, p) in &list {
                    s.push_str(&format!(
                        "\n{:<44}  {:<28}  {:>10}  {:>10}  {}",
                        p.authority.to_string(),
                        p.hardware.gpu_name.chars().take(28).collect::<String>(),
                        mint.format(p.staked),
                        mint.format(p.locked),
                        p.accepting_jobs
                    ));
                }
                s
            });
        }
    }
    Ok(Status::Ok)
}

/// The instruction that brings `me`'s draw weight up to date after its stake or state
/// changes in the same transaction (none before it joined the draws; `join_draws` otherwise).
async fn sync_draws(
    ctx: &Ctx,
    me: &solana_sdk::pubkey::Pubkey,
) -> Result<Vec<solana_sdk::instruction::Instruction>, CliError> {
    let draw_set = ctx.chain.market_config().await?.draw_set;
    Ok(match ctx.chain.draw_entry(me).await? {
        Some(_) => vec![ix::sync_draw_weight(me, &draw_set)],
        None => vec![ix::join_draws(me, &draw_set)],
    })
}
