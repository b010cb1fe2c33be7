//! A job's escrow: the accounts that hold and move its deposit (market config, job, vault,
//! buyer's token account, payment mint, token program), and the transfers out of the vault,
//! signed by the job PDA (the vault's authority).
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    self, Burn, CloseAccount, Mint, TokenAccount, TokenInterface, TransferChecked,
};

use crate::errors::MarketError;
use crate::state::{Job, MarketConfig, CONFIG_SEED, JOB_SEED, VAULT_SEED};

#[derive(Accounts)]
pub struct JobEscrow<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, MarketConfig>>,
    #[account(mut, seeds = [JOB_SEED, job.buyer.as_ref(), job.job_id.to_le_bytes().as_ref()], bump = job.bump)]
    pub job: Box<Account<'info, Job>>,
    #[account(
        mut,
        seeds = [VAULT_SEED, job.key().as_ref()],
        bump = job.vault_bump,
        token::token_program = token_program
    )]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The buyer's token account for the payment mint: refunds go here.
    #[account(
        mut,
        token::mint = payment_mint,
        token::authority = job.buyer,
        token::token_program = token_program
    )]
    pub buyer_token: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Read-only except in `close_job`, which burns slashed collateral: no hot instruction
    /// write-locks the mint.
    #[account(address = config.payment_mint @ MarketError::MintMismatch)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> JobEscrow<'info> {
    fn with_job_seeds<R>(&self, f: impl FnOnce(&[&[u8]]) -> R) -> R {
        let (buyer, id, bump) = (self.job.buyer, self.job.id_bytes(), [self.job.bump]);
        f(&[JOB_SEED, buyer.as_ref(), &id, &bump])
    }

    /// Transfers `amount` from the vault to `to`; a zero amount does nothing.
    pub fn pay(&self, to: &AccountInfo<'info>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        self.with_job_seeds(|seeds| {
            token_interface::transfer_checked(
                CpiContext::new_with_signer(
                    self.token_program.key(),
                    TransferChecked {
                        from: self.vault.to_account_info(),
                        mint: self.payment_mint.to_account_info(),
                        to: to.clone(),
                        authority: self.job.to_account_info(),
                    },
                    &[seeds],
                ),
                amount,
                self.payment_mint.decimals,
            )
        })
    }

    /// Burns `amount` from the vault (slashed collateral); the mint must be passed writable.
    pub fn burn(&self, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        self.with_job_seeds(|seeds| {
            token_interface::burn(
                CpiContext::new_with_signer(
                    self.token_program.key(),
                    Burn {
                        mint: self.payment_mint.to_account_info(),
                        from: self.vault.to_account_info(),
                        authority: self.job.to_account_info(),
                    },
                    &[seeds],
                ),
                amount,
            )
        })
    }

    /// Refunds `amount` to the buyer.
    pub fn refund_buyer(&self, amount: u64) -> Result<()> {
        self.pay(&self.buyer_token.to_account_info(), amount)
    }

    /// Closes the (empty) vault, sending its rent to `rent_to`.
    pub fn close_vault(&self, rent_to: &AccountInfo<'info>) -> Result<()> {
        self.with_job_seeds(|seeds| {
            token_interface::close_account(CpiContext::new_with_signer(
                self.token_program.key(),
                CloseAccount {
                    account: self.vault.to_account_info(),
                    destination: rent_to.clone(),
                    authority: self.job.to_account_info(),
                },
                &[seeds],
            ))
        })
    }
}
