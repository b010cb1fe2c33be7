//! `withdraw_fees` (admin): moves the whole fee vault balance to the config's treasury token
//! account. Fees are the only units that ever reach the fee vault (slashes are burned).
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::errors::MarketError;
use crate::events::FeesWithdrawn;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct WithdrawFees<'info> {
    pub admin: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump, has_one = admin @ MarketError::Unauthorized)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(mut, seeds = [FEE_VAULT_SEED], bump = config.fee_vault_bump)]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, address = config.treasury @ MarketError::Unauthorized)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = config.payment_mint @ MarketError::MintMismatch)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn handler(ctx: Context<WithdrawFees>) -> Result<()> {
    let amount = ctx.accounts.fee_vault.amount;
    let bump = [ctx.accounts.config.bump];
    let seeds: [&[u8]; 2] = [CONFIG_SEED, &bump];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(
            ctx.accounts.token_program.key(),
            TransferChecked {
                from: ctx.accounts.fee_vault.to_account_info(),
                mint: ctx.accounts.payment_mint.to_account_info(),
                to: ctx.accounts.treasury.to_account_info(),
                authority: ctx.accounts.config.to_account_info(),
            },
            &[&seeds],
        ),
        amount,
        ctx.accounts.payment_mint.decimals,
    )?;
    emit_cpi!(FeesWithdrawn {
        treasury: ctx.accounts.treasury.key(),
        amount,
    });
    Ok(())
}
