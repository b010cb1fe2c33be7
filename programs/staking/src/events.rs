//! Events of the staking program, emitted with `emit_cpi!` so they are visible to every client.
//! `provider` is always the staking `Provider` account (PDA), not the wallet; the market's
//! events name the wallet `provider_authority`.
use anchor_lang::prelude::*;

#[event]
pub struct ConfigUpdated {
    pub admin: Pubkey,
    /// Whether the deployer declared the stake mint's freeze authority trusted.
    pub freeze_authority_trusted: bool,
    pub min_stake: u64,
    pub unbonding_period: i64,
}

#[event]
pub struct ProviderRegistered {
    pub provider: Pubkey,
    pub authority: Pubkey,
}

#[event]
pub struct ProviderUpdated {
    pub provider: Pubkey,
    pub accepting_jobs: bool,
}

#[event]
pub struct StakeDeposited {
    pub provider: Pubkey,
    pub amount: u64,
    pub staked: u64,
}

#[event]
pub struct UnbondRequested {
    pub provider: Pubkey,
    pub amount: u64,
    pub release_at: i64,
}

#[event]
pub struct StakeWithdrawn {
    pub provider: Pubkey,
    pub amount: u64,
}

#[event]
pub struct ProviderClosed {
    pub provider: Pubkey,
}

#[event]
pub struct CollateralLocked {
    pub provider: Pubkey,
    pub amount: u64,
    pub locked: u64,
}

#[event]
pub struct CollateralUnlocked {
    pub provider: Pubkey,
    pub amount: u64,
    pub paid: u64,
}

/// Locked collateral moved out by a slash, to `destination` (the market sends it to the job's
/// vault, where it can only be burned).
#[event]
pub struct StakeSlashed {
    pub provider: Pubkey,
    pub amount: u64,
    pub destination: Pubkey,
}
