//! `initialize_market`: creates the market config and its fee vault. The payment mint must be
//! the staking program's stake mint (slashes burn it out of stake vaults in settle), pass the
//! mint policy again (defence in depth; a freeze authority only if staking's deployer declared
//! it trusted), and the staking config must name this market's authority PDA. The draw set is
//! created by the admin beforehand (too large to allocate here) and initialized here.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use concord_staking::mint_policy::check_mint;

use crate::errors::MarketError;
use crate::events::MarketUpdated;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct InitializeMarket<'info> {
    #[account(mut)]
    pub admin: Signer<'info>,
    #[account(init, payer = admin, space = 8 + MarketConfig::INIT_SPACE, seeds = [CONFIG_SEED], bump)]
    pub config: Account<'info, MarketConfig>,
    /// CHECK: the market authority PDA; only its address and bump are used.
    #[account(seeds = [AUTHORITY_SEED], bump)]
    pub market_authority: UncheckedAccount<'info>,
    #[account(
        seeds = [concord_staking::CONFIG_SEED],
        bump = staking_config.bump,
        seeds::program = concord_staking::ID,
        constraint = staking_config.stake_mint == payment_mint.key() @ MarketError::MintMismatch,
        constraint = staking_config.market_authority == market_authority.key() @ MarketError::MarketAuthorityMismatch
    )]
    pub staking_config: Account<'info, concord_staking::StakingConfig>,
    pub payment_mint: InterfaceAccount<'info, Mint>,
    #[account(token::mint = payment_mint)]
    pub treasury: InterfaceAccount<'info, TokenAccount>,
    #[account(
        init,
        payer = admin,
        seeds = [FEE_VAULT_SEED],
        bump,
        token::mint = payment_mint,
        token::authority = config,
        token::token_program = token_program
    )]
    pub fee_vault: InterfaceAccount<'info, TokenAccount>,
    /// Created by the admin at `DrawSet::SPACE` bytes, owned by this program, still zeroed.
    #[account(zero)]
    pub draw_set: AccountLoader<'info, DrawSet>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn handler(
    ctx: Context<InitializeMarket>,
    params: MarketParams,
    draw_epoch_slots: u64,
) -> Result<()> {
    params.validate()?;
    require!(draw_epoch_slots > 0, MarketError::InvalidParams);
    check_mint(
        &ctx.accounts.payment_mint,
        ctx.accounts.staking_config.freeze_authority_trusted,
    )
    .map_err(|_| error!(MarketError::MintRefused))?;
    let config = &mut ctx.accounts.config;
    config.admin = ctx.accounts.admin.key();
    config.treasury = ctx.accounts.treasury.key();
    config.payment_mint = ctx.accounts.payment_mint.key();
    config.params = params;
    config.paused = false;
    config.bump = ctx.bumps.config;
    config.authority_bump = ctx.bumps.market_authority;
    config.fee_vault_bump = ctx.bumps.fee_vault;
    config.draw_set = ctx.accounts.draw_set.key();
    let mut set = ctx.accounts.draw_set.load_init()?;
    set.epoch_slots = draw_epoch_slots;
    set.epoch = set.epoch_of(Clock::get()?.slot);
    set.invariant()?;
    drop(set);
    emit_cpi!(MarketUpdated {
        admin: config.admin,
        treasury: config.treasury,
        paused: false,
    });
    Ok(())
}
