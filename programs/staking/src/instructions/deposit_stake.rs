//! `deposit_stake`: the provider moves stake tokens from its wallet into its stake vault.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::errors::StakingError;
use crate::events::StakeDeposited;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct DepositStake<'info> {
    pub authority: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump, has_one = stake_mint)]
    pub config: Account<'info, StakingConfig>,
    #[account(
        mut,
        seeds = [PROVIDER_SEED, authority.key().as_ref()],
        bump = provider.bump,
        has_one = authority,
        has_one = stake_vault
    )]
    pub provider: Account<'info, Provider>,
    #[account(mut)]
    pub stake_vault: InterfaceAccount<'info, TokenAccount>,
    #[account(mut, token::mint = stake_mint, token::authority = authority, token::token_program = token_program)]
    pub source: InterfaceAccount<'info, TokenAccount>,
    pub stake_mint: InterfaceAccount<'info, Mint>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn handler(ctx: Context<DepositStake>, amount: u64) -> Result<()> {
    require!(amount > 0, StakingError::ZeroAmount);
    let accounts = TransferChecked {
        from: ctx.accounts.source.to_account_info(),
        mint: ctx.accounts.stake_mint.to_account_info(),
        to: ctx.accounts.stake_vault.to_account_info(),
        authority: ctx.accounts.authority.to_account_info(),
    };
    token_interface::transfer_checked(
        CpiContext::new(ctx.accounts.token_program.key(), accounts),
        amount,
        ctx.accounts.stake_mint.decimals,
    )?;
    let provider = &mut ctx.accounts.provider;
    provider.deposit(amount)?;
    provider.invariant()?;
    emit_cpi!(StakeDeposited {
        provider: provider.key(),
        amount,
        staked: provider.staked,
    });
    Ok(())
}
