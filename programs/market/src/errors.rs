//! Named errors of the market program.
use anchor_lang::prelude::*;

#[error_code]
#[derive(PartialEq, Eq)]
pub enum MarketError {
    #[msg("Signer is not the market admin")]
    Unauthorized,
    #[msg("Invalid market parameters")]
    InvalidParams,
    #[msg("The market is paused")]
    MarketPaused,
    #[msg("The payment mint must be the staking program's stake mint")]
    MintMismatch,
    #[msg("The staking config does not name this market's authority")]
    MarketAuthorityMismatch,
    #[msg("A string is longer than its bound")]
    StringTooLong,
    #[msg("Replica count outside the market's bounds")]
    ReplicasOutOfBounds,
    #[msg("Quorum must be more than half of the replicas and fewer than all of them")]
    InvalidQuorum,
    #[msg("Price per replica outside the market's bounds")]
    PriceOutOfBounds,
    #[msg("Collateral per replica below the market's minimum")]
    CollateralTooLow,
    #[msg("A time window is outside the market's bounds")]
    WindowOutOfBounds,
    #[msg("The manifest hash must not be zero")]
    EmptyManifestHash,
    #[msg("The job is not open for claims")]
    JobNotOpen,
    #[msg("The job is not running")]
    JobNotRunning,
    #[msg("The job is not in a terminal state")]
    JobNotTerminal,
    #[msg("The claim deadline has passed")]
    ClaimDeadlinePassed,
    #[msg("The claim deadline has not passed yet")]
    ClaimWindowOpen,
    #[msg("The provider already holds a slot in this job")]
    AlreadyClaimed,
    #[msg("A buyer cannot serve its own job")]
    BuyerCannotServe,
    #[msg("The provider does not meet the job's requirements")]
    RequirementsNotMet,
    #[msg("The signer holds no slot in this job")]
    NotASlotHolder,
    #[msg("The execution deadline has passed")]
    ExecutionDeadlinePassed,
    #[msg("This slot already committed")]
    AlreadyCommitted,
    #[msg("The reveal phase has not started: slots are still committing")]
    RevealNotOpen,
    #[msg("The reveal deadline has passed")]
    RevealDeadlinePassed,
    #[msg("This slot has not committed")]
    NotCommitted,
    #[msg("This slot already revealed")]
    AlreadyRevealed,
    #[msg("The revealed hash and salt do not match the commitment")]
    CommitmentMismatch,
    #[msg("The job cannot settle yet: reveals are outstanding and the reveal window is open")]
    SettleTooEarly,
    #[msg("The job can no longer be cancelled")]
    CannotCancel,
    #[msg("Accounts for the job's slots are missing or in the wrong order")]
    SlotAccountsMismatch,
    #[msg("A payout account is not the slot holder's token account for the payment mint")]
    WrongPayoutAccount,
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("Every slot of the job is taken")]
    NoFreeSlot,
    #[msg("A job account invariant does not hold")]
    InvariantViolated,
    #[msg("The market's fee is above the highest fee the buyer accepts")]
    FeeAboveBuyerBound,
    #[msg("A slot cannot be claimed in the slot that created the job")]
    ClaimInCreationSlot,
    #[msg("The payment mint fails the staking program's mint policy")]
    MintRefused,
    #[msg("This provider was not drawn for the job's current round")]
    NotDrawn,
    #[msg("The slot that seeds the job's draw round has not been produced yet")]
    DrawNotReady,
    #[msg("The job's draw round can no longer be read (its seed slot or weights aged out); begin a new round with redraw")]
    DrawExpired,
    #[msg("The job's current draw round has not had its take window yet")]
    RedrawTooEarly,
    #[msg("The draw set is full")]
    DrawSetFull,
    #[msg("The draw entry does not match the draw set or the provider")]
    DrawSetMismatch,
    #[msg("The job is in a dispute: it ends by settle once its referees have run")]
    Disputed,
    #[msg("The replicas' commit and reveal phase is over: the job is in a dispute")]
    ReplicaPhaseOver,
    #[msg("The dispute's referee slots settle first (settle_referees)")]
    RefereesNotSettled,
    #[msg("The job has no dispute")]
    NotDisputed,
    #[msg("The job's audit is not decided or served yet: send audit, or wait for the auditor")]
    AuditPending,
    #[msg("The job has no audit to decide or drop")]
    NoAuditPending,
}
