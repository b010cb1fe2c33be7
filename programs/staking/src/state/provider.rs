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

    /// Each backend's name and bit: the one mapping between them.
    pub const NAMES: [(&str, u8); 5] = [
        ("vulkan", VULKAN),
        ("metal", METAL),
        ("dx12", DX12),
        ("gl", GL),
        ("webgpu", BROWSER_WEBGPU),
    ];

    /// The bit of a backend name (case-insensitive; `vk`, `gles` and `browser` are aliases).
    pub fn from_name(name: &str) -> Option<u8> {
        let name = name.to_ascii_lowercase();
        let canonical = match name.as_str() {
            "vk" => "vulkan",
            "gles" => "gl",
            "browser" => "webgpu",
            other => other,
        };
        NAMES.iter().find(|(n, _)| *n == canonical).map(|(_, b)| *b)
    }

    /// The names of the bits set in `mask`, in [`NAMES`] order.
    pub fn names(mask: u8) -> Vec<&'static str> {
        NAMES
            .iter()
            .filter(|(_, b)| mask & b != 0)
            .map(|(n, _)| *n)
            .collect()
    }
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
    /// A profile for a GPU adapter: its name cut to [`MAX_GPU_NAME_LEN`] bytes on a character
    /// boundary (the program bounds bytes, not characters), its backend bit and features.
    pub fn from_adapter(gpu_name: &str, memory_mib: u32, backend: u8, features: u64) -> Self {
        HardwareProfile {
            gpu_name: truncate_utf8(gpu_name, MAX_GPU_NAME_LEN).to_string(),
            memory_mib,
            backend,
            features,
        }
    }

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

    /// The provider's weight in the market's draws: its bonded stake while it accepts jobs,
    /// nothing otherwise.
    pub fn draw_weight(&self) -> u64 {
        if self.accepting_jobs {
            self.staked.saturating_sub(self.unbonding)
        } else {
            0
        }
    }

    /// Adds `amount` deposited tokens to the stake.
    pub fn deposit(&mut self, amount: u64) -> Result<()> {
        require!(amount > 0, StakingError::ZeroAmount);
        self.staked = self
            .staked
            .checked_add(amount)
            .ok_or(StakingError::MathOverflow)?;
        Ok(())
    }

    /// Locks `amount` of free stake as a job slot's collateral; the provider must be accepting
    /// jobs with at least `min_stake` bonded.
    pub fn lock(&mut self, amount: u64, min_stake: u64) -> Result<()> {
        require!(amount > 0, StakingError::ZeroAmount);
        require!(
            self.accepting_jobs && self.bonded_stake()? >= min_stake,
            StakingError::ProviderInactive
        );
        require!(
            amount <= self.free_stake()?,
            StakingError::InsufficientFreeStake
        );
        self.locked = self
            .locked
            .checked_add(amount)
            .ok_or(StakingError::MathOverflow)?;
        self.stats.jobs_claimed = self.stats.jobs_claimed.saturating_add(1);
        Ok(())
    }

    /// Releases `amount` of locked collateral; `paid` (what the job paid, 0 if nothing) goes
    /// into the statistics.
    pub fn unlock(&mut self, amount: u64, paid: u64) -> Result<()> {
        self.locked = self
            .locked
            .checked_sub(amount)
            .ok_or(StakingError::UnlockExceedsLocked)?;
        if paid > 0 {
            self.stats.jobs_paid = self.stats.jobs_paid.saturating_add(1);
            self.stats.earned = self.stats.earned.saturating_add(paid);
        }
        Ok(())
    }

    /// Checks that `amount` of locked collateral can be slashed (before the tokens move).
    pub fn check_slash(&self, amount: u64) -> Result<()> {
        require!(amount > 0, StakingError::ZeroAmount);
        require!(amount <= self.locked, StakingError::SlashExceedsLocked);
        Ok(())
    }

    /// Removes `amount` of locked collateral from the stake (the tokens have left the vault).
    pub fn slash(&mut self, amount: u64) -> Result<()> {
        self.check_slash(amount)?;
        self.locked -= amount;
        self.staked = self
            .staked
            .checked_sub(amount)
            .ok_or(StakingError::MathOverflow)?;
        self.stats.jobs_slashed = self.stats.jobs_slashed.saturating_add(1);
        self.stats.slashed = self.stats.slashed.saturating_add(amount);
        Ok(())
    }

    /// Starts unbonding `amount` of free stake, releasable at `release_at`.
    pub fn request_unbond(&mut self, amount: u64, release_at: i64) -> Result<()> {
        require!(amount > 0, StakingError::ZeroAmount);
        require!(
            amount <= self.free_stake()?,
            StakingError::InsufficientFreeStake
        );
        self.unbonding = self
            .unbonding
            .checked_add(amount)
            .ok_or(StakingError::MathOverflow)?;
        self.unbonding_release_at = release_at;
        Ok(())
    }

    /// Takes everything unbonding out of the stake (the tokens have left the vault).
    pub fn withdraw_unbonded(&mut self) -> Result<u64> {
        let amount = self.unbonding;
        self.staked = self
            .staked
            .checked_sub(amount)
            .ok_or(StakingError::MathOverflow)?;
        self.unbonding = 0;
        Ok(amount)
    }

    /// What every handler that mutates a provider leaves true: `locked + unbonding ≤ staked`.
    pub fn invariant(&self) -> Result<()> {
        let committed = self.locked.checked_add(self.unbonding);
        require!(
            committed.is_some_and(|c| c <= self.staked),
            StakingError::InvariantViolated
        );
        Ok(())
    }
}

