//! `claim_slot`: a provider drawn in the job's current round (`Job::check_drawn`, over the
//! draw set and the SlotHashes sysvar, both read-only) takes the next free slot; its
//! collateral is locked in staking by CPI. The last claim starts the job and fixes its
//! deadlines.
use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::{JobStarted, SlotClaimed};
use crate::staking_cpi::*;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct ClaimSlot<'info> {
    pub provider_authority: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump, has_one = draw_set)]
    pub config: Box<Account<'info, MarketConfig>>,
    pub draw_set: AccountLoader<'info, DrawSet>,
    #[account(
        seeds = [DRAW_ENTRY_SEED, provider_authority.key().as_ref()],
        bump = draw_entry.bump
    )]
    pub draw_entry: Box<Account<'info, DrawEntry>>,
    /// CHECK: the SlotHashes sysvar (by address), parsed by `draw::seed_entry`.
    #[account(address = solana_sdk_ids::sysvar::slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,
    #[account(mut, seeds = [JOB_SEED, job.buyer.as_ref(), job.job_id.to_le_bytes().as_ref()], bump = job.bump)]
    pub job: Box<Account<'info, Job>>,
    #[account(
        mut,
        seeds = [concord_staking::PROVIDER_SEED, provider_authority.key().as_ref()],
        bump = provider.bump,
        seeds::program = concord_staking::ID
    )]
    pub provider: Box<Account<'info, concord_staking::Provider>>,
    pub staking: StakingAccounts<'info>,
}

pub fn handler(ctx: Context<ClaimSlot>) -> Result<()> {
    require!(!ctx.accounts.config.paused, MarketError::MarketPaused);
    let authority = ctx.accounts.provider_authority.key();
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    ctx.accounts.job.check_claim_slot(clock.slot)?;
    ctx.accounts
        .job
        .claimable_by(&authority, &ctx.accounts.provider.hardware, now)
        .map_err(|e| error!(e))?;
    {
        let set = ctx.accounts.draw_set.load()?;
        let entry = &ctx.accounts.draw_entry;
        require_keys_eq!(
            set.authorities[entry.index as usize],
            authority,
            MarketError::DrawSetMismatch
        );
        let slot_hashes = ctx.accounts.slot_hashes.try_borrow_data()?;
        ctx.accounts.job.check_drawn(
            &ctx.accounts.job.key(),
            &set,
            &slot_hashes,
            entry.index,
            ctx.accounts.provider.draw_weight(),
        )?;
    }
    ctx.accounts
        .staking
        .cpi(ctx.bumps.staking.market_authority)
        .lock(
            &ctx.accounts.provider.to_account_info(),
            ctx.accounts.job.collateral_per_replica,
        )?;

    let job = &mut ctx.accounts.job;
    let Claimed { index, started } = job.claim(authority, now)?;
    job.invariant()?;
    let job_key = job.key();
    let (exec_deadline, reveal_deadline) = (job.exec_deadline, job.reveal_deadline);
    emit_cpi!(SlotClaimed {
        job: job_key,
        provider_authority: authority,
        slot: index,
    });
    if started {
        emit_cpi!(JobStarted {
            job: job_key,
            exec_deadline,
            reveal_deadline,
        });
    }
    Ok(())
}
