//! `settle` (anyone, idempotent): once every slot revealed or the reveal window closed, pays
//! the providers that revealed the quorum's hash (price minus fee) and unlocks their collateral,
//! slashes liars and no-shows into the job's vault, refunds the buyer everything that is not
//! owed to a provider or the treasury, and leaves exactly the treasury's due in the vault.
//! Without a quorum the buyer gets the whole deposit back and revealers are unlocked unpaid.
//!
//! Remaining accounts: for each slot in order, the holder's staking `Provider` (writable), its
//! payout token account for the payment mint (writable), and its stake vault (writable).
use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::{JobSettled, SlotPaid, SlotReleased, SlotSlashed};
use crate::settlement::{slot_outcome, winning_hash};
use crate::slot_accounts::parse_slot_accounts;
use crate::staking_cpi::*;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct Settle<'info> {
    pub escrow: JobEscrow<'info>,
    pub staking: StakingAccounts<'info>,
}

/// Money moved by a settlement, for the buyer's and the treasury's sums.
#[derive(Default)]
struct Totals {
    paid: u8,
    slashed: u8,
    slashed_amount: u64,
    treasury_slash: u64,
}

pub fn handler<'info>(ctx: Context<'info, Settle<'info>>) -> Result<()> {
    let job = &ctx.accounts.escrow.job;
    if job.state == JobState::Settled {
        return Ok(());
    }
    job.check_settleable(Clock::get()?.unix_timestamp)?;
    let slot_accounts = parse_slot_accounts(
        ctx.remaining_accounts,
        job,
        3,
        &ctx.accounts.escrow.payment_mint.key(),
    )?;
    let job_key = job.key();
    let winner = winning_hash(job.active_slots(), job.quorum);
    let (price, fee, collateral) = (
        job.price_per_replica,
        job.fee_per_replica,
        job.collateral_per_replica,
    );
    let provider_pay = price.checked_sub(fee).ok_or(MarketError::MathOverflow)?;
    let slots = job.slots;
    let slash_bps = u128::from(job.slash_treasury_bps);

    let staking = ctx.accounts.staking.cpi(ctx.bumps.staking.market_authority);
    let mut totals = Totals::default();
    let mut outcomes = [SlotOutcome::Pending; MAX_REPLICAS];
    for (i, accounts) in slot_accounts.iter().enumerate() {
        let slot = slots[i];
        let outcome = slot_outcome(&slot, winner);
        let (payout, stake_vault) = match (&accounts.payout, &accounts.stake_vault) {
            (Some(p), Some(v)) => (p, v),
            _ => return err!(MarketError::SlotAccountsMismatch),
        };
        match outcome {
            SlotOutcome::Paid => {
                ctx.accounts.escrow.pay(payout, provider_pay)?;
                staking.unlock(&accounts.provider, collateral, provider_pay)?;
                totals.paid += 1;
                emit_cpi!(SlotPaid {
                    job: job_key,
                    provider_authority: slot.provider,
                    amount: provider_pay,
                });
            }
            SlotOutcome::Unpaid => {
                staking.unlock(&accounts.provider, collateral, 0)?;
                emit_cpi!(SlotReleased {
                    job: job_key,
                    provider_authority: slot.provider,
                });
            }
            _ => {
                let escrow = &ctx.accounts.escrow;
                staking.slash(
                    &accounts.provider,
                    stake_vault,
                    &escrow.vault.to_account_info(),
                    &escrow.payment_mint.to_account_info(),
                    &escrow.token_program.to_account_info(),
                    collateral,
                )?;
                totals.slashed += 1;
                totals.slashed_amount = totals
                    .slashed_amount
                    .checked_add(collateral)
                    .ok_or(MarketError::MathOverflow)?;
                let share = u128::from(collateral) * slash_bps / u128::from(BPS_DENOMINATOR);
                totals.treasury_slash = totals
                    .treasury_slash
                    .checked_add(u64::try_from(share).map_err(|_| MarketError::MathOverflow)?)
                    .ok_or(MarketError::MathOverflow)?;
                emit_cpi!(SlotSlashed {
                    job: job_key,
                    provider_authority: slot.provider,
                    amount: collateral,
                    revealed_other_hash: slot.status == SlotStatus::Revealed,
                });
            }
        }
        outcomes[i] = outcome;
    }

    let paid = u64::from(totals.paid);
    let treasury_due = fee
        .checked_mul(paid)
        .and_then(|f| f.checked_add(totals.treasury_slash))
        .ok_or(MarketError::MathOverflow)?;
    let buyer_refund = ctx
        .accounts
        .escrow
        .job
        .escrow_owed
        .checked_sub(price.checked_mul(paid).ok_or(MarketError::MathOverflow)?)
        .and_then(|v| v.checked_add(totals.slashed_amount))
        .and_then(|v| v.checked_sub(totals.treasury_slash))
        .ok_or(MarketError::MathOverflow)?;
    ctx.accounts.escrow.refund_buyer(buyer_refund)?;

    let job = &mut ctx.accounts.escrow.job;
    job.apply_settlement(&outcomes, winner, treasury_due);
    job.invariant()?;
    emit_cpi!(JobSettled {
        job: job_key,
        agreed_hash: winner,
        paid: totals.paid,
        slashed: totals.slashed,
        buyer_refund,
        treasury_due,
    });
    Ok(())
}
