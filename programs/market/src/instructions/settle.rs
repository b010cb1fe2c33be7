//! `settle` (anyone, idempotent): once nothing can change any more (every slot revealed, or
//! every commitment revealed after the execution deadline, or the reveal window closed):
//! - when revealed hashes differ and no dispute is open, opens one (`Job::open_dispute`):
//!   nobody is paid or slashed yet; referees are drawn among providers that hold no slot;
//! - otherwise pays the replicas that revealed the quorum's hash (in a dispute: the referees'
//!   verdict) price minus fee and unlocks their collateral, slashes the collateral of liars and
//!   (when a quorum or verdict formed) no-shows into the job's vault, refunds the buyer
//!   everything not owed to a provider or as fees, and leaves exactly the fees and the slashed
//!   collateral still to burn in the vault. Without a quorum or a verdict nobody is paid or
//!   slashed and the buyer gets the whole deposit back (in a dispute: non-deterministic).
//!   In a dispute `settle_referees` must have run first. The split is `settlement::Payout`.
//!
//! Remaining accounts: for each replica slot in order, the holder's staking `Provider`
//! (writable), its payout token account for the payment mint (writable), and its stake vault
//! (writable). Work: at most `MAX_REPLICAS` slots, each one token transfer plus one staking
//! CPI, or one staking CPI that transfers; opening a dispute moves nothing. No global account
//! is written (the mint stays read-only).
use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::{DisputeOpened, JobSettled, SlotPaid, SlotReleased, SlotSlashed};
use crate::settlement::{opens_dispute, outcomes, verdict, Payout};
use crate::slot_accounts::{parse_slot_accounts, SlotAccounts};
use crate::staking_cpi::*;
use crate::state::*;

/// The accounts of `settle` and `settle_referees`.
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
    let clock = Clock::get()?;
    job.check_settleable(clock.unix_timestamp)?;
    if opens_dispute(job) {
        let take_window = ctx.accounts.escrow.config.params.take_window;
        let job = &mut ctx.accounts.escrow.job;
        job.open_dispute(clock.slot, clock.unix_timestamp, take_window)?;
        job.invariant()?;
        emit_cpi!(DisputeOpened {
            job: job.key(),
            round: job.draw_round,
            seed_slot: job.seed_slot,
            referees: job.referees,
            claim_deadline: job.claim_deadline,
        });
        return Ok(());
    }
    require!(job.referees_settled(), MarketError::RefereesNotSettled);
    let slot_accounts = parse_slot_accounts(
        ctx.remaining_accounts,
        job.replica_slots(),
        3,
        &ctx.accounts.escrow.payment_mint.key(),
    )?;
    let job_key = job.key();
    let winner = verdict(job);
    let outcomes = outcomes(job, winner);
    let payout = Payout::of(job, &outcomes).ok_or(MarketError::MathOverflow)?;
    let replicas = job.replica_slots().to_vec();
    move_slot_money(
        &ctx,
        &slot_accounts,
        &replicas,
        &outcomes,
        payout.provider_pay,
    )?;
    ctx.accounts.escrow.refund_buyer(payout.buyer_refund)?;

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

/// Moves each of `slots`' money for its outcome: a `Paid` slot gets `pay` from the vault and
/// its collateral unlocked, a `Slashed` slot's collateral moves into the vault, any other is
/// unlocked; one event per slot. Slashes go first, so the vault holds the slashed collateral
/// before anything is paid out of it (in a dispute the referees were paid from the deposit
/// ahead of the replicas' slashes). Shared by `settle` (replicas) and `settle_referees`.
pub(crate) fn move_slot_money<'info>(
    ctx: &Context<'info, Settle<'info>>,
    slot_accounts: &[SlotAccounts<'info>],
    slots: &[Slot],
    outcomes: &[SlotOutcome],
    pay: u64,
) -> Result<()> {
    let escrow = &ctx.accounts.escrow;
    let (job_key, collateral) = (escrow.job.key(), escrow.job.collateral_per_replica);
    let staking = ctx.accounts.staking.cpi(ctx.bumps.staking.market_authority);
    let all = || slot_accounts.iter().zip(slots).zip(outcomes);
    let slashes_first = all()
        .filter(|(_, o)| **o == SlotOutcome::Slashed)
        .chain(all().filter(|(_, o)| **o != SlotOutcome::Slashed));
    for ((accounts, slot), outcome) in slashes_first {
        let (payout_account, stake_vault) = match (&accounts.payout, &accounts.stake_vault) {
            (Some(p), Some(v)) => (p, v),
            _ => return err!(MarketError::SlotAccountsMismatch),
        };
        match outcome {
            SlotOutcome::Paid => {
                escrow.pay(payout_account, pay)?;
                staking.unlock(&accounts.provider, collateral, pay)?;
                emit_cpi!(SlotPaid {
                    job: job_key,
                    provider_authority: slot.provider,
                    amount: pay,
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
    Ok(())
}
