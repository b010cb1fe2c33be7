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
    #[msg("The mint has a freeze authority and the deployer did not declare it trusted")]
    MintFreezeAuthority,
    #[msg("The mint has a transfer fee: vaults would receive less than they are credited")]
    MintTransferFee,
    #[msg("The mint has a transfer hook: its program could stop every transfer out of a vault")]
    MintTransferHook,
    #[msg("The mint has a permanent delegate: it could move or burn every vault's tokens")]
    MintPermanentDelegate,
    #[msg("The mint is non-transferable")]
    MintNonTransferable,
    #[msg("The mint sets a default account state: new vaults could start frozen")]
    MintDefaultAccountState,
    #[msg("The mint is pausable: its authority could stop every exit")]
    MintPausable,
    #[msg("The mint has confidential transfers: balances would leave the programs' view")]
    MintConfidential,
    #[msg("The mint has an extension the programs do not accept")]
    MintExtensionUnsupported,
    #[msg("The unbonding period is longer than the provider accepts")]
    UnbondingPeriodAboveBound,
}
