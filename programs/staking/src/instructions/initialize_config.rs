//! `initialize_config`: creates the one staking config of this deployment, refusing a stake
//! mint that `mint_policy` does not accept.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::Mint;

use crate::events::ConfigUpdated;
use crate::mint_policy::check_mint;
use crate::state::{ConfigParams, StakingConfig, CONFIG_SEED};

#[event_cpi]
#[derive(Accounts)]
pub struct InitializeConfig<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(init, payer = admin, space = 8 + StakingConfig::INIT_SPACE, seeds = [CONFIG_SEED], bump)]
    pub config: Account<'info, StakingConfig>,
    pub stake_mint: InterfaceAccount<'info, Mint>,
    pub system_program: Program<'info, System>,
}

pub fn handler(
    ctx: Context<InitializeConfig>,
    params: ConfigParams,
    market_authority: Pubkey,
    trust_freeze_authority: bool,
) -> Result<()> {
    params.validate()?;
    check_mint(&ctx.accounts.stake_mint, trust_freeze_authority)?;
    let config = &mut ctx.accounts.config;
    config.admin = ctx.accounts.admin.key();
    config.stake_mint = ctx.accounts.stake_mint.key();
    config.market_authority = market_authority;
    config.min_stake = params.min_stake;
    config.unbonding_period = params.unbonding_period;
    config.freeze_authority_trusted =
        trust_freeze_authority && ctx.accounts.stake_mint.freeze_authority.is_some();
    config.bump = ctx.bumps.config;
    emit_cpi!(ConfigUpdated {
        admin: config.admin,
        freeze_authority_trusted: config.freeze_authority_trusted,
        min_stake: config.min_stake,
        unbonding_period: config.unbonding_period,
    });
    Ok(())
}
