//! `refund_unfilled` (anyone): a job whose slots were not all claimed by the claim deadline is
//! refunded to the buyer in full, and the collateral of the slots that were claimed unlocked,
//! unpaid (nobody can finish the job, and a provider must not profit from an expiry it can
//! cause by claiming a job that will not fill). A dispute's referee slots that do not fill
//! end by `settle` instead (`Disputed`).
//!
//! Remaining accounts: the staking `Provider` of each claimed slot, in slot order (writable).
//! Work: at most `MAX_REPLICAS` staking CPIs.
use anchor_lang::prelude::*;

use crate::escrow::*;
use crate::events::JobExpired;
use crate::slot_accounts::parse_slot_accounts;
use crate::staking_cpi::*;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct RefundUnfilled<'info> {
    pub escrow: JobEscrow<'info>,
    pub staking: StakingAccounts<'info>,
}

pub fn handler<'info>(ctx: Context<'info, RefundUnfilled<'info>>) -> Result<()> {
    let escrow = &ctx.accounts.escrow;
    escrow.job.check_expired(Clock::get()?.unix_timestamp)?;
    let slot_accounts = parse_slot_accounts(
        ctx.remaining_accounts,
        escrow.job.filled_slots(),
        1,
        &escrow.payment_mint.key(),
    )?;
    let staking = ctx.accounts.staking.cpi(ctx.bumps.staking.market_authority);
    for accounts in &slot_accounts {
        staking.unlock(&accounts.provider, escrow.job.collateral_per_replica, 0)?;
    }
    let refund = escrow.job.escrow_owed;
    escrow.refund_buyer(refund)?;
    let job = &mut ctx.accounts.escrow.job;
    job.release(JobState::Expired, 0);
    job.invariant()?;
    emit_cpi!(JobExpired {
        job: job.key(),
        refund,
    });
    Ok(())
}
