//! `slash` (market only): moves locked collateral out of a provider's stake vault to the
//! destination the market names (the job's escrow vault). Never more than what is locked.
//! Also owns the vault-signing helpers the other vault-moving instructions reuse.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::errors::StakingError;
use crate::events::StakeSlashed;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct Slash<'info> {
    #[account(
        seeds = [CONFIG_SEED],
        bump = config.bump,
        has_one = market_authority @ StakingError::UnauthorizedMarket,
        has_one = stake_mint
    )]
    pub config: Account<'info, StakingConfig>,
    pub market_authority: Signer<'info>,
    #[account(mut, seeds = [PROVIDER_SEED, provider.authority.as_ref()], bump = provider.bump, has_one = stake_vault)]
    pub provider: Account<'info, Provider>,
    #[account(mut)]
    pub stake_vault: InterfaceAccount<'info, TokenAccount>,
    #[account(mut, token::mint = stake_mint, token::token_program = token_program)]
    pub destination: InterfaceAccount<'info, TokenAccount>,
    pub stake_mint: InterfaceAccount<'info, Mint>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn handler(ctx: Context<Slash>, amount: u64) -> Result<()> {
    ctx.accounts.provider.check_slash(amount)?;
    transfer_from_vault(
        &ctx.accounts.provider,
        &ctx.accounts.stake_vault,
        &ctx.accounts.stake_mint,
        &ctx.accounts.destination,
        &ctx.accounts.token_program,
        amount,
    )?;
    let provider = &mut ctx.accounts.provider;
    provider.slash(amount)?;
    provider.invariant()?;
    emit_cpi!(StakeSlashed {
        provider: provider.key(),
        amount,
        destination: ctx.accounts.destination.key(),
    });
    Ok(())
}

/// Signer seeds of a provider PDA, the authority of its stake vault.
pub fn provider_signer_seeds<'a>(authority: &'a Pubkey, bump: &'a [u8; 1]) -> [&'a [u8]; 3] {
    [PROVIDER_SEED, authority.as_ref(), bump]
}

/// Transfers `amount` out of a provider's stake vault, signed by the provider PDA.
pub fn transfer_from_vault<'info>(
    provider: &Account<'info, Provider>,
    stake_vault: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    destination: &InterfaceAccount<'info, TokenAccount>,
    token_program: &Interface<'info, TokenInterface>,
    amount: u64,
) -> Result<()> {
    let bump = [provider.bump];
    let seeds = provider_signer_seeds(&provider.authority, &bump);
    token_interface::transfer_checked(
        CpiContext::new_with_signer(
            token_program.key(),
            TransferChecked {
                from: stake_vault.to_account_info(),
                mint: mint.to_account_info(),
                to: destination.to_account_info(),
                authority: provider.to_account_info(),
            },
            &[&seeds],
        ),
        amount,
        mint.decimals,
    )
}
