//! `close_job` (anyone): after a terminal state, moves the job's fees into the market's fee
//! vault, burns the slashed collateral (`burn_due`; the payment mint must be passed writable),
//! returns any stray tokens in the vault to the buyer, closes the vault and the job, and
//! returns all rent to the buyer. It needs no account the admin can change: the fee vault is a
//! PDA of this program. Not a hot instruction (once per job, any time after the end), so
//! write-locking the mint here does not serialise the market.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::errors::MarketError;
use crate::escrow::*;
use crate::events::JobClosed;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct CloseJob<'info> {
    pub escrow: JobEscrow<'info>,
    /// CHECK: receives the rent; must be the job's buyer.
    #[account(mut, address = escrow.job.buyer @ MarketError::Unauthorized)]
    pub buyer: UncheckedAccount<'info>,
    #[account(mut, seeds = [FEE_VAULT_SEED], bump = escrow.config.fee_vault_bump)]
    pub fee_vault: Box<InterfaceAccount<'info, TokenAccount>>,
}

pub fn handler(ctx: Context<CloseJob>) -> Result<()> {
    let escrow = &ctx.accounts.escrow;
    require!(escrow.job.state.is_terminal(), MarketError::JobNotTerminal);
    let (fees, burned) = (escrow.job.treasury_due, escrow.job.burn_due);
    escrow.pay(&ctx.accounts.fee_vault.to_account_info(), fees)?;
    escrow.burn(burned)?;
    let stray = escrow
        .vault
        .amount
        .checked_sub(fees)
        .and_then(|v| v.checked_sub(burned))
        .ok_or(MarketError::MathOverflow)?;
    escrow.refund_buyer(stray)?;
    let buyer = ctx.accounts.buyer.to_account_info();
    escrow.close_vault(&buyer)?;
    let job_key = escrow.job.key();
    ctx.accounts.escrow.job.close(buyer)?;
    emit_cpi!(JobClosed {
        job: job_key,
        fees,
        burned,
    });
    Ok(())
}
