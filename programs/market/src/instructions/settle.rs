//! `settle` (anyone, idempotent): once nothing can change any more (every slot revealed, or
//! every commitment revealed after the execution deadline, or the reveal window closed), pays
//! the providers that revealed the quorum's hash (price minus fee) and unlocks their collateral,
//! slashes the collateral of liars and (when a quorum formed) no-shows into the job's vault to
//! be burned at close, refunds the buyer everything not owed to a provider or as fees, and
//! leaves exactly the fees and the slashed collateral in the vault.
//! Without a quorum nobody is paid or slashed and the buyer gets the whole deposit back.
//! The split is `settlement::Payout`.
//!
//! Remaining accounts: for each slot in order, the holder's staking `Provider` (writable), its
//! payout token account for the payment mint (writable), and its stake vault (writable).
//! Work: at most `MAX_REPLICAS` slots, each one token transfer plus one staking CPI, or one
//! staking CPI that transfers. No global account is written (the mint stays read-only).
use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::{JobSettled, SlotPaid, SlotReleased, SlotSlashed};
use crate::settlement::{slot_outcome, winning_hash, Payout};
use crate::slot_accounts::parse_slot_accounts;
use crate::staking_cpi::*;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct Settle<'info> {
    pub escrow: JobEscrow<'info>,
    pub staking: StakingAccounts<'info>,
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
    let mut outcomes = [SlotOutcome::Pending; MAX_REPLICAS];
    for (outcome, slot) in outcomes.iter_mut().zip(job.filled_slots()) {
        *outcome = slot_outcome(slot, winner);
    }
    let filled = job.filled_slots().len();
    let payout = Payout::of(job, &outcomes[..filled]).ok_or(MarketError::MathOverflow)?;
    let collateral = job.collateral_per_replica;
    let slots = job.slots;

    let staking = ctx.accounts.staking.cpi(ctx.bumps.staking.market_authority);
    let escrow = &ctx.accounts.escrow;
    for ((accounts, slot), outcome) in slot_accounts.iter().zip(slots).zip(outcomes) {
        let (payout_account, stake_vault) = match (&accounts.payout, &accounts.stake_vault) {
            (Some(p), Some(v)) => (p, v),
            _ => return err!(MarketError::SlotAccountsMismatch),
        };
        match outcome {
            SlotOutcome::Paid => {
                escrow.pay(payout_account, payout.provider_pay)?;
                staking.unlock(&accounts.provider, collateral, payout.provider_pay)?;
                emit_cpi!(SlotPaid {
                    job: job_key,
                    provider_authority: slot.provider,
                    amount: payout.provider_pay,
                });
            }
            SlotOutcome::Slashed => {
                staking.slash(
                    &accounts.provider,
                    stake_vault,
                    &escrow.vault.to_account_info(),
                    &escrow.payment_mint.to_account_info(),
                    &escrow.token_program.to_account_info(),
                    collateral,
                )?;
                emit_cpi!(SlotSlashed {
                    job: job_key,
                    provider_authority: slot.provider,
                    amount: collateral,
                    revealed_other_hash: slot.status == SlotStatus::Revealed,
                });
            }
            _ => {
                staking.unlock(&accounts.provider, collateral, 0)?;
                emit_cpi!(SlotReleased {
                    job: job_key,
                    provider_authority: slot.provider,
                });
            }
        }
    }
    escrow.refund_buyer(payout.buyer_refund)?;

    let job = &mut ctx.accounts.escrow.job;
    job.apply_settlement(&outcomes, winner, payout.treasury_due, payout.burn_due)?;
    job.invariant()?;
    emit_cpi!(JobSettled {
        job: job_key,
        agreed_hash: winner,
        paid: payout.paid,
        slashed: payout.slashed,
        burn_due: payout.burn_due,
        buyer_refund: payout.buyer_refund,
        treasury_due: payout.treasury_due,
    });
    Ok(())
}
