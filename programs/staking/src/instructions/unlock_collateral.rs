//! `unlock_collateral` (market only): releases locked collateral when a slot ends without a
//! slash, and records what the job paid the provider.
use anchor_lang::prelude::*;

use crate::errors::StakingError;
use crate::events::CollateralUnlocked;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct UnlockCollateral<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump, has_one = market_authority @ StakingError::UnauthorizedMarket)]
    pub config: Account<'info, StakingConfig>,
    pub market_authority: Signer<'info>,
    #[account(mut, seeds = [PROVIDER_SEED, provider.authority.as_ref()], bump = provider.bump)]
    pub provider: Account<'info, Provider>,
}

pub fn handler(ctx: Context<UnlockCollateral>, amount: u64, paid: u64) -> Result<()> {
    let provider = &mut ctx.accounts.provider;
    provider.unlock(amount, paid)?;
    provider.invariant()?;
    emit_cpi!(CollateralUnlocked {
        provider: provider.key(),
        amount,
        paid,
    });
    Ok(())
}
