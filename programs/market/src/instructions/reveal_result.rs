//! `reveal_result`: a slot holder reveals its result hash and salt, once every slot has
//! committed or the execution deadline has passed, and before the reveal deadline. The
//! program recomputes the commitment and rejects any mismatch.
use anchor_lang::prelude::*;

use crate::commitment::commitment_hash;
use crate::errors::MarketError;
use crate::events::ResultRevealed;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct RevealResult<'info> {
    pub provider_authority: Signer<'info>,
    #[account(mut, seeds = [JOB_SEED, job.buyer.as_ref(), job.job_id.to_le_bytes().as_ref()], bump = job.bump)]
    pub job: Box<Account<'info, Job>>,
}

pub fn handler(ctx: Context<RevealResult>, result_hash: [u8; 32], salt: [u8; 32]) -> Result<()> {
    let authority = ctx.accounts.provider_authority.key();
    let job_key = ctx.accounts.job.key();
    let job = &mut ctx.accounts.job;
    require!(job.state == JobState::Running, MarketError::JobNotRunning);
    let now = Clock::get()?.unix_timestamp;
    require!(
        job.committed == job.replicas || now > job.exec_deadline,
        MarketError::RevealNotOpen
    );
    require!(
        now <= job.reveal_deadline,
        MarketError::RevealDeadlinePassed
    );
    let index = job
        .slot_index_of(&authority)
        .ok_or(MarketError::NotASlotHolder)?;
    let slot = &mut job.slots[index];
    match slot.status {
        SlotStatus::Committed => {}
        SlotStatus::Revealed => return err!(MarketError::AlreadyRevealed),
        _ => return err!(MarketError::NotCommitted),
    }
    require!(
        commitment_hash(&job_key, &authority, &result_hash, &salt) == slot.commitment,
        MarketError::CommitmentMismatch
    );
    slot.result_hash = result_hash;
    slot.status = SlotStatus::Revealed;
    job.revealed += 1;
    emit_cpi!(ResultRevealed {
        job: job_key,
        provider: authority,
        result_hash,
    });
    Ok(())
}
