//! `close_provider`: a provider with nothing staked, locked or unbonding closes its vault and
//! account; stray tokens sent to the vault and all rent go back to the authority.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, CloseAccount, Mint, TokenAccount, TokenInterface};

use crate::errors::StakingError;
use crate::events::ProviderClosed;
use crate::instructions::slash::{provider_signer_seeds, transfer_from_vault};
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CloseProvider<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump, has_one = stake_mint)]
    pub config: Account<'info, StakingConfig>,
    #[account(
        mut,
        close = authority,
        seeds = [PROVIDER_SEED, authority.key().as_ref()],
        bump = provider.bump,
        has_one = authority,
        has_one = stake_vault
    )]
    pub provider: Account<'info, Provider>,
    #[account(mut)]
    pub stake_vault: InterfaceAccount<'info, TokenAccount>,
    #[account(mut, token::mint = stake_mint, token::authority = authority, token::token_program = token_program)]
    pub destination: InterfaceAccount<'info, TokenAccount>,
    pub stake_mint: InterfaceAccount<'info, Mint>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn handler(ctx: Context<CloseProvider>) -> Result<()> {
    let provider = &ctx.accounts.provider;
    require!(
        provider.staked == 0 && provider.locked == 0 && provider.unbonding == 0,
        StakingError::StakeRemaining
    );
    let stray = ctx.accounts.stake_vault.amount;
    if stray > 0 {
        transfer_from_vault(
            provider,
            &ctx.accounts.stake_vault,
            &ctx.accounts.stake_mint,
            &ctx.accounts.destination,
            &ctx.accounts.token_program,
            stray,
        )?;
    }
    let authority_key = provider.authority;
    let bump = [provider.bump];
    let seeds = provider_signer_seeds(&authority_key, &bump);
    token_interface::close_account(CpiContext::new_with_signer(
        ctx.accounts.token_program.key(),
        CloseAccount {
            account: ctx.accounts.stake_vault.to_account_info(),
            destination: ctx.accounts.authority.to_account_info(),
            authority: ctx.accounts.provider.to_account_info(),
        },
        &[&seeds],
    ))?;
    emit_cpi!(ProviderClosed {
        provider: ctx.accounts.provider.key(),
    });
    Ok(())
}
