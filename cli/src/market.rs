//! `concord market init|show|update` and `concord airdrop`: the market and staking configs
//! (created and changed by the admin), and the local faucet.
use clap::{Args, Subcommand};
use serde_json::json;

use super::context::{parse_pubkey, ChainArgs, Ctx};
use super::{emit, exit, CliError, OutputFormat, Status};
use concord_sdk::chain::{ix, pda, MarketParams};

/// Market parameters; unset values keep the current ones (or a sensible default at init).
#[derive(Args, Debug, Clone, Default)]
pub struct ParamArgs {
    /// Protocol fee, in basis points of each paid replica's price (at most 1000).
    #[arg(long)]
    pub fee_bps: Option<u16>,
    /// Fewest replicas a job may ask for (at least 3).
    #[arg(long)]
    pub min_replicas: Option<u8>,
    #[arg(long)]
    pub max_replicas: Option<u8>,
    /// Lowest price per replica, in token base units.
    #[arg(long)]
    pub min_price: Option<u64>,
    /// Highest price per replica, in token base units.
    #[arg(long)]
    pub max_price: Option<u64>,
    /// Lowest collateral per replica, in token base units.
    #[arg(long)]
    pub min_collateral: Option<u64>,
    /// Shortest claim / execution / reveal window, in seconds.
    #[arg(long)]
    pub min_window: Option<i64>,
    /// Longest window, in seconds (at most 7 days).
    #[arg(long)]
    pub max_window: Option<i64>,
    /// Seconds a draw round's providers have to take their slots before anyone may draw
    /// replacements (1 to 120).
    #[arg(long)]
    pub take_window: Option<i64>,
    /// Probability of a hidden audit per job, in basis points (0 to 10000; 0 turns audits
    /// off). Jobs with audits escrow one more price as the auditor's pay.
    #[arg(long)]
    pub audit_bps: Option<u16>,
}

