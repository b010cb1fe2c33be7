//! The job account: what the buyer asked for, its escrow terms, deadlines, state, and a fixed
//! array of slots (provider, commitment, revealed hash, outcome). Its escrow vault is a token
//! account PDA whose authority is the job itself, so no job can spend another's deposit.
use anchor_lang::prelude::*;

use crate::draw::{self, Candidate, SeedError, SEED_DELAY_SLOTS};
use crate::errors::MarketError;
use crate::state::DrawSet;

/// Seed of a job PDA: `[JOB_SEED, buyer, job_id (u64 little-endian)]`.
pub const JOB_SEED: &[u8] = b"job";
/// Seed of a job's escrow vault PDA: `[VAULT_SEED, job]`.
pub const VAULT_SEED: &[u8] = b"vault";
/// Most replicas a job may ask for; bounds every on-chain loop over slots.
pub const MAX_REPLICAS: usize = 5;
/// Longest manifest URI, in bytes.
pub const MAX_MANIFEST_URI_LEN: usize = 200;
/// Most providers a job remembers as drawn and absent (never drawn for it again).
pub const MAX_ABSENT: usize = 8;
/// Referees a dispute draws: they re-run the job, and the hash every referee who revealed
/// agrees on is the verdict (at least [`REFEREE_QUORUM`] of them revealing). A wrong verdict
/// needs every referee to be the liars' (α⁶ for stake share α); one honest referee turns it
/// into a non-deterministic end, where nobody is slashed.
pub const MAX_REFEREES: usize = 6;
/// Referees that must reveal (all the same hash) for a verdict.
pub const REFEREE_QUORUM: u8 = 4;
/// Auditors a job can have: a hidden audit draws one further replica.
pub const MAX_AUDITORS: usize = 1;
/// Slots a job can hold: its replicas, an auditor, then a dispute's referees.
pub const MAX_SLOTS: usize = MAX_REPLICAS + MAX_AUDITORS + MAX_REFEREES;
/// Take windows a dispute's referees have to be drawn and claim (offline ones are replaced by
/// `redraw` after each window).
pub const DISPUTE_CLAIM_ROUNDS: i64 = 6;

#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace, Default,
)]
pub enum JobState {
    /// Slots are being claimed (a dispute's referee slots too).
    #[default]
    Open,
    /// All slots claimed; commit, then reveal (in a dispute, the referees).
    Running,
    /// Paid out by quorum, or refunded for lack of one. Terminal.
    Settled,
    /// Cancelled by the buyer while open; claimed slots compensated. Terminal.
    Cancelled,
    /// Not all slots claimed by the claim deadline; refunded. Terminal.
    Expired,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        Self::Open,
        Self::Running,
        Self::Settled,
        Self::Cancelled,
        Self::Expired,
    ];

    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Settled | Self::Cancelled | Self::Expired)
    }

    /// The state's name for people and JSON (`open`, `running`, …): the one spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Running => "running",
            Self::Settled => "settled",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }

    /// The state named `name` (as [`JobState::name`] spells it).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
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

impl SlotStatus {
    /// The status's name for people and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::Claimed => "claimed",
            Self::Committed => "committed",
            Self::Revealed => "revealed",
        }
    }
}

#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace, Default,
)]
pub enum SlotOutcome {
    #[default]
    Pending,
    /// Revealed the quorum's hash: paid and collateral unlocked.
    Paid,
    /// No quorum formed (or a dispute's referees split), and revealed or never committed:
    /// collateral unlocked, nothing paid.
    Unpaid,
    /// Revealed another hash than the quorum's (or the dispute's verdict), committed and never
    /// revealed, or never committed although a quorum formed: collateral slashed (burned, less
    /// what pays the referees).
    Slashed,
    /// Job expired unfilled: collateral unlocked, nothing paid.
    Released,
    /// Job cancelled by the buyer after this slot was claimed (the provider may have run it):
    /// paid as if `Paid`, collateral unlocked.
    Compensated,
}

impl SlotOutcome {
    /// Whether the slot is paid its price less the fee.
    pub fn is_paid(self) -> bool {
        matches!(self, Self::Paid | Self::Compensated)
    }

    /// The outcome's name for people and JSON (`paid`, `slashed`, …): the one spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Unpaid => "unpaid",
            Self::Slashed => "slashed",
            Self::Released => "released",
            Self::Compensated => "compensated",
        }
    }
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
#[derive(InitSpace, Debug, Default)]
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
    pub created_at: i64,
    /// The slot the job was created in. Claims must come later (nobody can pre-fill a job in
    /// the transaction that creates it), so it also tells two incarnations of one address
    /// apart: providers derive their commitment salts from it.
    pub created_slot: u64,
    pub claim_deadline: i64,
    pub exec_window: i64,
    pub reveal_window: i64,
    /// Set when the last slot is claimed.
    pub exec_deadline: i64,
    pub reveal_deadline: i64,
    pub agreed_hash: Option<[u8; 32]>,
    /// What the vault still has to pay out; the vault's balance always equals it.
    pub escrow_owed: u64,
    /// Part of `escrow_owed` that is fees (moved to the fee vault by `close_job`).
    pub treasury_due: u64,
    /// Part of `escrow_owed` that is slashed collateral, burned by `close_job`: never paid to
    /// anyone, so no party profits from a slash it can cause.
    pub burn_due: u64,
    /// The slot whose bank hash (or that of the first slot produced after it) seeds the
    /// current draw round: after the transaction that began the round, so unknown to it.
    pub seed_slot: u64,
    /// When the current draw round began; `redraw` may begin the next a take window later.
    pub round_started_at: i64,
    /// The current draw round (0 from creation; each `redraw` adds one).
    pub draw_round: u16,
    /// Slots the current round draws providers for: the free slots when it began.
    pub round_slots: u8,
    /// Draw-set indices of providers drawn in an earlier round that did not take a slot: later
    /// rounds pass over them (the first `absent_count`).
    pub absent: [u32; MAX_ABSENT],
    pub absent_count: u8,
    /// The market's audit probability when the job was created (basis points).
    pub audit_bps: u16,
    /// The slot whose bank hash decides whether the job is audited: set when the last replica
    /// commits (so no replica knows at commit time), 0 before.
    pub audit_seed_slot: u64,
    /// Whether `audit` has decided (audited or not).
    pub audit_decided: bool,
    /// Auditor slots after the replicas': 0, or [`MAX_AUDITORS`] when an audit was drawn.
    pub auditors: u8,
    /// Referee slots after the replicas' and the auditor's: 0, or [`MAX_REFEREES`] once
    /// revealed hashes differed and `settle` opened a dispute.
    pub referees: u8,
    /// What the referees who revealed the verdict were paid in all, out of slashed collateral.
    pub referee_pay_total: u64,
    /// The replicas' slots, then the referees' (the first `replicas + referees` in use).
    pub slots: [Slot; MAX_SLOTS],
    pub bump: u8,
    pub vault_bump: u8,
    /// Where the manifest can be fetched (content store URI); variable length, so last.
    #[max_len(MAX_MANIFEST_URI_LEN)]
    pub manifest_uri: String,
}

