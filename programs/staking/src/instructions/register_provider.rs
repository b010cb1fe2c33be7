//! `register_provider`: creates a provider account and its stake vault for the signer.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::events::ProviderRegistered;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct RegisterProvider<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump, has_one = stake_mint)]
    pub config: Account<'info, StakingConfig>,
    #[account(
        init,
        payer = authority,
        space = 8 + Provider::INIT_SPACE,
        seeds = [PROVIDER_SEED, authority.key().as_ref()],
        bump
    )]
    pub provider: Account<'info, Provider>,
    #[account(
        init,
        payer = authority,
        seeds = [STAKE_VAULT_SEED, provider.key().as_ref()],
        bump,
        token::mint = stake_mint,
        token::authority = provider,
        token::token_program = token_program
    )]
    pub stake_vault: InterfaceAccount<'info, TokenAccount>,
    pub stake_mint: InterfaceAccount<'info, Mint>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn handler(
    ctx: Context<RegisterProvider>,
    hardware: HardwareProfile,
    metadata_uri: String,
) -> Result<()> {
    hardware.validate()?;
    validate_metadata_uri(&metadata_uri)?;
    let provider = &mut ctx.accounts.provider;
    provider.authority = ctx.accounts.authority.key();
    provider.stake_vault = ctx.accounts.stake_vault.key();
    provider.accepting_jobs = true;
    provider.hardware = hardware;
    provider.metadata_uri = metadata_uri;
    provider.registered_at = Clock::get()?.unix_timestamp;
    provider.bump = ctx.bumps.provider;
    provider.vault_bump = ctx.bumps.stake_vault;
    provider.invariant()?;
    emit_cpi!(ProviderRegistered {
        provider: provider.key(),
        authority: provider.authority,
    });
    Ok(())
}
