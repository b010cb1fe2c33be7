//! `commit_result`: a slot holder posts `commitment_hash(job, provider, result_hash, salt)`
//! before the execution deadline, or already while the replicas' slots fill (in the claim's
//! own transaction: `Job::check_commit_open`). Once per slot. The last replica's commit arms the job's
//! hidden audit (`Job::commit`).
use anchor_lang::prelude::*;

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
    let clock = Clock::get()?;
    job.commit(&authority, commitment, clock.unix_timestamp, clock.slot)?;
    job.invariant()?;
    emit_cpi!(ResultCommitted {
        job: job.key(),
        provider_authority: authority,
        commitment,
    });
    Ok(())
}
