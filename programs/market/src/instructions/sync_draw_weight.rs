//! `sync_draw_weight`: anyone sets a joined provider's draw weight to what its stake account
//! says now (after a deposit, an unbonding request, a slash, a pause or a close). Competitors
//! have every reason to sync a provider whose stake fell: its weight is their loss.
use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::DrawWeightSet;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct SyncDrawWeight<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump, has_one = draw_set)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(mut)]
    pub draw_set: AccountLoader<'info, DrawSet>,
    #[account(seeds = [DRAW_ENTRY_SEED, draw_entry.authority.as_ref()], bump = draw_entry.bump)]
    pub draw_entry: Box<Account<'info, DrawEntry>>,
    /// CHECK: the staking program's provider PDA of the entry's authority; a closed provider
    /// (no data) weighs nothing, an open one is read as `concord_staking::Provider`.
    #[account(
        seeds = [concord_staking::PROVIDER_SEED, draw_entry.authority.as_ref()],
        bump,
        seeds::program = concord_staking::ID
    )]
    pub provider: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<SyncDrawWeight>) -> Result<()> {
    // A staking PDA with data can only be the staking program's (only it signs for the
    // address); the discriminator is checked by the deserialization.
    let weight = if ctx.accounts.provider.data_is_empty() {
        0
    } else {
        let data = ctx.accounts.provider.try_borrow_data()?;
        concord_staking::Provider::try_deserialize(&mut &data[..])?.draw_weight()
    };
    let entry = &ctx.accounts.draw_entry;
    let mut set = ctx.accounts.draw_set.load_mut()?;
    require_keys_eq!(
        set.authorities[entry.index as usize],
        entry.authority,
        MarketError::DrawSetMismatch
    );
    set.set_weight(entry.index, weight, Clock::get()?.slot)?;
    set.invariant()?;
    let effective_epoch = set.epoch + 1;
    drop(set);
    emit_cpi!(DrawWeightSet {
        provider_authority: entry.authority,
        index: entry.index,
        weight,
        effective_epoch,
    });
    Ok(())
}