/// The longest prefix of `name` that fits `max` bytes without cutting a UTF-8 character.
pub fn truncate_utf8(name: &str, max: usize) -> &str {
    if name.len() <= max {
        return name;
    }
    let mut end = max;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

pub fn validate_metadata_uri(uri: &str) -> Result<()> {
    require!(
        uri.len() <= MAX_METADATA_URI_LEN,
        StakingError::StringTooLong
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(staked: u64, locked: u64, unbonding: u64) -> Provider {
        Provider {
            authority: Pubkey::default(),
            accepting_jobs: true,
            stake_vault: Pubkey::default(),
            staked,
            locked,
            unbonding,
            unbonding_release_at: 0,
            stats: ProviderStats::default(),
            registered_at: 0,
            bump: 0,
            vault_bump: 0,
            hardware: HardwareProfile::default(),
            metadata_uri: String::new(),
        }
    }

    fn code(r: Result<()>) -> Option<u32> {
        match r {
            Err(anchor_lang::error::Error::AnchorError(e)) => Some(e.error_code_number),
            _ => None,
        }
    }

    #[test]
    fn transitions_keep_the_invariant_and_mutants_break_it() {
        let mut p = provider(100, 0, 0);
        p.lock(60, 50).unwrap();
        p.request_unbond(40, 7).unwrap();
        assert_eq!(
            code(p.lock(1, 0)),
            Some(StakingError::InsufficientFreeStake.into())
        );
        p.slash(60).unwrap();
        p.invariant().unwrap();
        assert_eq!((p.staked, p.locked, p.unbonding), (40, 0, 40));
        assert_eq!(p.withdraw_unbonded().unwrap(), 40);
        p.invariant().unwrap();
        let violated = Some(StakingError::InvariantViolated.into());
        // Mutants: a lock or an unbond that skipped its free-stake check.
        assert_eq!(code(provider(10, 11, 0).invariant()), violated);
        assert_eq!(code(provider(10, 5, 6).invariant()), violated);
        assert_eq!(code(provider(10, u64::MAX, 1).invariant()), violated);
        assert_eq!(code(provider(10, 4, 6).invariant()), None);
    }

    #[test]
    fn names_are_cut_on_character_boundaries() {
        let name = "Ünïcødé GPU ".repeat(8);
        let cut = truncate_utf8(&name, MAX_GPU_NAME_LEN);
        assert!(cut.len() <= MAX_GPU_NAME_LEN && cut.len() >= MAX_GPU_NAME_LEN - 3);
        assert!(name.starts_with(cut));
        assert_eq!(truncate_utf8("short", MAX_GPU_NAME_LEN), "short");
        let hw = HardwareProfile::from_adapter(&name, 1024, backend::VULKAN, 0);
        assert_eq!(hw.gpu_name, cut);
        hw.validate().unwrap();
        let naive: String = name.chars().take(64).collect();
        assert!(
            naive.len() > MAX_GPU_NAME_LEN,
            "the old cut exceeded the byte bound"
        );
    }

    #[test]
    fn backend_names_and_bits_round_trip() {
        for (name, bit) in backend::NAMES {
            assert_eq!(backend::from_name(name), Some(bit));
            assert_eq!(backend::names(bit), [name]);
        }
        assert_eq!(backend::from_name("GLES"), Some(backend::GL));
        assert_eq!(backend::from_name("vk"), Some(backend::VULKAN));
        assert_eq!(backend::from_name("directx"), None);
        assert_eq!(
            backend::names(backend::VULKAN | backend::GL),
            ["vulkan", "gl"]
        );
    }
}