/// What `audit` decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditDecision {
    /// An auditor slot opened.
    Audited,
    /// No audit: reveals open.
    NotAudited,
    /// The seed slot aged out of SlotHashes: a new one was set.
    Reseeded,
    /// The auditor slot did not fill in time: the audit is dropped, reveals open.
    Dropped,
}

impl AuditDecision {
    /// The decision's name for people, JSON and the `AuditDecided` event.
    pub fn name(self) -> &'static str {
        match self {
            Self::Audited => "audited",
            Self::NotAudited => "not_audited",
            Self::Reseeded => "reseeded",
            Self::Dropped => "dropped",
        }
    }
}

/// What a successful claim did: the slot taken, and whether it was the last one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub index: u8,
    pub started: bool,
}

impl Job {
    /// The address seeds of this job, for signing as the vault's authority.
    pub fn id_bytes(&self) -> [u8; 8] {
        self.job_id.to_le_bytes()
    }

    /// Slots in use: the replicas, an auditor once drawn, and the referees once a dispute
    /// opened.
    pub fn slot_count(&self) -> u8 {
        self.first_slots().saturating_add(self.referees)
    }

    /// The slots whose reveals are compared (the replicas and any auditor): the first phase.
    pub fn first_slots(&self) -> u8 {
        self.replicas.saturating_add(self.auditors)
    }

    /// Whether an audit was drawn and its auditor has not claimed yet (the job is open for it);
    /// past the claim deadline, `audit` drops it.
    pub fn awaits_auditor(&self) -> bool {
        self.audit_decided
            && self.auditors > 0
            && self.filled < self.first_slots()
            && self.state == JobState::Open
    }

    /// Whether reveals wait for `audit` to decide whether the job is audited.
    pub fn audit_pending(&self) -> bool {
        self.audit_seed_slot != 0 && !self.audit_decided
    }

    /// Whether revealed hashes differed and referees were drawn to settle it.
    pub fn disputed(&self) -> bool {
        self.referees > 0
    }

    /// The slots in use (the first [`Job::slot_count`]).
    pub fn active_slots(&self) -> &[Slot] {
        &self.slots[..usize::from(self.slot_count()).min(MAX_SLOTS)]
    }

    /// The slots claimed so far (the first `filled`).
    pub fn filled_slots(&self) -> &[Slot] {
        &self.slots[..usize::from(self.filled).min(MAX_SLOTS)]
    }

    /// The replicas' slots claimed so far, and the auditor's: the reveals compared.
    pub fn replica_slots(&self) -> &[Slot] {
        let n = self.filled.min(self.first_slots());
        &self.slots[..usize::from(n).min(MAX_SLOTS)]
    }

    /// The referees' slots claimed so far (none without a dispute).
    pub fn referee_slots(&self) -> &[Slot] {
        let filled = self.filled_slots();
        &filled[usize::from(self.first_slots()).min(filled.len())..]
    }

    /// Where the slots that commit and reveal now begin: 0, or the first referee's in a
    /// dispute (the replicas' phase is over).
    pub fn phase_start(&self) -> usize {
        if self.disputed() {
            usize::from(self.first_slots())
        } else {
            0
        }
    }

    /// Slots of the current phase: (committed or revealed, revealed, all in use).
    fn phase_counts(&self) -> (usize, usize, usize) {
        let phase = &self.active_slots()[self.phase_start().min(self.active_slots().len())..];
        let committed = phase
            .iter()
            .filter(|s| matches!(s.status, SlotStatus::Committed | SlotStatus::Revealed))
            .count();
        let revealed = phase
            .iter()
            .filter(|s| s.status == SlotStatus::Revealed)
            .count();
        (committed, revealed, phase.len())
    }

