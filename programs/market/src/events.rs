//! Events of the market program, one for every state change, emitted with `emit_cpi!`.
//! `provider_authority` is always the provider's wallet (the key that signs claims and holds
//! the slot), never its staking `Provider` account; the staking program's events name that
//! account `provider`. Slot-level outcomes are `Slot*` events, distinct from staking's
//! `StakeSlashed`.
use anchor_lang::prelude::*;

#[event]
pub struct MarketUpdated {
    pub admin: Pubkey,
    pub treasury: Pubkey,
    pub paused: bool,
}

#[event]
pub struct JobCreated {
    pub job: Pubkey,
    pub buyer: Pubkey,
    pub job_id: u64,
    pub manifest_hash: [u8; 32],
    pub replicas: u8,
    pub quorum: u8,
    pub price_per_replica: u64,
    pub deposit: u64,
    pub claim_deadline: i64,
}

#[event]
pub struct SlotClaimed {
    pub job: Pubkey,
    pub provider_authority: Pubkey,
    pub slot: u8,
}

#[event]
pub struct JobStarted {
    pub job: Pubkey,
    pub exec_deadline: i64,
    pub reveal_deadline: i64,
}

#[event]
pub struct ResultCommitted {
    pub job: Pubkey,
    pub provider_authority: Pubkey,
    pub commitment: [u8; 32],
}

#[event]
pub struct ResultRevealed {
    pub job: Pubkey,
    pub provider_authority: Pubkey,
    pub result_hash: [u8; 32],
}

#[event]
pub struct SlotPaid {
    pub job: Pubkey,
    pub provider_authority: Pubkey,
    pub amount: u64,
}

#[event]
pub struct SlotReleased {
    pub job: Pubkey,
    pub provider_authority: Pubkey,
}

#[event]
pub struct SlotSlashed {
    pub job: Pubkey,
    pub provider_authority: Pubkey,
    pub amount: u64,
    /// True when the provider revealed a hash other than the quorum's; false for a no-show.
    pub revealed_other_hash: bool,
}

#[event]
pub struct JobSettled {
    pub job: Pubkey,
    pub agreed_hash: Option<[u8; 32]>,
    pub paid: u8,
    pub slashed: u8,
    /// Slashed collateral kept in the vault, burned when the job is closed.
    pub burn_due: u64,
    pub buyer_refund: u64,
    pub treasury_due: u64,
}

/// A claimed slot paid for its work when the buyer cancelled.
#[event]
pub struct SlotCompensated {
    pub job: Pubkey,
    pub provider_authority: Pubkey,
    pub amount: u64,
}

#[event]
pub struct JobCancelled {
    pub job: Pubkey,
    pub refund: u64,
}

#[event]
pub struct JobExpired {
    pub job: Pubkey,
    pub refund: u64,
}

#[event]
pub struct JobClosed {
    pub job: Pubkey,
    /// Fees moved from the job's vault to the market's fee vault.
    pub fees: u64,
    /// Slashed collateral burned.
    pub burned: u64,
}

#[event]
pub struct FeesWithdrawn {
    pub treasury: Pubkey,
    pub amount: u64,
}

/// A draw round began: providers are drawn from the bank hash of `seed_slot` (or the first slot
/// produced after it) for `slots` free slots.
#[event]
pub struct DrawRoundBegun {
    pub job: Pubkey,
    pub round: u16,
    pub seed_slot: u64,
    pub slots: u8,
}

/// A provider's draw weight was set; it counts for draws seeded from `effective_epoch` on.
#[event]
pub struct DrawWeightSet {
    pub provider_authority: Pubkey,
    pub index: u32,
    pub weight: u64,
    pub effective_epoch: u64,
}

/// Revealed hashes differed: nobody is paid or slashed yet, and `referees` referees are drawn
/// in round `round` (seeded by `seed_slot`) to claim by `claim_deadline` and re-run the job.
#[event]
pub struct DisputeOpened {
    pub job: Pubkey,
    pub round: u16,
    pub seed_slot: u64,
    pub referees: u8,
    pub claim_deadline: i64,
}

/// `audit` ran: `decision` is `audited` (an auditor slot opened, drawn in `round`),
/// `not_audited`, `reseeded` (new seed slot `seed_slot`) or `dropped` (no auditor came).
#[event]
pub struct AuditDecided {
    pub job: Pubkey,
    pub decision: String,
    pub round: u16,
    pub seed_slot: u64,
}

/// A dispute's referees were settled: `verdict` (none: the job is non-deterministic) and what
/// each of the `referees_paid` referees who revealed it received.
#[event]
pub struct RefereesSettled {
    pub job: Pubkey,
    pub verdict: Option<[u8; 32]>,
    pub referees_paid: u8,
    pub referee_pay: u64,
}
