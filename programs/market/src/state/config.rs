//! The market config (one per deployment): admin, treasury, payment mint, fee vault, fee and
//! the bounds every job must respect (themselves under hard caps no admin can lift), and the
//! pause flag. Read by the hot instructions, written by none.
use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::state::MAX_REPLICAS;

/// Seed of the config PDA.
pub const CONFIG_SEED: &[u8] = b"config";
/// Seed of the market authority PDA, the only signer the staking program accepts for
/// lock / unlock / slash.
pub const AUTHORITY_SEED: &[u8] = b"authority";
/// Seed of every Anchor program's event authority PDA (the `emit_cpi!` signer), the market's
/// and the staking program's.
pub const EVENT_AUTHORITY_SEED: &[u8] = b"__event_authority";
/// Seed of the fee vault PDA: a token account (payment mint) whose authority is the config PDA.
/// `close_job` moves a job's fees there; only `withdraw_fees` moves them on, to the treasury.
pub const FEE_VAULT_SEED: &[u8] = b"fees";
/// Basis points in one whole.
pub const BPS_DENOMINATOR: u64 = 10_000;
/// Hard cap on the protocol fee (10 %), whatever the admin sets.
pub const MAX_FEE_BPS: u16 = 1_000;
/// Hard cap on each of a job's claim, execution and reveal windows (7 days), whatever the admin
/// sets: the longest any collateral or escrow can wait on one phase.
pub const MAX_WINDOW: i64 = 7 * 24 * 3600;
/// Fewest replicas a market may allow: with quorum more than half and less than all of the
/// replicas, 3 is the smallest job in which a liar can be outvoted and slashed.
pub const MIN_REPLICAS: u8 = 3;
/// Hard cap on the take window (2 minutes): a draw round's seed must still be in the SlotHashes
/// window (512 slots, about 3.4 minutes) when the round is redrawn.
pub const MAX_TAKE_WINDOW: i64 = 120;

#[account]
#[derive(InitSpace, Debug)]
pub struct MarketConfig {
    pub admin: Pubkey,
    /// Token account (payment mint) that `withdraw_fees` sends the fee vault's balance to.
    pub treasury: Pubkey,
    pub payment_mint: Pubkey,
    pub params: MarketParams,
    pub paused: bool,
    pub bump: u8,
    pub authority_bump: u8,
    pub fee_vault_bump: u8,
    /// The draw set (a zero-copy account of this program, fixed at initialization).
    pub draw_set: Pubkey,
}

/// The admin-tunable parameters of the market.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct MarketParams {
    /// Protocol fee, taken out of each paid replica's price; at most [`MAX_FEE_BPS`], and a job
    /// only accepts it up to the buyer's `max_fee_bps`.
    pub fee_bps: u16,
    /// At least [`MIN_REPLICAS`].
    pub min_replicas: u8,
    pub max_replicas: u8,
    pub min_price_per_replica: u64,
    pub max_price_per_replica: u64,
    pub min_collateral_per_replica: u64,
    /// Bounds, in seconds, on each of a job's claim, execution and reveal windows; the upper
    /// bound at most [`MAX_WINDOW`].
    pub min_window: i64,
    pub max_window: i64,
    /// Seconds a draw round's providers have to take their slots before anyone may begin a
    /// new round for the slots still free; 1 to [`MAX_TAKE_WINDOW`].
    pub take_window: i64,
    /// Probability, in basis points (at most [`BPS_DENOMINATOR`]), that a job gets a hidden
    /// audit: a further replica drawn after its replicas committed. Fixed on each job at
    /// creation; a job with audits escrows one more price as the auditor's pay (refunded when
    /// no audit is drawn). The default, 70 %, is the least that makes lying a loss for a
    /// provider holding under half the stake even when it holds every replica of a job
    /// (`docs/security.md`, "The simulation"): caught only by an honest auditor (probability
    /// q·(1 − α)), it then forfeits the r slots' pay, so lying, which saves one run, loses
    /// while q·(1 − α)·r ≥ 1, i.e. q ≥ 2/3 at α → ½, r = 3.
    pub audit_bps: u16,
}

impl MarketParams {
    /// The defaults `concord market init` and the local chain start from.
    pub const DEFAULT: MarketParams = MarketParams {
        fee_bps: 500,
        min_replicas: MIN_REPLICAS,
        max_replicas: MAX_REPLICAS as u8,
        min_price_per_replica: 1,
        max_price_per_replica: u64::MAX / 8,
        min_collateral_per_replica: 1,
        min_window: 10,
        max_window: MAX_WINDOW,
        take_window: 20,
        audit_bps: 7_000,
    };

    pub fn validate(&self) -> Result<()> {
        let ok = self.fee_bps <= MAX_FEE_BPS
            && self.min_replicas >= MIN_REPLICAS
            && self.min_replicas <= self.max_replicas
            && usize::from(self.max_replicas) <= MAX_REPLICAS
            && self.min_price_per_replica <= self.max_price_per_replica
            && self.min_window > 0
            && self.min_window <= self.max_window
            && self.max_window <= MAX_WINDOW
            && (1..=MAX_TAKE_WINDOW).contains(&self.take_window)
            && u64::from(self.audit_bps) <= BPS_DENOMINATOR;
        require!(ok, MarketError::InvalidParams);
        Ok(())
    }
}
