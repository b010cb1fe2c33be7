//! `cancel_job`: the buyer cancels a job that is still open, or running with no commitment
//! yet; every claimed slot's collateral is unlocked and the whole deposit is refunded.
//! Also owns the release-and-refund step that `refund_unfilled` shares.
//!
//! Remaining accounts: the staking `Provider` of each claimed slot, in slot order (writable).
use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::JobCancelled;
use crate::slot_accounts::parse_slot_accounts;
use crate::staking_cpi::*;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CancelJob<'info> {
    pub escrow: JobEscrow<'info>,
    #[account(address = escrow.job.buyer @ MarketError::Unauthorized)]
    pub buyer: Signer<'info>,
    pub staking: StakingAccounts<'info>,
}

pub fn handler<'info>(ctx: Context<'info, CancelJob<'info>>) -> Result<()> {
    let job = &ctx.accounts.escrow.job;
    job.check_cancellable()?;
    let refund = release_slots_and_refund(
        &mut ctx.accounts.escrow,
        &ctx.accounts.staking,
        ctx.bumps.staking.market_authority,
        ctx.remaining_accounts,
        JobState::Cancelled,
    )?;
    emit_cpi!(JobCancelled {
        job: ctx.accounts.escrow.job.key(),
        refund,
    });
    Ok(())
}

/// Unlocks the collateral of every claimed slot, refunds everything the vault owes to the
/// buyer, and moves the job to `terminal`. Returns the refund.
pub fn release_slots_and_refund<'info>(
    escrow: &mut JobEscrow<'info>,
    staking: &StakingAccounts<'info>,
    authority_bump: u8,
    remaining: &'info [AccountInfo<'info>],
    terminal: JobState,
) -> Result<u64> {
    let slot_accounts = parse_slot_accounts(remaining, &escrow.job, 1, &escrow.payment_mint.key())?;
    let staking = staking.cpi(authority_bump);
    let collateral = escrow.job.collateral_per_replica;
    for accounts in &slot_accounts {
        staking.unlock(&accounts.provider, collateral, 0)?;
    }
    let refund = escrow.job.escrow_owed;
    escrow.refund_buyer(refund)?;
    escrow.job.release(terminal);
    escrow.job.invariant()?;
    Ok(refund)
}
