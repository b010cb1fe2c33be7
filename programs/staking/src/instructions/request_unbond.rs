//! `request_unbond`: the provider starts unbonding free stake; locked stake can never unbond.
//! A second request adds to the amount and restarts the period. The provider states the
//! longest unbonding period it accepts, so an admin cannot raise the period (up to a year)
//! in front of its request.
use anchor_lang::prelude::*;

use crate::errors::StakingError;
use crate::events::UnbondRequested;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct RequestUnbond<'info> {
    pub authority: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Account<'info, StakingConfig>,
    #[account(mut, seeds = [PROVIDER_SEED, authority.key().as_ref()], bump = provider.bump, has_one = authority)]
    pub provider: Account<'info, Provider>,
}

pub fn handler(ctx: Context<RequestUnbond>, amount: u64, max_unbonding_period: i64) -> Result<()> {
    require!(
        ctx.accounts.config.unbonding_period <= max_unbonding_period,
        StakingError::UnbondingPeriodAboveBound
    );
    let provider = &mut ctx.accounts.provider;
    let release_at = Clock::get()?
        .unix_timestamp
        .checked_add(ctx.accounts.config.unbonding_period)
        .ok_or(StakingError::MathOverflow)?;
    provider.request_unbond(amount, release_at)?;
    provider.invariant()?;
    emit_cpi!(UnbondRequested {
        provider: provider.key(),
        amount,
        release_at,
    });
    Ok(())
}
