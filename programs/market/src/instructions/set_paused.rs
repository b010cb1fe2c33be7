//! `set_paused`: the admin stops or resumes job creation and slot claims. Commit, reveal,
//! settle, cancel, refund and close keep working so no deposit is ever stuck by a pause.
use anchor_lang::prelude::*;

use crate::errors::MarketError;
use crate::events::MarketUpdated;
use crate::state::*;

#[event_cpi]
#[derive(Accounts)]
pub struct SetPaused<'info> {
    pub admin: Signer<'info>,
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump, has_one = admin @ MarketError::Unauthorized)]
    pub config: Account<'info, MarketConfig>,
}

pub fn handler(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
    let config = &mut ctx.accounts.config;
    config.paused = paused;
    emit_cpi!(MarketUpdated {
        admin: config.admin,
        treasury: config.treasury,
        paused,
    });
    Ok(())
}