    /// Where the job's dispute stands, for people and JSON: `none`, `drawing referees`,
    /// `refereeing`, `verdict` (the referees agreed) or `non-deterministic` (they did not).
    pub fn dispute_name(&self) -> &'static str {
        match (self.disputed(), self.state, self.agreed_hash) {
            (false, _, _) => "none",
            (true, JobState::Open, _) => "drawing referees",
            (true, JobState::Running, _) => "refereeing",
            (true, _, Some(_)) => "verdict",
            (true, _, None) => "non-deterministic",
        }
    }

    /// Where the job's hidden audit stands, for people and JSON: `off` (the market had none),
    /// `after the commits`, `to decide` (its seed slot is set), `auditor drawn` or
    /// `none drawn`.
    pub fn audit_name(&self) -> &'static str {
        match (
            self.audit_bps,
            self.audit_seed_slot,
            self.audit_decided,
            self.auditors,
        ) {
            (0, _, _, _) => "off",
            (_, 0, _, _) => "after the commits",
            (_, _, false, _) => "to decide",
            (_, _, true, 0) => "none drawn",
            _ => "auditor drawn",
        }
    }

    /// The role of filled slot `index`: `replica`, `auditor` or `referee`.
    pub fn role_name(&self, index: usize) -> &'static str {
        if index < usize::from(self.replicas) {
            "replica"
        } else if index < usize::from(self.first_slots()) {
            "auditor"
        } else {
            "referee"
        }
    }

    /// What the buyer deposited: [`Job::deposit_for`] its terms.
    pub fn deposit(&self) -> Option<u64> {
        Self::deposit_for(self.price_per_replica, self.replicas, self.audit_bps)
    }

    /// What a job escrows: `price × replicas`, and one more price as an auditor's pay when
    /// audits are possible (`audit_bps > 0`; refunded when no audit is drawn).
    pub fn deposit_for(price: u64, replicas: u8, audit_bps: u16) -> Option<u64> {
        let paid_slots = u64::from(replicas) + u64::from(audit_bps > 0);
        price.checked_mul(paid_slots)
    }

    /// Whether every referee slot claimed has its outcome (`settle_referees` ran); true
    /// without a dispute.
    pub fn referees_settled(&self) -> bool {
        self.referee_slots()
            .iter()
            .all(|s| s.outcome != SlotOutcome::Pending)
    }

    /// The slot `provider` (a wallet) holds, if any.
    pub fn slot_index_of(&self, provider: &Pubkey) -> Option<usize> {
        self.filled_slots()
            .iter()
            .position(|s| s.provider == *provider)
    }

    /// Whether `provider` (a wallet, with `hardware`) may claim a slot at `now`: the chain's
    /// rules, in the order `claim_slot` checks them. Collateral is checked by staking.
    pub fn claimable_by(
        &self,
        provider: &Pubkey,
        hardware: &concord_staking::HardwareProfile,
        now: i64,
    ) -> std::result::Result<(), MarketError> {
        if self.state != JobState::Open {
            return Err(MarketError::JobNotOpen);
        }
        if now > self.claim_deadline {
            return Err(MarketError::ClaimDeadlinePassed);
        }
        if self.filled >= self.slot_count() {
            return Err(MarketError::NoFreeSlot);
        }
        if *provider == self.buyer {
            return Err(MarketError::BuyerCannotServe);
        }
        if self.slot_index_of(provider).is_some() {
            return Err(MarketError::AlreadyClaimed);
        }
        if !self.requirements.accepts(hardware) {
            return Err(MarketError::RequirementsNotMet);
        }
        Ok(())
    }

    /// Whether a claim may land in `slot`: only after the job's creation slot.
    pub fn check_claim_slot(&self, slot: u64) -> Result<()> {
        require!(slot > self.created_slot, MarketError::ClaimInCreationSlot);
        Ok(())
    }

    /// Begins a draw round at `slot` and `now` for the slots still free: its seed is the bank
    /// hash of a slot [`SEED_DELAY_SLOTS`] later.
    pub fn begin_round(&mut self, slot: u64, now: i64) -> Result<()> {
        self.seed_slot = slot
            .checked_add(SEED_DELAY_SLOTS)
            .ok_or(MarketError::MathOverflow)?;
        self.round_started_at = now;
        self.round_slots = self
            .slot_count()
            .checked_sub(self.filled)
            .ok_or(MarketError::MathOverflow)?;
        Ok(())
    }

    /// Opens a dispute at `slot` and `now`: [`MAX_REFEREES`] referee slots, drawn in a new
    /// round among providers that hold no slot, with [`DISPUTE_CLAIM_ROUNDS`] take windows to
    /// claim them. The replicas' phase is over: nobody is paid or slashed until the referees
    /// settle it.
    pub fn open_dispute(&mut self, slot: u64, now: i64, take_window: i64) -> Result<()> {
        require!(!self.disputed(), MarketError::Disputed);
        self.referees = MAX_REFEREES as u8;
        self.reopen(slot, now, take_window)
    }

    /// Reopens the job for the late slots just added (an auditor, or referees): a new draw
    /// round for them at `slot` and `now`, with [`DISPUTE_CLAIM_ROUNDS`] take windows to
    /// claim them.
    fn reopen(&mut self, slot: u64, now: i64, take_window: i64) -> Result<()> {
        self.state = JobState::Open;
        self.claim_deadline = take_window
            .checked_mul(DISPUTE_CLAIM_ROUNDS)
            .and_then(|w| now.checked_add(w))
            .ok_or(MarketError::MathOverflow)?;
        self.draw_round = self
            .draw_round
            .checked_add(1)
            .ok_or(MarketError::MathOverflow)?;
        self.begin_round(slot, now)
    }

    /// Whether a new draw round may begin at `now`: the job is open within its claim window and
    /// the current round has had `take_window` seconds to fill.
    pub fn check_redraw(&self, now: i64, take_window: i64) -> Result<()> {
        require!(self.state == JobState::Open, MarketError::JobNotOpen);
        require!(now <= self.claim_deadline, MarketError::ClaimDeadlinePassed);
        let due = self
            .round_started_at
            .checked_add(take_window)
            .ok_or(MarketError::MathOverflow)?;
        require!(now >= due, MarketError::RedrawTooEarly);
        Ok(())
    }

    /// Begins the next draw round for the free slots: the providers the current round drew
    /// (`absent`, when it can still be read) that did not take a slot are passed over from now
    /// on (up to [`MAX_ABSENT`]), and a fresh draw replaces them.
    pub fn redraw(
        &mut self,
        slot: u64,
        now: i64,
        take_window: i64,
        absent: &[Candidate],
        set: &DrawSet,
    ) -> Result<()> {
        self.check_redraw(now, take_window)?;
        for c in absent {
            let who = set.authorities[c.index as usize];
            let count = usize::from(self.absent_count);
            if self.slot_index_of(&who).is_none()
                && count < MAX_ABSENT
                && !self.absent[..count].contains(&c.index)
            {
                self.absent[count] = c.index;
                self.absent_count += 1;
            }
        }
        self.draw_round = self
            .draw_round
            .checked_add(1)
            .ok_or(MarketError::MathOverflow)?;
        self.begin_round(slot, now)
    }

    /// The providers the current round drew (indices in `set`), in draw order: the first
    /// `round_slots` distinct providers by stake weight, passing over the buyer, whoever held a
    /// slot when the round began and the providers absent from earlier rounds (these only when
    /// too few others can be drawn). `slot_hashes` is the SlotHashes sysvar's data. Work: at
    /// most two draws of [`draw::MAX_DRAW_STEPS`] steps.
    pub fn drawn(&self, job: &Pubkey, set: &DrawSet, slot_hashes: &[u8]) -> Result<Vec<Candidate>> {
        let (slot, bank_hash) = draw::seed_entry(slot_hashes, self.seed_slot).map_err(|e| {
            error!(match e {
                SeedError::Expired => MarketError::DrawExpired,
                SeedError::NotReady | SeedError::Malformed => MarketError::DrawNotReady,
            })
        })?;
        let weights = set
            .weights_at(set.epoch_of(slot))
            .ok_or(MarketError::DrawExpired)?;
        let seed = draw::round_seed(&job.to_bytes(), self.draw_round, slot, &bank_hash);
        let held_before = usize::from(self.slot_count().saturating_sub(self.round_slots));
        let earlier = &self.slots[..held_before.min(MAX_SLOTS)];
        let wanted = usize::from(self.round_slots);
        let never = |i: u32| {
            let who = &set.authorities[i as usize];
            *who == self.buyer || earlier.iter().any(|s| s.provider == *who)
        };
        let absent = &self.absent[..usize::from(self.absent_count).min(MAX_ABSENT)];
        let mut picks = draw::candidates(&seed, &weights[..], wanted, |i| {
            never(i) || absent.contains(&i)
        });
        // Too few providers besides the absent ones: the absent are drawn again, last.
        if picks.len() < wanted {
            for c in draw::candidates(&seed, &weights[..], wanted, never) {
                if picks.len() < wanted && !picks.iter().any(|p| p.index == c.index) {
                    picks.push(c);
                }
            }
        }
        Ok(picks)
    }

    /// Whether the provider at `index` of `set`, whose draw weight is now `weight`, was drawn
    /// in the current round (and its stake still covers where the draw landed).
    pub fn check_drawn(
        &self,
        job: &Pubkey,
        set: &DrawSet,
        slot_hashes: &[u8],
        index: u32,
        weight: u64,
    ) -> Result<()> {
        let drawn = self.drawn(job, set, slot_hashes)?;
        let me = drawn.iter().find(|c| c.index == index);
        require!(me.is_some_and(|c| c.offset < weight), MarketError::NotDrawn);
        Ok(())
    }

    /// Gives the next free slot to `provider`; the last claim starts the job and fixes its
    /// deadlines from `now`.
    pub fn claim(&mut self, provider: Pubkey, now: i64) -> Result<Claimed> {
        let index = self.filled;
        self.slots[usize::from(index)] = Slot {
            provider,
            status: SlotStatus::Claimed,
            ..Slot::default()
        };
        self.filled += 1;
        let started = self.filled == self.slot_count();
        if started {
            self.state = JobState::Running;
            self.exec_deadline = now
                .checked_add(self.exec_window)
                .ok_or(MarketError::MathOverflow)?;
            self.reveal_deadline = self
                .exec_deadline
                .checked_add(self.reveal_window)
                .ok_or(MarketError::MathOverflow)?;
        }
        Ok(Claimed { index, started })
    }

    /// Refuses a replica's commit or reveal once a dispute opened (the replicas' phase is over).
    fn check_in_phase(&self, provider: &Pubkey) -> Result<()> {
        let replica = self
            .slot_index_of(provider)
            .is_some_and(|i| i < self.phase_start());
        require!(!replica, MarketError::ReplicaPhaseOver);
        Ok(())
    }

    /// Whether commitments are taken at `now`: while the job runs, up to its execution deadline,
    /// and while its replicas' slots are still filling (no audit or dispute yet), so that a
    /// drawn provider that already ran the job claims and commits in one transaction. An early
    /// commitment risks nothing: an open job ends by `cancel_job` (compensated) or
    /// `refund_unfilled` (released) whatever its slots' status, never by a slash, and it hides
    /// its result as well as a late one. An auditor's or a referee's draw refuses it: a
    /// dispute whose referee slots never fill would slash a commitment that could not be
    /// revealed.
    pub fn check_commit_open(&self, now: i64) -> Result<()> {
        match self.state {
            JobState::Running => require!(
                now <= self.exec_deadline,
                MarketError::ExecutionDeadlinePassed
            ),
            _ if self.filling() => {}
            _ => return err!(MarketError::JobNotRunning),
        }
        Ok(())
    }

    /// Whether the replicas' slots are still filling: open, with no audit drawn and no dispute
    /// (no execution or reveal deadline is set yet).
    pub fn filling(&self) -> bool {
        self.state == JobState::Open && !self.disputed() && !self.audit_decided
    }

    /// Records `provider`'s commitment once per slot, when [`Job::check_commit_open`] allows.
    /// The last replica's commit in `bank_slot` arms the audit: its seed is the bank hash of a
    /// slot [`SEED_DELAY_SLOTS`] later, unknown to every replica when it committed.
    pub fn commit(
        &mut self,
        provider: &Pubkey,
        commitment: [u8; 32],
        now: i64,
        bank_slot: u64,
    ) -> Result<()> {
        self.check_in_phase(provider)?;
        self.check_commit_open(now)?;
        let index = self
            .slot_index_of(provider)
            .ok_or(MarketError::NotASlotHolder)?;
        let slot = &mut self.slots[index];
        require!(
            slot.status == SlotStatus::Claimed,
            MarketError::AlreadyCommitted
        );
        slot.commitment = commitment;
        slot.status = SlotStatus::Committed;
        self.committed += 1;
        let replicas_committed = self.slots[..usize::from(self.replicas).min(MAX_SLOTS)]
            .iter()
            .all(|s| s.status == SlotStatus::Committed);
        if self.audit_bps > 0 && self.audit_seed_slot == 0 && replicas_committed {
            self.audit_seed_slot = bank_slot
                .checked_add(SEED_DELAY_SLOTS)
                .ok_or(MarketError::MathOverflow)?;
        }
        Ok(())
    }

    /// Decides at `slot` and `now` whether the job is audited, once its audit seed slot was
    /// produced: with probability `audit_bps` (`draw::audit_roll` of the seed) one auditor
    /// slot opens, drawn in a new round passing over the replicas, with
    /// [`DISPUTE_CLAIM_ROUNDS`] take windows to claim it; otherwise reveals open. A seed that
    /// aged out of SlotHashes is replaced by a fresh one; an audit whose slot did not fill by
    /// its deadline is dropped (reveals open, with a fresh reveal window).
    pub fn decide_audit(
        &mut self,
        job: &Pubkey,
        slot_hashes: &[u8],
        slot: u64,
        now: i64,
        take_window: i64,
    ) -> Result<AuditDecision> {
        if self.awaits_auditor() {
            require!(now > self.claim_deadline, MarketError::ClaimWindowOpen);
            self.auditors = 0;
            self.state = JobState::Running;
            self.reveal_deadline = now
                .checked_add(self.reveal_window)
                .ok_or(MarketError::MathOverflow)?;
            return Ok(AuditDecision::Dropped);
        }
        require!(self.audit_pending(), MarketError::NoAuditPending);
        let (seed_slot, bank_hash) = match draw::seed_entry(slot_hashes, self.audit_seed_slot) {
            Ok(entry) => entry,
            Err(SeedError::Expired) => {
                self.audit_seed_slot = slot
                    .checked_add(SEED_DELAY_SLOTS)
                    .ok_or(MarketError::MathOverflow)?;
                return Ok(AuditDecision::Reseeded);
            }
            Err(_) => return err!(MarketError::DrawNotReady),
        };
        self.audit_decided = true;
        if draw::audit_roll(&job.to_bytes(), seed_slot, &bank_hash) >= self.audit_bps {
            return Ok(AuditDecision::NotAudited);
        }
        self.auditors = MAX_AUDITORS as u8;
        self.reopen(slot, now, take_window)?;
        Ok(AuditDecision::Audited)
    }

    /// Whether reveals are open at `now`: every slot of the phase committed, or the execution
    /// deadline passed; and the reveal deadline not yet.
    pub fn check_reveal_open(&self, now: i64) -> Result<()> {
        require!(!self.audit_pending(), MarketError::AuditPending);
        require!(self.state == JobState::Running, MarketError::JobNotRunning);
        let (committed, _, all) = self.phase_counts();
        require!(
            committed == all || now > self.exec_deadline,
            MarketError::RevealNotOpen
        );
        require!(
            now <= self.reveal_deadline,
            MarketError::RevealDeadlinePassed
        );
        Ok(())
    }

    /// Records `provider`'s revealed hash once it matches its commitment (`opens` is the
    /// commitment recomputed from the revealed hash and salt).
    pub fn reveal(
        &mut self,
        provider: &Pubkey,
        result_hash: [u8; 32],
        opens: impl FnOnce() -> [u8; 32],
        now: i64,
    ) -> Result<()> {
        self.check_in_phase(provider)?;
        self.check_reveal_open(now)?;
        let index = self
            .slot_index_of(provider)
            .ok_or(MarketError::NotASlotHolder)?;
        let slot = &mut self.slots[index];
        match slot.status {
            SlotStatus::Committed => {}
            SlotStatus::Revealed => return err!(MarketError::AlreadyRevealed),
            _ => return err!(MarketError::NotCommitted),
        }
        require!(opens() == slot.commitment, MarketError::CommitmentMismatch);
        slot.result_hash = result_hash;
        slot.status = SlotStatus::Revealed;
        self.revealed += 1;
        Ok(())
    }

    /// Whether the job can settle at `now`: running, and nothing in the current phase can
    /// change any more: every slot revealed, or the execution deadline passed and every
    /// commitment revealed (no new commitment can come), or the reveal window closed. A
    /// dispute whose referee slots did not all fill by its claim deadline can settle too (with
    /// no verdict).
    pub fn check_settleable(&self, now: i64) -> Result<()> {
        if self.disputed() && self.state == JobState::Open {
            require!(now > self.claim_deadline, MarketError::SettleTooEarly);
            return Ok(());
        }
        require!(self.state == JobState::Running, MarketError::JobNotRunning);
        let (committed, revealed, all) = self.phase_counts();
        let settled_by_commits = now > self.exec_deadline && revealed == committed;
        require!(
            revealed == all || settled_by_commits || now > self.reveal_deadline,
            MarketError::SettleTooEarly
        );
        Ok(())
    }

    /// Whether the buyer may cancel: only while open, before any dispute. Once running,
    /// providers have done the work and the job ends by `settle`.
    pub fn check_cancellable(&self) -> Result<()> {
        require!(self.state == JobState::Open, MarketError::CannotCancel);
        require!(!self.disputed(), MarketError::Disputed);
        require!(self.auditors == 0, MarketError::AuditPending);
        Ok(())
    }

    /// Whether the job expired unfilled at `now` (`refund_unfilled`): open past its claim
    /// deadline, and no dispute (a dispute ends by `settle`).
    pub fn check_expired(&self, now: i64) -> Result<()> {
        require!(self.state == JobState::Open, MarketError::JobNotOpen);
        require!(!self.disputed(), MarketError::Disputed);
        require!(self.auditors == 0, MarketError::AuditPending);
        require!(now > self.claim_deadline, MarketError::ClaimWindowOpen);
        Ok(())
    }

    /// Records a settlement: each active slot's outcome, the agreed hash, and what the vault
    /// still holds: the fees (`treasury_due`) and the slashed collateral to burn (`burn_due`).
    pub fn apply_settlement(
        &mut self,
        outcomes: &[SlotOutcome],
        winner: Option<[u8; 32]>,
        treasury_due: u64,
        burn_due: u64,
    ) -> Result<()> {
        for (slot, outcome) in self.slots.iter_mut().zip(outcomes) {
            slot.outcome = *outcome;
        }
        self.state = JobState::Settled;
        self.agreed_hash = winner;
        self.treasury_due = treasury_due;
        self.burn_due = burn_due;
        self.escrow_owed = treasury_due
            .checked_add(burn_due)
            .ok_or(MarketError::MathOverflow)?;
        Ok(())
    }

    /// Records the referees' part of a dispute's settlement (`settle_referees`): each referee
    /// slot's outcome, the verdict, what the referees were paid in all, and what the vault
    /// owes now (`escrow_owed` less the pay, plus the referees' slashed collateral).
    pub fn apply_referee_settlement(
        &mut self,
        outcomes: &[SlotOutcome],
        verdict: Option<[u8; 32]>,
        pay_total: u64,
        slashed_in: u64,
    ) -> Result<()> {
        let start = usize::from(self.first_slots());
        let filled = usize::from(self.filled).min(MAX_SLOTS);
        for (slot, outcome) in self.slots[start.min(filled)..filled]
            .iter_mut()
            .zip(outcomes)
        {
            slot.outcome = *outcome;
        }
        self.agreed_hash = verdict;
        self.referee_pay_total = pay_total;
        self.escrow_owed = self
            .escrow_owed
            .checked_add(slashed_in)
            .and_then(|o| o.checked_sub(pay_total))
            .ok_or(MarketError::MathOverflow)?;
        Ok(())
    }

    /// Ends an open job without a settlement: `Expired` releases the claimed slots unpaid,
    /// `Cancelled` compensates them. The vault then owes only `treasury_due` (the fees).
    pub fn release(&mut self, terminal: JobState, treasury_due: u64) {
        let outcome = if terminal == JobState::Cancelled {
            SlotOutcome::Compensated
        } else {
            SlotOutcome::Released
        };
        let filled = usize::from(self.filled).min(MAX_SLOTS);
        for slot in &mut self.slots[..filled] {
            slot.outcome = outcome;
        }
        self.state = terminal;
        self.escrow_owed = treasury_due;
        self.treasury_due = treasury_due;
    }

    /// What every handler that mutates a job leaves true: the counters match the slot
    /// statuses, `revealed ≤ committed ≤ filled ≤ replicas + referees`, replicas at most
    /// `MAX_REPLICAS` and referees 0 or `MAX_REFEREES`, slots past `filled` are empty,
    /// `treasury_due + burn_due ≤ escrow_owed`, a terminal job holds only fees and slashed
    /// collateral, slashed collateral is exactly what is burned plus what paid the referees
    /// (before the end: the vault holds the deposit less the referees' pay plus their slashed
    /// collateral), an open job has a free slot, and nobody is slashed without a quorum or a
    /// verdict but for a commitment never revealed.
    pub fn invariant(&self) -> Result<()> {
        self.check_invariant()
            .map_err(|_| error!(MarketError::InvariantViolated))
    }

    /// [`Job::invariant`] as a plain check, naming the rule that fails (for tests and
    /// off-chain callers).
    pub fn check_invariant(&self) -> std::result::Result<(), &'static str> {
        let (replicas, filled) = (usize::from(self.replicas), usize::from(self.filled));
        if replicas > MAX_REPLICAS || !matches!(usize::from(self.referees), 0 | MAX_REFEREES) {
            return Err("replicas <= MAX_REPLICAS, referees 0 or MAX_REFEREES");
        }
        if usize::from(self.auditors) > MAX_AUDITORS
            || (self.auditors > 0 && (!self.audit_decided || self.audit_bps == 0))
        {
            return Err("an auditor only once an audit was drawn");
        }
        if filled > usize::from(self.slot_count()) {
            return Err("filled <= replicas + referees");
        }
        if self.disputed() && filled < usize::from(self.first_slots()) {
            return Err("a dispute opens on a filled job");
        }
        if self.slots[filled..]
            .iter()
            .any(|s| s.status != SlotStatus::Empty)
        {
            return Err("slots past `filled` are empty");
        }
        let count = |f: fn(&Slot) -> bool| self.slots[..filled].iter().filter(|s| f(s)).count();
        if count(|s| s.status == SlotStatus::Empty) != 0 {
            return Err("filled slots are claimed");
        }
        let committed = count(|s| matches!(s.status, SlotStatus::Committed | SlotStatus::Revealed));
        let revealed = count(|s| s.status == SlotStatus::Revealed);
        if committed != usize::from(self.committed) || revealed != usize::from(self.revealed) {
            return Err("counters match the slot statuses");
        }
        if self.revealed > self.committed || self.committed > self.filled {
            return Err("revealed <= committed <= filled");
        }
        let dues = self.treasury_due.checked_add(self.burn_due);
        if dues.is_none_or(|d| d > self.escrow_owed) {
            return Err("treasury_due + burn_due <= escrow_owed");
        }
        if self.state.is_terminal() && dues != Some(self.escrow_owed) {
            return Err("a terminal job holds only fees and slashed collateral");
        }
        let slashed = count(|s| s.outcome == SlotOutcome::Slashed) as u64;
        let slashed_collateral = self.collateral_per_replica.checked_mul(slashed);
        if self.state.is_terminal() {
            let spent = self.burn_due.checked_add(self.referee_pay_total);
            if slashed_collateral != spent {
                return Err("slashed collateral is burned or pays the referees");
            }
        } else {
            let held = self
                .deposit()
                .and_then(|d| d.checked_sub(self.referee_pay_total))
                .and_then(|d| d.checked_add(slashed_collateral?));
            if self.burn_due != 0 || held != Some(self.escrow_owed) {
                return Err("before the end the vault holds the deposit, less the referees' pay, plus their slashed collateral");
            }
        }
        if self.referee_pay_total != 0 && !self.disputed() {
            return Err("only referees are paid out of slashed collateral");
        }
        if self.state == JobState::Open && self.filled >= self.slot_count() && self.replicas > 0 {
            return Err("an open job has a free slot");
        }
        if usize::from(self.absent_count) > MAX_ABSENT {
            return Err("absent_count <= MAX_ABSENT");
        }
        if self.round_slots > self.slot_count()
            || self.slot_count() - self.round_slots > self.filled
        {
            return Err("a draw round draws for slots that were free when it began");
        }
        let slashed_unexplained = self.slots[..filled]
            .iter()
            .any(|s| s.outcome == SlotOutcome::Slashed && s.status != SlotStatus::Committed);
        if slashed_unexplained && self.agreed_hash.is_none() {
            return Err("a slash needs a quorum or a commitment never revealed");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_job(replicas: u8) -> Job {
        Job {
            buyer: Pubkey::new_unique(),
            job_id: 1,
            state: JobState::Open,
            replicas,
            quorum: replicas / 2 + 1,
            filled: 0,
            committed: 0,
            revealed: 0,
            manifest_hash: [1; 32],
            requirements: JobRequirements::default(),
            price_per_replica: 100,
            fee_per_replica: 5,
            collateral_per_replica: 50,
            created_at: 0,
            created_slot: 0,
            claim_deadline: 10,
            exec_window: 10,
            reveal_window: 10,
            exec_deadline: 0,
            reveal_deadline: 0,
            agreed_hash: None,
            escrow_owed: 100 * u64::from(replicas),
            treasury_due: 0,
            burn_due: 0,
            seed_slot: 4,
            round_started_at: 0,
            draw_round: 0,
            round_slots: replicas,
            absent: [0; MAX_ABSENT],
            absent_count: 0,
            audit_bps: 0,
            audit_seed_slot: 0,
            audit_decided: false,
            auditors: 0,
            referees: 0,
            referee_pay_total: 0,
            slots: [Slot::default(); MAX_SLOTS],
            bump: 0,
            vault_bump: 0,
            manifest_uri: String::new(),
        }
    }

    fn code<T>(r: Result<T>) -> Option<u32> {
        match r {
            Err(anchor_lang::error::Error::AnchorError(e)) => Some(e.error_code_number),
            _ => None,
        }
    }

    /// A job that went through claims, commits and reveals by the methods the handlers call.
    fn revealed_job() -> (Job, Vec<Pubkey>) {
        let mut job = open_job(3);
        let providers: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
        let hw = concord_staking::HardwareProfile::default();
        for (i, p) in providers.iter().enumerate() {
            assert_eq!(job.claimable_by(p, &hw, 5), Ok(()));
            let claimed = job.claim(*p, 5).unwrap();
            assert_eq!((claimed.index, claimed.started), (i as u8, i == 2));
            job.invariant().unwrap();
        }
        for p in &providers {
            job.commit(p, [7; 32], 6, 6).unwrap();
            job.invariant().unwrap();
        }
        for p in &providers {
            job.reveal(p, [9; 32], || [7; 32], 7).unwrap();
            job.invariant().unwrap();
        }
        (job, providers)
    }

    #[test]
    fn the_methods_keep_the_invariant() {
        let (mut job, providers) = revealed_job();
        assert_eq!((job.filled, job.committed, job.revealed), (3, 3, 3));
        assert_eq!(job.state, JobState::Running);
        let hw = concord_staking::HardwareProfile::default();
        assert_eq!(
            job.claimable_by(&providers[0], &hw, 5),
            Err(MarketError::JobNotOpen)
        );
        job.check_settleable(7).unwrap();
        job.apply_settlement(&[SlotOutcome::Paid; 3], Some([9; 32]), 15, 0)
            .unwrap();
        job.invariant().unwrap();
        let mut cancelled = open_job(2);
        cancelled.claim(providers[0], 1).unwrap();
        cancelled.check_cancellable().unwrap();
        cancelled.release(JobState::Cancelled, 5);
        cancelled.invariant().unwrap();
    }

    #[test]
    fn claim_rules_refuse_with_their_errors() {
        let job = open_job(3);
        let hw = concord_staking::HardwareProfile::default();
        let me = Pubkey::new_unique();
        assert_eq!(
            job.claimable_by(&me, &hw, 11),
            Err(MarketError::ClaimDeadlinePassed)
        );
        assert_eq!(
            job.claimable_by(&job.buyer, &hw, 1),
            Err(MarketError::BuyerCannotServe)
        );
        let mut held = open_job(3);
        held.claim(me, 1).unwrap();
        assert_eq!(
            held.claimable_by(&me, &hw, 1),
            Err(MarketError::AlreadyClaimed)
        );
        let mut full = open_job(3);
        full.filled = 3;
        assert_eq!(full.claimable_by(&me, &hw, 1), Err(MarketError::NoFreeSlot));
        let mut picky = open_job(3);
        picky.requirements.min_memory_mib = 1;
        assert_eq!(
            picky.claimable_by(&me, &hw, 1),
            Err(MarketError::RequirementsNotMet)
        );
    }

    /// A dispute through the methods the handlers call: the replicas' phase ends, three
    /// referees (none of them a replica) claim, commit and reveal, and the job can settle.
    #[test]
    fn a_dispute_opens_draws_referees_and_closes_the_replicas_phase() {
        let (mut job, providers) = revealed_job();
        job.slots[2].result_hash = [8; 32];
        assert!(crate::settlement::disagree(job.replica_slots()));
        job.open_dispute(20, 8, 5).unwrap();
        job.invariant().unwrap();
        assert_eq!(
            (job.state, job.referees, job.slot_count()),
            (JobState::Open, 6, 9)
        );
        assert_eq!(
            (job.claim_deadline, job.round_slots, job.draw_round),
            (38, 6, 1)
        );
        assert_eq!(job.seed_slot, 20 + SEED_DELAY_SLOTS);
        assert_eq!(
            code(job.open_dispute(21, 9, 5)),
            Some(MarketError::Disputed.into())
        );
        assert_eq!(
            code(job.check_cancellable()),
            Some(MarketError::Disputed.into())
        );
        assert_eq!(
            code(job.check_expired(39)),
            Some(MarketError::Disputed.into())
        );
        assert_eq!(
            code(job.check_settleable(38)),
            Some(MarketError::SettleTooEarly.into())
        );
        job.check_settleable(39).unwrap();
        let hw = concord_staking::HardwareProfile::default();
        assert_eq!(
            job.claimable_by(&providers[0], &hw, 9),
            Err(MarketError::AlreadyClaimed)
        );
        let referees: Vec<Pubkey> = (0..6).map(|_| Pubkey::new_unique()).collect();
        for (i, r) in referees.iter().enumerate() {
            let claimed = job.claim(*r, 10).unwrap();
            assert_eq!((claimed.index, claimed.started), (3 + i as u8, i == 5));
            job.invariant().unwrap();
        }
        assert_eq!(
            (job.state, job.exec_deadline, job.reveal_deadline),
            (JobState::Running, 20, 30)
        );
        assert_eq!(
            code(job.commit(&providers[0], [1; 32], 11, 11)),
            Some(MarketError::ReplicaPhaseOver.into())
        );
        for r in &referees {
            job.commit(r, [7; 32], 11, 11).unwrap();
        }
        job.check_reveal_open(12).unwrap();
        assert_eq!(
            code(job.reveal(&providers[0], [9; 32], || [7; 32], 12)),
            Some(MarketError::ReplicaPhaseOver.into())
        );
        assert_eq!(
            code(job.check_settleable(12)),
            Some(MarketError::SettleTooEarly.into())
        );
        for r in &referees {
            job.reveal(r, [9; 32], || [7; 32], 12).unwrap();
            job.invariant().unwrap();
        }
        job.check_settleable(12).unwrap();
        assert_eq!(crate::settlement::verdict(&job), Some([9; 32]));
        assert!(!job.referees_settled());
    }

    /// Mutants: each is a job a buggy handler could leave behind; `invariant()` refuses every
    /// one with `InvariantViolated`, so the instruction would fail and roll back.
    #[test]
    fn mutants_breaking_the_invariant_are_refused() {
        type Mutant = (&'static str, fn(&mut Job));
        let mutants: [Mutant; 11] = [
            ("commit without counting", |j| j.committed -= 1),
            ("reveal counted twice", |j| j.revealed = 4),
            ("reveal without status", |j| {
                j.slots[0].status = SlotStatus::Committed
            }),
            ("claim past replicas", |j| j.filled = 4),
            ("slot written past filled", |j| {
                j.filled = 2;
                j.slots[3].status = SlotStatus::Claimed;
            }),
            ("treasury owed more than the vault", |j| {
                j.treasury_due = j.escrow_owed + 1
            }),
            ("settled without paying out", |j| {
                j.state = JobState::Settled
            }),
            ("cancelled with escrow left", |j| {
                j.state = JobState::Cancelled;
                j.escrow_owed = 1;
            }),
            ("more replicas than slots", |j| j.replicas = 6),
            ("slashed without a quorum", |j| {
                j.slots[1].outcome = SlotOutcome::Slashed;
                j.burn_due = j.collateral_per_replica;
                j.escrow_owed += j.burn_due;
            }),
            ("slashed collateral refunded instead of kept to burn", |j| {
                j.agreed_hash = Some([9; 32]);
                j.slots[1].outcome = SlotOutcome::Slashed;
            }),
        ];
        for (name, mutate) in mutants {
            let (mut job, _) = revealed_job();
            mutate(&mut job);
            assert!(job.check_invariant().is_err(), "mutant survived: {name}");
            assert_eq!(
                code(job.invariant()),
                Some(MarketError::InvariantViolated.into()),
                "{name}"
            );
        }
        let mut full_open = open_job(3);
        full_open.filled = 3;
        for s in &mut full_open.slots[..3] {
            s.status = SlotStatus::Claimed;
        }
        assert_eq!(
            full_open.check_invariant(),
            Err("an open job has a free slot")
        );
    }
}
