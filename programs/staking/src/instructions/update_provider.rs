//! `update_provider`: the provider changes its hardware profile, metadata URI, or whether it
//! accepts new jobs (slots it already holds are unaffected).
use anchor_lang::prelude::*;

use crate::events::ProviderUpdated;
use crate::state::*;

/// Fields to change; `None` leaves a field as it is.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct ProviderUpdate {
    pub hardware: Option<HardwareProfile>,
    pub metadata_uri: Option<String>,
    pub accepting_jobs: Option<bool>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateProvider<'info> {
    pub authority: Signer<'info>,
    #[account(mut, seeds = [PROVIDER_SEED, authority.key().as_ref()], bump = provider.bump, has_one = authority)]
    pub provider: Account<'info, Provider>,
}

pub fn handler(ctx: Context<UpdateProvider>, update: ProviderUpdate) -> Result<()> {
    let provider = &mut ctx.accounts.provider;
    if let Some(hardware) = update.hardware {
        hardware.validate()?;
        provider.hardware = hardware;
    }
    if let Some(uri) = update.metadata_uri {
        validate_metadata_uri(&uri)?;
        provider.metadata_uri = uri;
    }
    if let Some(accepting) = update.accepting_jobs {
        provider.accepting_jobs = accepting;
    }
    provider.invariant()?;
    emit_cpi!(ProviderUpdated {
        provider: provider.key(),
        accepting_jobs: provider.accepting_jobs,
    });
    Ok(())
}
