//! `commit_result`: a slot holder posts `commitment_hash(job, provider, result_hash, salt)`
//! before the execution deadline. Once per slot.
use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::ResultCommitted;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CommitResult<'info> {
    pub provider_authority: Signer<'info>,
    #[account(mut, seeds = [JOB_SEED, job.buyer.as_ref(), job.job_id.to_le_bytes().as_ref()], bump = job.bump)]
    pub job: Box<Account<'info, Job>>,
}

pub fn handler(ctx: Context<CommitResult>, commitment: [u8; 32]) -> Result<()> {
    let authority = ctx.accounts.provider_authority.key();
    let job = &mut ctx.accounts.job;
    require!(job.state == JobState::Running, MarketError::JobNotRunning);
    require!(
        Clock::get()?.unix_timestamp <= job.exec_deadline,
        MarketError::ExecutionDeadlinePassed
    );
    let index = job
        .slot_index_of(&authority)
        .ok_or(MarketError::NotASlotHolder)?;
    let slot = &mut job.slots[index];
    require!(
        slot.status == SlotStatus::Claimed,
        MarketError::AlreadyCommitted
    );
    slot.commitment = commitment;
    slot.status = SlotStatus::Committed;
    job.committed += 1;
    emit_cpi!(ResultCommitted {
        job: job.key(),
        provider: authority,
        commitment,
    });
    Ok(())
}
