//! `redraw`: anyone begins a new draw round for an open job's free slots once the current
//! round has had its take window: drawn providers that did not take their slots (offline,
//! busy, out of stake) are replaced by a fresh draw, so no provider can stall a job.
use anchor_lang::prelude::*;

use crate::events::DrawRoundBegun;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct Redraw<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(mut, seeds = [JOB_SEED, job.buyer.as_ref(), job.job_id.to_le_bytes().as_ref()], bump = job.bump)]
    pub job: Box<Account<'info, Job>>,
}

pub fn handler(ctx: Context<Redraw>) -> Result<()> {
    let clock = Clock::get()?;
    let take_window = ctx.accounts.config.params.take_window;
    let job = &mut ctx.accounts.job;
    job.redraw(clock.slot, clock.unix_timestamp, take_window)?;
    job.invariant()?;
    emit_cpi!(DrawRoundBegun {
        job: job.key(),
        round: job.draw_round,
        seed_slot: job.seed_slot,
        slots: job.round_slots,
    });
    Ok(())
}
