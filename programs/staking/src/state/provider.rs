//! The provider account: stake accounting (staked, locked, unbonding), hardware profile,
//! metadata and counters. Its stake vault is a token account PDA whose authority is this account.
use anchor_lang::prelude::*;

use crate::errors::StakingError;

/// Seed of a provider PDA: `[PROVIDER_SEED, authority]`.
pub const PROVIDER_SEED: &[u8] = b"provider";
/// Seed of a stake vault PDA: `[STAKE_VAULT_SEED, provider]`.
pub const STAKE_VAULT_SEED: &[u8] = b"stake-vault";
/// Longest GPU name, in bytes.
pub const MAX_GPU_NAME_LEN: usize = 64;
/// Longest metadata URI, in bytes.
pub const MAX_METADATA_URI_LEN: usize = 200;

/// wgpu backends, as bits of `HardwareProfile::backend` and of a job's backend mask.
pub mod backend {
    pub const VULKAN: u8 = 1 << 0;
    pub const METAL: u8 = 1 << 1;
    pub const DX12: u8 = 1 << 2;
    pub const GL: u8 = 1 << 3;
    pub const BROWSER_WEBGPU: u8 = 1 << 4;
}

/// What a provider's GPU adapter offers, as reported by wgpu.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace, Default)]
pub struct HardwareProfile {
    #[max_len(MAX_GPU_NAME_LEN)]
    pub gpu_name: String,
    pub memory_mib: u32,
    /// One bit of [`backend`].
    pub backend: u8,
    /// Feature bits (the wgpu feature flags the adapter supports, as the client encodes them).
    pub features: u64,
}

impl HardwareProfile {
    pub fn validate(&self) -> Result<()> {
        require!(
            self.gpu_name.len() <= MAX_GPU_NAME_LEN,
            StakingError::StringTooLong
        );
        Ok(())
    }
}

/// Informational counters, updated by the market's CPIs.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace, Default,
)]
pub struct ProviderStats {
    pub jobs_claimed: u64,
    pub jobs_paid: u64,
    pub jobs_slashed: u64,
    pub earned: u64,
    pub slashed: u64,
}

/// Byte offset of `Provider::accepting_jobs` (after the discriminator and `authority`), for
/// `getProgramAccounts` memcmp filters. Fixed-size fields come first.
pub const PROVIDER_ACCEPTING_OFFSET: usize = 8 + 32;

#[account]
#[derive(InitSpace, Debug)]
pub struct Provider {
    pub authority: Pubkey,
    pub accepting_jobs: bool,
    pub stake_vault: Pubkey,
    /// Tokens in the vault that belong to the provider: free + locked + unbonding.
    pub staked: u64,
    /// Collateral locked by open job slots.
    pub locked: u64,
    /// Tokens waiting for `unbonding_release_at`.
    pub unbonding: u64,
    pub unbonding_release_at: i64,
    pub stats: ProviderStats,
    pub registered_at: i64,
    pub bump: u8,
    pub vault_bump: u8,
    /// Variable length (GPU name), so after every fixed-size field.
    pub hardware: HardwareProfile,
    #[max_len(MAX_METADATA_URI_LEN)]
    pub metadata_uri: String,
}

impl Provider {
    /// Stake neither locked as collateral nor unbonding.
    pub fn free_stake(&self) -> Result<u64> {
        self.staked
            .checked_sub(self.locked)
            .and_then(|v| v.checked_sub(self.unbonding))
            .ok_or_else(|| error!(StakingError::MathOverflow))
    }

    /// Stake that counts towards the minimum: everything not unbonding.
    pub fn bonded_stake(&self) -> Result<u64> {
        self.staked
            .checked_sub(self.unbonding)
            .ok_or_else(|| error!(StakingError::MathOverflow))
    }
}

pub fn validate_metadata_uri(uri: &str) -> Result<()> {
    require!(
        uri.len() <= MAX_METADATA_URI_LEN,
        StakingError::StringTooLong
    );
    Ok(())
}
