//! `update_config`: the admin changes the minimum stake and the unbonding period.
use anchor_lang::prelude::*;

use crate::errors::StakingError;
use crate::events::ConfigUpdated;
use crate::state::{ConfigParams, StakingConfig, CONFIG_SEED};

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateConfig<'info> {
    pub admin: Signer<'info>,
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump, has_one = admin @ StakingError::Unauthorized)]
    pub config: Account<'info, StakingConfig>,
}

pub fn handler(ctx: Context<UpdateConfig>, params: ConfigParams) -> Result<()> {
    params.validate()?;
    let config = &mut ctx.accounts.config;
    config.min_stake = params.min_stake;
    config.unbonding_period = params.unbonding_period;
    emit_cpi!(ConfigUpdated {
        admin: config.admin,
        freeze_authority_trusted: config.freeze_authority_trusted,
        min_stake: config.min_stake,
        unbonding_period: config.unbonding_period,
    });
    Ok(())
}
