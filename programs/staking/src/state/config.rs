//! The staking config (one per deployment): stake mint, minimum stake, unbonding period and the
//! market authority PDA that alone may lock, unlock and slash collateral.
use anchor_lang::prelude::*;

use crate::errors::StakingError;

/// Seed of the config PDA.
pub const CONFIG_SEED: &[u8] = b"config";
/// Longest unbonding period accepted (one year).
pub const MAX_UNBONDING_PERIOD: i64 = 365 * 24 * 60 * 60;

#[account]
#[derive(InitSpace, Debug)]
pub struct StakingConfig {
    pub admin: Pubkey,
    pub stake_mint: Pubkey,
    /// The market program's authority PDA (`[b"authority"]` of the market program).
    pub market_authority: Pubkey,
    pub min_stake: u64,
    /// Seconds between `request_unbond` and `withdraw_stake`.
    pub unbonding_period: i64,
    pub bump: u8,
    /// The deployer declared the stake mint's freeze authority trusted (it can freeze every
    /// vault); false when the mint has none. See `mint_policy`.
    pub freeze_authority_trusted: bool,
}

/// The admin-tunable parameters.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigParams {
    pub min_stake: u64,
    pub unbonding_period: i64,
}

impl ConfigParams {
    /// The defaults `concord market init` proposes (a week of unbonding).
    pub const DEFAULT: ConfigParams = ConfigParams {
        min_stake: 1_000_000,
        unbonding_period: 7 * 24 * 3600,
    };

    pub fn validate(&self) -> Result<()> {
        require!(
            self.min_stake > 0
                && self.unbonding_period >= 0
                && self.unbonding_period <= MAX_UNBONDING_PERIOD,
            StakingError::InvalidConfig
        );
        Ok(())
    }
}
