//! `lock_collateral` (market only): locks free stake as collateral for a job slot. The provider
//! must accept jobs and hold at least the minimum bonded stake.
use anchor_lang::prelude::*;

use crate::errors::StakingError;
use crate::events::CollateralLocked;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct LockCollateral<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump, has_one = market_authority @ StakingError::UnauthorizedMarket)]
    pub config: Account<'info, StakingConfig>,
    pub market_authority: Signer<'info>,
    #[account(mut, seeds = [PROVIDER_SEED, provider.authority.as_ref()], bump = provider.bump)]
    pub provider: Account<'info, Provider>,
}

pub fn handler(ctx: Context<LockCollateral>, amount: u64) -> Result<()> {
    let min_stake = ctx.accounts.config.min_stake;
    let provider = &mut ctx.accounts.provider;
    provider.lock(amount, min_stake)?;
    provider.invariant()?;
    emit_cpi!(CollateralLocked {
        provider: provider.key(),
        amount,
        locked: provider.locked,
    });
    Ok(())
}
