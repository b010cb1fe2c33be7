//! Named errors of the staking program.
use anchor_lang::prelude::*;

#[error_code]
pub enum StakingError {
    #[msg("Signer is not the staking admin")]
    Unauthorized,
    #[msg("Only the market program's authority may lock, unlock or slash")]
    UnauthorizedMarket,
    #[msg("A string is longer than its bound")]
    StringTooLong,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Not enough free (unlocked, not unbonding) stake")]
    InsufficientFreeStake,
    #[msg("Provider is not accepting jobs or is below the minimum stake")]
    ProviderInactive,
    #[msg("The unbonding period has not passed")]
    UnbondingNotElapsed,
    #[msg("Nothing is unbonding")]
    NothingToWithdraw,
    #[msg("Provider still has stake, locked collateral or unbonding tokens")]
    StakeRemaining,
    #[msg("Slash amount exceeds the locked collateral")]
    SlashExceedsLocked,
    #[msg("Unlock amount exceeds the locked collateral")]
    UnlockExceedsLocked,
    #[msg("Invalid config parameters")]
    InvalidConfig,
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("A provider account invariant does not hold")]
    InvariantViolated,
}
