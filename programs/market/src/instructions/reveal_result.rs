//! `reveal_result`: a slot holder reveals its result hash and salt, once every slot has
//! committed or the execution deadline has passed, and before the reveal deadline. The
//! program recomputes the commitment and rejects any mismatch.
use anchor_lang::prelude::*;

use crate::commitment::commitment_hash;
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
    let opens = || commitment_hash(&job_key, &authority, &result_hash, &salt);
    job.reveal(&authority, result_hash, opens, Clock::get()?.unix_timestamp)?;
    job.invariant()?;
    emit_cpi!(ResultRevealed {
        job: job_key,
        provider_authority: authority,
        result_hash,
    });
    Ok(())
}
