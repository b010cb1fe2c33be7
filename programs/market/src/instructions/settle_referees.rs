//! `settle_referees` (anyone, idempotent): the first half of a dispute's settlement, once the
//! referees' phase can settle (`Job::check_settleable`). The verdict is the hash that
//! `REFEREE_QUORUM` referees revealed (`settlement::verdict`); referees who revealed it are
//! paid out of the slashed collateral (`Payout::referee_pay`: at most `price − fee` each, the
//! same for every such referee, whichever hash won), the others are slashed when a verdict
//! formed and released when none did. Records the verdict as the job's agreed hash; `settle`
//! then settles the replicas against it.
//!
//! Accounts: those of `settle`. Remaining accounts: for each referee slot claimed, in slot
//! order, the holder's staking `Provider`, its payout token account and its stake vault (all
//! writable). Work: at most `MAX_REFEREES` slots, each one token transfer plus one staking
//! CPI, or one staking CPI that transfers.
use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::RefereesSettled;
use crate::instructions::settle::{move_slot_money, Settle};
use crate::settlement::{outcomes, verdict, Payout};
use crate::slot_accounts::parse_slot_accounts;
use crate::state::*;

pub fn handler<'info>(ctx: Context<'info, Settle<'info>>) -> Result<()> {
    let job = &ctx.accounts.escrow.job;
    require!(job.disputed(), MarketError::NotDisputed);
    if job.state == JobState::Settled || (job.referees_settled() && !job.referee_slots().is_empty())
    {
        return Ok(());
    }
    job.check_settleable(Clock::get()?.unix_timestamp)?;
    let slot_accounts = parse_slot_accounts(
        ctx.remaining_accounts,
        job.referee_slots(),
        3,
        &ctx.accounts.escrow.payment_mint.key(),
    )?;
    let winner = verdict(job);
    let all = outcomes(job, winner);
    let payout = Payout::of(job, &all).ok_or(MarketError::MathOverflow)?;
    let referees = job.referee_slots().to_vec();
    let theirs = &all[usize::from(job.replicas)..];
    move_slot_money(&ctx, &slot_accounts, &referees, theirs, payout.referee_pay)?;
    let slashed = theirs
        .iter()
        .filter(|o| **o == SlotOutcome::Slashed)
        .count() as u64;
    let slashed_in = job
        .collateral_per_replica
        .checked_mul(slashed)
        .ok_or(MarketError::MathOverflow)?;
    let pay_total = payout
        .referee_pay_total()
        .ok_or(MarketError::MathOverflow)?;

    let job = &mut ctx.accounts.escrow.job;
    job.apply_referee_settlement(theirs, winner, pay_total, slashed_in)?;
    job.invariant()?;
    emit_cpi!(RefereesSettled {
        job: job.key(),
        verdict: winner,
        referees_paid: payout.referees_paid,
        referee_pay: payout.referee_pay,
    });
    Ok(())
}
