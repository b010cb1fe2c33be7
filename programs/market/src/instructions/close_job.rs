//! `close_job` (anyone): after a terminal state, pays the treasury its due, returns any stray
//! tokens in the vault to the buyer, closes the vault and the job, and returns all rent to the
//! buyer.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::JobClosed;

#[event_cpi]
#[derive(Accounts)]
pub struct CloseJob<'info> {
    pub escrow: JobEscrow<'info>,
    /// CHECK: receives the rent; must be the job's buyer.
    #[account(mut, address = escrow.job.buyer @ MarketError::Unauthorized)]
    pub buyer: UncheckedAccount<'info>,
    #[account(mut, address = escrow.config.treasury @ MarketError::Unauthorized)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,
}

pub fn handler(ctx: Context<CloseJob>) -> Result<()> {
    let escrow = &ctx.accounts.escrow;
    require!(escrow.job.state.is_terminal(), MarketError::JobNotTerminal);
    let treasury_due = escrow.job.treasury_due;
    escrow.pay(&ctx.accounts.treasury.to_account_info(), treasury_due)?;
    let stray = escrow
        .vault
        .amount
        .checked_sub(treasury_due)
        .ok_or(MarketError::MathOverflow)?;
    escrow.refund_buyer(stray)?;
    let buyer = ctx.accounts.buyer.to_account_info();
    escrow.close_vault(&buyer)?;
    let job_key = escrow.job.key();
    ctx.accounts.escrow.job.close(buyer)?;
    emit_cpi!(JobClosed {
        job: job_key,
        treasury_paid: treasury_due,
    });
    Ok(())
}
