//! `redraw`: anyone begins a new draw round for an open job's free slots once the current
//! round has had its take window: drawn providers that did not take their slots (offline,
//! busy, out of stake) are replaced by a fresh draw and passed over by the job from then on,
//! so no provider can stall a job. Reads the draw set and SlotHashes (to know who the current
//! round drew; a round that can no longer be read is replaced all the same).
use anchor_lang::prelude::*;

use crate::events::DrawRoundBegun;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct Redraw<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump, has_one = draw_set)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(mut, seeds = [JOB_SEED, job.buyer.as_ref(), job.job_id.to_le_bytes().as_ref()], bump = job.bump)]
    pub job: Box<Account<'info, Job>>,
    pub draw_set: AccountLoader<'info, DrawSet>,
    /// CHECK: the SlotHashes sysvar (by address), parsed by `draw::seed_entry`.
    #[account(address = solana_sdk_ids::sysvar::slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<Redraw>) -> Result<()> {
    let clock = Clock::get()?;
    let take_window = ctx.accounts.config.params.take_window;
    let set = ctx.accounts.draw_set.load()?;
    let slot_hashes = ctx.accounts.slot_hashes.try_borrow_data()?;
    let job_key = ctx.accounts.job.key();
    let absent = ctx
        .accounts
        .job
        .drawn(&job_key, &set, &slot_hashes)
        .unwrap_or_default();
    let job = &mut ctx.accounts.job;
    job.redraw(clock.slot, clock.unix_timestamp, take_window, &absent, &set)?;
    job.invariant()?;
    emit_cpi!(DrawRoundBegun {
        job: job.key(),
        round: job.draw_round,
        seed_slot: job.seed_slot,
        slots: job.round_slots,
    });
    Ok(())
}
