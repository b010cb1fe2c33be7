//! `join_draws`: a registered provider takes a place in the draw set (once: its draw entry PDA
//! is created here) with its draw weight, which counts from the next draw epoch.
use anchor_lang::prelude::*;

use crate::events::DrawWeightSet;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct JoinDraws<'info> {
    #[account(mut)]
    pub provider_authority: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump, has_one = draw_set)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(mut)]
    pub draw_set: AccountLoader<'info, DrawSet>,
    #[account(
        init,
        payer = provider_authority,
        space = 8 + DrawEntry::INIT_SPACE,
        seeds = [DRAW_ENTRY_SEED, provider_authority.key().as_ref()],
        bump
    )]
    pub draw_entry: Box<Account<'info, DrawEntry>>,
    #[account(
        seeds = [concord_staking::PROVIDER_SEED, provider_authority.key().as_ref()],
        bump = provider.bump,
        seeds::program = concord_staking::ID
    )]
    pub provider: Box<Account<'info, concord_staking::Provider>>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<JoinDraws>) -> Result<()> {
    let authority = ctx.accounts.provider_authority.key();
    let weight = ctx.accounts.provider.draw_weight();
    let slot = Clock::get()?.slot;
    let mut set = ctx.accounts.draw_set.load_mut()?;
    let index = set.push(authority)?;
    set.set_weight(index, weight, slot)?;
    set.invariant()?;
    let effective_epoch = set.epoch + 1;
    drop(set);
    let entry = &mut ctx.accounts.draw_entry;
    entry.authority = authority;
    entry.index = index;
    entry.bump = ctx.bumps.draw_entry;
    emit_cpi!(DrawWeightSet {
        provider_authority: authority,
        index,
        weight,
        effective_epoch,
    });
    Ok(())
}
