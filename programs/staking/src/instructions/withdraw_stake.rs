//! `withdraw_stake`: after the unbonding period, the unbonding tokens go back to the provider.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::StakingError;
use crate::events::StakeWithdrawn;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawStake<'info> {
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
    pub destination: InterfaceAccount<'info, TokenAccount>,
    pub stake_mint: InterfaceAccount<'info, Mint>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn handler(ctx: Context<WithdrawStake>) -> Result<()> {
    let provider = &ctx.accounts.provider;
    let amount = provider.unbonding;
    require!(amount > 0, StakingError::NothingToWithdraw);
    require!(
        Clock::get()?.unix_timestamp >= provider.unbonding_release_at,
        StakingError::UnbondingNotElapsed
    );
    crate::instructions::slash::transfer_from_vault(
        provider,
        &ctx.accounts.stake_vault,
        &ctx.accounts.stake_mint,
        &ctx.accounts.destination,
        &ctx.accounts.token_program,
        amount,
    )?;
    let provider = &mut ctx.accounts.provider;
    provider.withdraw_unbonded()?;
    provider.invariant()?;
    emit_cpi!(StakeWithdrawn {
        provider: provider.key(),
        amount,
    });
    Ok(())
}
