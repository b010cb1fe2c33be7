//! `update_market`: the admin changes the parameters (within the hard caps of `MarketParams`)
//! and the treasury token account. Jobs already created keep the fee they were created with.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::errors::MarketError;
use crate::events::MarketUpdated;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateMarket<'info> {
    pub admin: Signer<'info>,
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump, has_one = admin @ MarketError::Unauthorized)]
    pub config: Account<'info, MarketConfig>,
    #[account(
        constraint = treasury.mint == config.payment_mint @ MarketError::MintMismatch
    )]
    pub treasury: InterfaceAccount<'info, TokenAccount>,
}

pub fn handler(ctx: Context<UpdateMarket>, params: MarketParams) -> Result<()> {
    params.validate()?;
    let config = &mut ctx.accounts.config;
    config.params = params;
    config.treasury = ctx.accounts.treasury.key();
    emit_cpi!(MarketUpdated {
        admin: config.admin,
        treasury: config.treasury,
        paused: config.paused,
    });
    Ok(())
}
