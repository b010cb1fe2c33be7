//! `refund_unfilled` (anyone): a job whose slots were not all claimed by the claim deadline is
//! refunded to the buyer in full, and the collateral of the slots that were claimed unlocked.
//!
//! Remaining accounts: the staking `Provider` of each claimed slot, in slot order (writable).
use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::JobExpired;
use crate::instructions::cancel_job::release_slots_and_refund;
use crate::staking_cpi::*;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct RefundUnfilled<'info> {
    pub escrow: JobEscrow<'info>,
    pub staking: StakingAccounts<'info>,
}

pub fn handler<'info>(ctx: Context<'info, RefundUnfilled<'info>>) -> Result<()> {
    let job = &ctx.accounts.escrow.job;
    require!(job.state == JobState::Open, MarketError::JobNotOpen);
    require!(
        Clock::get()?.unix_timestamp > job.claim_deadline,
        MarketError::ClaimWindowOpen
    );
    let refund = release_slots_and_refund(
        &mut ctx.accounts.escrow,
        &ctx.accounts.staking,
        ctx.bumps.staking.market_authority,
        ctx.remaining_accounts,
        JobState::Expired,
    )?;
    emit_cpi!(JobExpired {
        job: ctx.accounts.escrow.job.key(),
        refund,
    });
    Ok(())
}
