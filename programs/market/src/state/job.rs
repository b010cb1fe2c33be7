//! The job account: what the buyer asked for, its escrow terms, deadlines, state, and a fixed
//! array of slots (provider, commitment, revealed hash, outcome). Its escrow vault is a token
//! account PDA whose authority is the job itself, so no job can spend another's deposit.
use anchor_lang::prelude::*;

/// Seed of a job PDA: `[JOB_SEED, buyer, job_id (u64 little-endian)]`.
pub const JOB_SEED: &[u8] = b"job";
/// Seed of a job's escrow vault PDA: `[VAULT_SEED, job]`.
pub const VAULT_SEED: &[u8] = b"vault";
/// Most replicas a job may ask for; bounds every on-chain loop over slots.
pub const MAX_REPLICAS: usize = 5;
/// Longest manifest URI, in bytes.
pub const MAX_MANIFEST_URI_LEN: usize = 200;

#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace, Default,
)]
pub enum JobState {
    /// Slots are being claimed.
    #[default]
    Open,
    /// All slots claimed; commit, then reveal.
    Running,
    /// Paid out by quorum, or refunded for lack of one. Terminal.
    Settled,
    /// Cancelled by the buyer before any commit. Terminal.
    Cancelled,
    /// Not all slots claimed by the claim deadline; refunded. Terminal.
    Expired,
}

impl JobState {
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Settled | Self::Cancelled | Self::Expired)
    }
}

#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace, Default,
)]
pub enum SlotStatus {
    #[default]
    Empty,
    Claimed,
    Committed,
    Revealed,
}

#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace, Default,
)]
pub enum SlotOutcome {
    #[default]
    Pending,
    /// Revealed the quorum's hash: paid and collateral unlocked.
    Paid,
    /// Revealed, but no quorum formed: collateral unlocked, nothing paid.
    Unpaid,
    /// Revealed another hash than the quorum's, or never committed / revealed.
    Slashed,
    /// Job cancelled or expired: collateral unlocked.
    Released,
}

#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace, Default,
)]
pub struct Slot {
    /// The provider's authority (wallet), not its staking account.
    pub provider: Pubkey,
    pub commitment: [u8; 32],
    pub result_hash: [u8; 32],
    pub status: SlotStatus,
    pub outcome: SlotOutcome,
}

/// What a provider's hardware must offer to claim a slot.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace, Default,
)]
pub struct JobRequirements {
    pub min_memory_mib: u32,
    /// Every bit here must be set in the provider's feature bits.
    pub required_features: u64,
    /// Accepted backends (bits of `concord_staking::backend`); 0 accepts any.
    pub backends: u8,
}

impl JobRequirements {
    pub fn accepts(&self, hw: &concord_staking::HardwareProfile) -> bool {
        hw.memory_mib >= self.min_memory_mib
            && hw.features & self.required_features == self.required_features
            && (self.backends == 0 || self.backends & hw.backend != 0)
    }
}

/// Byte offset of `Job::state` in the account data (after the discriminator, `buyer` and
/// `job_id`), for `getProgramAccounts` memcmp filters. Fixed-size fields come first so the
/// offsets of everything clients filter on never move.
pub const JOB_STATE_OFFSET: usize = 8 + 32 + 8;
/// Byte offset of `Job::buyer`.
pub const JOB_BUYER_OFFSET: usize = 8;

#[account]
#[derive(InitSpace, Debug)]
pub struct Job {
    pub buyer: Pubkey,
    pub job_id: u64,
    pub state: JobState,
    pub replicas: u8,
    pub quorum: u8,
    pub filled: u8,
    pub committed: u8,
    pub revealed: u8,
    /// blake3 of the canonical manifest: the job's identity.
    pub manifest_hash: [u8; 32],
    pub requirements: JobRequirements,
    pub price_per_replica: u64,
    /// Protocol fee taken out of each paid replica (fixed at creation).
    pub fee_per_replica: u64,
    pub collateral_per_replica: u64,
    /// Treasury share of slashed collateral (fixed at creation).
    pub slash_treasury_bps: u16,
    pub created_at: i64,
    pub claim_deadline: i64,
    pub exec_window: i64,
    pub reveal_window: i64,
    /// Set when the last slot is claimed.
    pub exec_deadline: i64,
    pub reveal_deadline: i64,
    pub agreed_hash: Option<[u8; 32]>,
    /// What the vault still has to pay out; the vault's balance always equals it.
    pub escrow_owed: u64,
    /// Part of `escrow_owed` that belongs to the treasury (paid by `close_job`).
    pub treasury_due: u64,
    pub slots: [Slot; MAX_REPLICAS],
    pub bump: u8,
    pub vault_bump: u8,
    /// Where the manifest can be fetched (content store URI); variable length, so last.
    #[max_len(MAX_MANIFEST_URI_LEN)]
    pub manifest_uri: String,
}

impl Job {
    /// The address seeds of this job, for signing as the vault's authority.
    pub fn id_bytes(&self) -> [u8; 8] {
        self.job_id.to_le_bytes()
    }

    /// The slots in use (the first `replicas`).
    pub fn active_slots(&self) -> &[Slot] {
        &self.slots[..usize::from(self.replicas)]
    }

    pub fn slot_index_of(&self, provider: &Pubkey) -> Option<usize> {
        self.slots[..usize::from(self.filled)]
            .iter()
            .position(|s| s.provider == *provider)
    }
}
