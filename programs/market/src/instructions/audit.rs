//! `audit` (anyone): decides a job's hidden audit once its seed slot was produced. The seed is
//! the bank hash of a slot after the last replica's commit (`Job::commit`), so no replica knew
//! whether it would be checked when it committed; with the job's `audit_bps` probability one
//! further replica (the auditor) is drawn passing over the replicas, and reveals wait until it
//! committed (`Job::check_reveal_open`), so nobody can copy a hash. Also re-seeds a decision
//! whose seed aged out of SlotHashes, and drops an audit whose slot did not fill in time.
//! Work: one SlotHashes binary search (≤ 512 entries), one SHA-256.
use anchor_lang::prelude::*;

use crate::events::AuditDecided;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct Audit<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(mut, seeds = [JOB_SEED, job.buyer.as_ref(), job.job_id.to_le_bytes().as_ref()], bump = job.bump)]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: the SlotHashes sysvar (by address), parsed by `draw::seed_entry`.
    #[account(address = solana_sdk_ids::sysvar::slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<Audit>) -> Result<()> {
    let clock = Clock::get()?;
    let take_window = ctx.accounts.config.params.take_window;
    let slot_hashes = ctx.accounts.slot_hashes.try_borrow_data()?;
    let job_key = ctx.accounts.job.key();
    let job = &mut ctx.accounts.job;
    let decision = job.decide_audit(
        &job_key,
        &slot_hashes,
        clock.slot,
        clock.unix_timestamp,
        take_window,
    )?;
    job.invariant()?;
    let seed_slot = match decision {
        AuditDecision::Audited => job.seed_slot,
        _ => job.audit_seed_slot,
    };
    emit_cpi!(AuditDecided {
        job: job_key,
        decision: decision.name().into(),
        round: job.draw_round,
        seed_slot,
    });
    Ok(())
}
