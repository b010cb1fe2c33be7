//! `cancel_job`: the buyer cancels a job that is still open. Providers that claimed a slot may
//! already have run the job, so each claimed slot is compensated as if paid (price minus fee,
//! collateral unlocked); the rest of the deposit is refunded. A running job cannot be
//! cancelled: it ends by `settle`. Also owns the release step that `refund_unfilled` shares.
//!
//! Remaining accounts: for each claimed slot, in slot order, the holder's staking `Provider`
//! (writable), its payout token account for the payment mint (writable) and its stake vault
//! (the layout `settle` takes). Work: at most `MAX_REPLICAS` transfers and staking CPIs.
use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::{JobCancelled, SlotCompensated};
use crate::settlement::Payout;
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
    let escrow = &ctx.accounts.escrow;
    escrow.job.check_cancellable()?;
    let slot_accounts = parse_slot_accounts(
        ctx.remaining_accounts,
        escrow.job.filled_slots(),
        3,
        &escrow.payment_mint.key(),
    )?;
    let outcomes = [SlotOutcome::Compensated; MAX_SLOTS];
    let filled = escrow.job.filled_slots().len();
    let payout = Payout::of(&escrow.job, &outcomes[..filled]).ok_or(MarketError::MathOverflow)?;
    let staking = ctx.accounts.staking.cpi(ctx.bumps.staking.market_authority);
    let (job_key, collateral) = (escrow.job.key(), escrow.job.collateral_per_replica);
    for (accounts, slot) in slot_accounts.iter().zip(escrow.job.slots) {
        let to = accounts
            .payout
            .as_ref()
            .ok_or(MarketError::SlotAccountsMismatch)?;
        escrow.pay(to, payout.provider_pay)?;
        staking.unlock(&accounts.provider, collateral, payout.provider_pay)?;
        emit_cpi!(SlotCompensated {
            job: job_key,
            provider_authority: slot.provider,
            amount: payout.provider_pay,
        });
    }
    escrow.refund_buyer(payout.buyer_refund)?;
    let job = &mut ctx.accounts.escrow.job;
    job.release(JobState::Cancelled, payout.treasury_due);
    job.invariant()?;
    emit_cpi!(JobCancelled {
        job: job_key,
        refund: payout.buyer_refund,
    });
    Ok(())
}