impl ParamArgs {
    fn apply(&self, p: MarketParams) -> MarketParams {
        MarketParams {
            fee_bps: self.fee_bps.unwrap_or(p.fee_bps),
            min_replicas: self.min_replicas.unwrap_or(p.min_replicas),
            max_replicas: self.max_replicas.unwrap_or(p.max_replicas),
            min_price_per_replica: self.min_price.unwrap_or(p.min_price_per_replica),
            max_price_per_replica: self.max_price.unwrap_or(p.max_price_per_replica),
            min_collateral_per_replica: self.min_collateral.unwrap_or(p.min_collateral_per_replica),
            min_window: self.min_window.unwrap_or(p.min_window),
            max_window: self.max_window.unwrap_or(p.max_window),
            take_window: self.take_window.unwrap_or(p.take_window),
            audit_bps: self.audit_bps.unwrap_or(p.audit_bps),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum MarketCommand {
    /// Create the staking and market configs (the signer becomes admin of both).
    Init {
        /// Payment and stake mint.
        #[arg(long)]
        mint: String,
        /// Treasury token account (default: the admin's associated token account).
        #[arg(long)]
        treasury: Option<String>,
        /// Minimum provider stake, in base units.
        #[arg(long, default_value_t = concord_staking::ConfigParams::DEFAULT.min_stake)]
        min_stake: u64,
        /// Unbonding period in seconds.
        #[arg(long, default_value_t = concord_staking::ConfigParams::DEFAULT.unbonding_period)]
        unbonding_period: i64,
        /// Accept a mint with a freeze authority, declaring that authority trusted: it could
        /// freeze every vault and stop every exit (recorded in the staking config).
        #[arg(long)]
        trust_freeze_authority: bool,
        /// Slots per draw epoch: stake changes count in the draws from the next epoch on.
        #[arg(long, default_value_t = concord_market::DEFAULT_DRAW_EPOCH_SLOTS)]
        draw_epoch_slots: u64,
        #[command(flatten)]
        params: ParamArgs,
    },
    /// Show both configs.
    Show,
    /// Change market parameters, the treasury, or pause / resume (admin only).
    Update {
        #[command(flatten)]
        params: ParamArgs,
        /// New treasury token account.
        #[arg(long)]
        treasury: Option<String>,
        /// Stop new jobs and claims.
        #[arg(long, conflicts_with = "resume")]
        pause: bool,
        /// Allow new jobs and claims again.
        #[arg(long)]
        resume: bool,
    },
    /// Move the collected fees from the market's fee vault to the treasury (admin only).
    WithdrawFees,
}

pub async fn run(
    cmd: MarketCommand,
    args: &ChainArgs,
    output: OutputFormat,
) -> Result<Status, CliError> {
    let ctx = Ctx::new(args)?;
    match cmd {
        MarketCommand::Init {
            mint,
            treasury,
            min_stake,
            unbonding_period,
            trust_freeze_authority,
            draw_epoch_slots,
            params,
        } => {
            let mint = parse_pubkey(&mint, "mint")?;
            let token_program = ctx
                .chain
                .rpc
                .get_account(&mint)
                .await
                .map_err(|_| CliError::new(exit::NOT_FOUND, format!("mint {mint} does not exist")))?
                .owner;
            let me = ctx.me()?;
            let mut ixs = Vec::new();
            let treasury = match treasury {
                Some(t) => parse_pubkey(&t, "treasury")?,
                None => {
                    ixs.push(ix::create_associated_token_idempotent(
                        &me,
                        &me,
                        &mint,
                        &token_program,
                    ));
                    pda::associated_token(&me, &mint, &token_program)
                }
            };
            let staking = concord_staking::ConfigParams {
                min_stake,
                unbonding_period,
            };
            ixs.push(ix::initialize_staking(
                &me,
                &mint,
                staking,
                pda::market_authority(),
                trust_freeze_authority,
            ));
            let sender = ctx.sender()?;
            sender.send(&ixs, &[]).await?;
            let (sig, draw_set) = concord_sdk::chain::draws::initialize_market(
                sender,
                &me,
                &mint,
                &token_program,
                &treasury,
                params.apply(MarketParams::DEFAULT),
                draw_epoch_slots,
            )
            .await?;
            emit(
                output,
                json!({"signature": sig.to_string(), "treasury": treasury.to_string(), "draw_set": draw_set.to_string()}),
                || {
                    format!("market initialized (treasury {treasury}, draw set {draw_set}); signature {sig}")
                },
            );
        }
        MarketCommand::Show => {
            let m = ctx.chain.market_config().await?;
            let s = ctx.chain.staking_config().await?;
            let p = m.params;
            let j = json!({
                "market_program": concord_market::ID.to_string(),
                "staking_program": concord_staking::ID.to_string(),
                "admin": m.admin.to_string(),
                "treasury": m.treasury.to_string(),
                "fee_vault": pda::fee_vault().to_string(),
                "payment_mint": m.payment_mint.to_string(),
                "freeze_authority_trusted": s.freeze_authority_trusted,
                "paused": m.paused,
                "fee_bps": p.fee_bps,
                "replicas": [p.min_replicas, p.max_replicas],
                "price_per_replica": [p.min_price_per_replica, p.max_price_per_replica],
                "min_collateral_per_replica": p.min_collateral_per_replica,
                "window_seconds": [p.min_window, p.max_window],
                "take_window_seconds": p.take_window,
                "audit_bps": p.audit_bps,
                "draw_set": m.draw_set.to_string(),
                "min_stake": s.min_stake,
                "unbonding_period": s.unbonding_period,
            });
            emit(output, j, || {
                format!(
                    "market {}\n  admin         {}\n  payment mint  {}{}\n  treasury      {} (fees collect in {})\n  paused        {}\n  fee           {} bps (slashed collateral is burned)\n  replicas      {}..={}\n  price         {}..={} per replica\n  collateral    >= {} per replica\n  windows       {}..={} s\n  take window   {} s (draw set {})\n  audits        {} bps of jobs\n  min stake     {}\n  unbonding     {} s",
                    concord_market::ID, m.admin, m.payment_mint,
                    if s.freeze_authority_trusted { " (freeze authority declared trusted)" } else { "" },
                    m.treasury, pda::fee_vault(), m.paused, p.fee_bps,
                    p.min_replicas, p.max_replicas, p.min_price_per_replica, p.max_price_per_replica,
                    p.min_collateral_per_replica, p.min_window, p.max_window, p.take_window, m.draw_set, p.audit_bps, s.min_stake, s.unbonding_period
                )
            });
        }
        MarketCommand::Update {
            params,
            treasury,
            pause,
            resume,
        } => {
            let m = ctx.chain.market_config().await?;
            let me = ctx.me()?;
            let treasury = treasury
                .map(|t| parse_pubkey(&t, "treasury"))
                .transpose()?
                .unwrap_or(m.treasury);
            let mut ixs = vec![ix::update_market(&me, &treasury, params.apply(m.params))];
            if pause || resume {
                ixs.push(ix::set_paused(&me, pause));
            }
            let sig = ctx.sender()?.send(&ixs, &[]).await?;
            super::emit_signed(output, "market updated", &sig);
        }
        MarketCommand::WithdrawFees => {
            let m = ctx.chain.market_config().await?;
            let mint = ctx.chain.payment_mint().await?;
            let me = ctx.me()?;
            let ix_ = ix::withdraw_fees(&me, &m.treasury, &mint.address, &mint.token_program);
            let sig = ctx.sender()?.send(&[ix_], &[]).await?;
            super::emit_signed(output, &format!("fees moved to {}", m.treasury), &sig);
        }
    }
    Ok(Status::Ok)
}
