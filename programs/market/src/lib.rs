//! Concord market program: market config, jobs with a per-job escrow vault, slot claims backed
//! by staked collateral, commit/reveal of result hashes, settlement by quorum, refunds and close.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod commitment;
pub mod draw;
pub mod errors;
pub mod escrow;
pub mod events;
pub mod instructions;
pub mod settlement;
pub mod slot_accounts;
pub mod staking_cpi;
pub mod state;

pub use commitment::{commitment_hash, COMMITMENT_DOMAIN};
use instructions::*;
pub use state::*;

declare_id!("8SEu1oZuex4v4i7nr6M4JJiUoc3sADq4SGL4KqPEr7dm");

#[program]
pub mod concord_market {
    use super::*;

    /// Creates the market config, fixes the payment mint and treasury, and takes the draw set
    /// (created beforehand at `DrawSet::SPACE` bytes, owned by this program) with draw epochs
    /// of `draw_epoch_slots` slots.
    pub fn initialize_market(
        ctx: Context<InitializeMarket>,
        params: MarketParams,
        draw_epoch_slots: u64,
    ) -> Result<()> {
        instructions::initialize_market::handler(ctx, params, draw_epoch_slots)
    }

    /// Admin only: changes the market parameters and the treasury account.
    pub fn update_market(ctx: Context<UpdateMarket>, params: MarketParams) -> Result<()> {
        instructions::update_market::handler(ctx, params)
    }

    /// Admin only: pauses or resumes job creation and slot claims (never exits or settlement).
    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        instructions::set_paused::handler(ctx, paused)
    }

    /// Buyer creates a job and escrows `replicas × price_per_replica` in the job's vault.
    pub fn create_job(ctx: Context<CreateJob>, args: CreateJobArgs) -> Result<()> {
        instructions::create_job::handler(ctx, args)
    }

    /// A provider joins the draws: its draw weight (bonded stake while accepting jobs) counts
    /// from the next draw epoch.
    pub fn join_draws(ctx: Context<JoinDraws>) -> Result<()> {
        instructions::join_draws::handler(ctx)
    }

    /// Anyone sets a joined provider's draw weight to what its stake account says now.
    pub fn sync_draw_weight(ctx: Context<SyncDrawWeight>) -> Result<()> {
        instructions::sync_draw_weight::handler(ctx)
    }

    /// A provider drawn in the job's current round takes a slot; its collateral is locked.
    pub fn claim_slot(ctx: Context<ClaimSlot>) -> Result<()> {
        instructions::claim_slot::handler(ctx)
    }

    /// Anyone begins a new draw round for an open job's free slots, a take window after the
    /// current round began (drawn providers that did not take their slots are replaced).
    pub fn redraw(ctx: Context<Redraw>) -> Result<()> {
        instructions::redraw::handler(ctx)
    }

    /// A slot holder posts the commitment to its result hash: once the job runs, or already
    /// while its replicas' slots fill (a drawn provider claims and commits in one transaction).
    pub fn commit_result(ctx: Context<CommitResult>, commitment: [u8; 32]) -> Result<()> {
        instructions::commit_result::handler(ctx, commitment)
    }

    /// A slot holder reveals its result hash and salt once the commit phase is closed.
    pub fn reveal_result(
        ctx: Context<RevealResult>,
        result_hash: [u8; 32],
        salt: [u8; 32],
    ) -> Result<()> {
        instructions::reveal_result::handler(ctx, result_hash, salt)
    }

    /// Anyone settles a running job once nothing can change: every slot revealed, every
    /// commitment revealed after the execution deadline, or the reveal window closed. Revealed
    /// hashes that differ open a dispute instead; in a dispute, `settle_referees` goes first.
    pub fn settle<'info>(ctx: Context<'info, Settle<'info>>) -> Result<()> {
        instructions::settle::handler(ctx)
    }

    /// Anyone decides a job's hidden audit once its seed slot (after the last replica's
    /// commit) was produced, or drops an audit nobody came to serve.
    pub fn audit(ctx: Context<Audit>) -> Result<()> {
        instructions::audit::handler(ctx)
    }

    /// Anyone settles a dispute's referees once their phase is over: the verdict, their pay
    /// out of slashed collateral, their slashes. `settle` then settles the replicas.
    pub fn settle_referees<'info>(ctx: Context<'info, Settle<'info>>) -> Result<()> {
        instructions::settle_referees::handler(ctx)
    }

    /// Buyer cancels an open job; claimed slots compensated, the rest of the deposit refunded.
    pub fn cancel_job<'info>(ctx: Context<'info, CancelJob<'info>>) -> Result<()> {
        instructions::cancel_job::handler(ctx)
    }

    /// Anyone refunds a job whose slots were not all claimed by the claim deadline.
    pub fn refund_unfilled<'info>(ctx: Context<'info, RefundUnfilled<'info>>) -> Result<()> {
        instructions::refund_unfilled::handler(ctx)
    }

    /// Anyone closes a terminal job: fees to the fee vault, rent and stray tokens to the buyer.
    pub fn close_job(ctx: Context<CloseJob>) -> Result<()> {
        instructions::close_job::handler(ctx)
    }

    /// Admin only: moves the fee vault's balance to the treasury.
    pub fn withdraw_fees(ctx: Context<WithdrawFees>) -> Result<()> {
        instructions::withdraw_fees::handler(ctx)
    }
}
