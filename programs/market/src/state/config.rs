//! The market config (one per deployment): admin, treasury, payment mint, fee and the bounds
//! every job must respect, and the pause flag. Read by the hot instructions, written by none.
use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::state::MAX_REPLICAS;

/// Seed of the config PDA.
pub const CONFIG_SEED: &[u8] = b"config";
/// Seed of the market authority PDA, the only signer the staking program accepts for
/// lock / unlock / slash.
pub const AUTHORITY_SEED: &[u8] = b"authority";
/// Basis points in one whole.
pub const BPS_DENOMINATOR: u64 = 10_000;

#[account]
#[derive(InitSpace, Debug)]
pub struct MarketConfig {
    pub admin: Pubkey,
    /// Token account (payment mint) that receives fees and the treasury share of slashes.
    pub treasury: Pubkey,
    pub payment_mint: Pubkey,
    pub params: MarketParams,
    pub paused: bool,
    pub bump: u8,
    pub authority_bump: u8,
}

/// The admin-tunable parameters of the market.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct MarketParams {
    /// Protocol fee, taken out of each paid replica's price.
    pub fee_bps: u16,
    /// Share of slashed collateral that goes to the treasury; the rest compensates the buyer.
    pub slash_treasury_bps: u16,
    pub min_replicas: u8,
    pub max_replicas: u8,
    pub min_price_per_replica: u64,
    pub max_price_per_replica: u64,
    pub min_collateral_per_replica: u64,
    /// Bounds, in seconds, on each of a job's claim, execution and reveal windows.
    pub min_window: i64,
    pub max_window: i64,
}

impl MarketParams {
    /// The defaults `concord market init` and the local chain start from.
    pub const DEFAULT: MarketParams = MarketParams {
        fee_bps: 500,
        slash_treasury_bps: 2_000,
        min_replicas: 1,
        max_replicas: MAX_REPLICAS as u8,
        min_price_per_replica: 1,
        max_price_per_replica: u64::MAX / 8,
        min_collateral_per_replica: 1,
        min_window: 10,
        max_window: 7 * 24 * 3600,
    };

    pub fn validate(&self) -> Result<()> {
        let ok = u64::from(self.fee_bps) <= BPS_DENOMINATOR
            && u64::from(self.slash_treasury_bps) <= BPS_DENOMINATOR
            && self.min_replicas >= 1
            && self.min_replicas <= self.max_replicas
            && usize::from(self.max_replicas) <= MAX_REPLICAS
            && self.min_price_per_replica <= self.max_price_per_replica
            && self.min_window > 0
            && self.min_window <= self.max_window;
        require!(ok, MarketError::InvalidParams);
        Ok(())
    }
}
