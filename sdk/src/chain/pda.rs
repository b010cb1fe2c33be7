//! Program-derived addresses of both programs, from the seeds the programs define, and the
//! associated token account convention used for payouts.
use anchor_lang::prelude::Pubkey;
use concord_market::state as m;
use concord_staking::state as s;

fn find(seeds: &[&[u8]], program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(seeds, program).0
}

pub fn staking_config() -> Pubkey {
    find(&[s::CONFIG_SEED], &concord_staking::ID)
}
pub fn provider(authority: &Pubkey) -> Pubkey {
    find(
        &[s::PROVIDER_SEED, authority.as_ref()],
        &concord_staking::ID,
    )
}
pub fn stake_vault(provider: &Pubkey) -> Pubkey {
    find(
        &[s::STAKE_VAULT_SEED, provider.as_ref()],
        &concord_staking::ID,
    )
}
pub fn market_config() -> Pubkey {
    find(&[m::CONFIG_SEED], &concord_market::ID)
}
pub fn market_authority() -> Pubkey {
    find(&[m::AUTHORITY_SEED], &concord_market::ID)
}
pub fn fee_vault() -> Pubkey {
    find(&[m::FEE_VAULT_SEED], &concord_market::ID)
}
pub fn job(buyer: &Pubkey, job_id: u64) -> Pubkey {
    find(
        &[m::JOB_SEED, buyer.as_ref(), &job_id.to_le_bytes()],
        &concord_market::ID,
    )
}
pub fn job_vault(job: &Pubkey) -> Pubkey {
    find(&[m::VAULT_SEED, job.as_ref()], &concord_market::ID)
}
pub fn draw_entry(provider_authority: &Pubkey) -> Pubkey {
    find(
        &[m::DRAW_ENTRY_SEED, provider_authority.as_ref()],
        &concord_market::ID,
    )
}
pub fn event_authority(program: &Pubkey) -> Pubkey {
    find(&[m::EVENT_AUTHORITY_SEED], program)
}

/// The SPL Associated Token Account program.
pub const ASSOCIATED_TOKEN_PROGRAM: Pubkey =
    anchor_lang::pubkey!("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");

/// The associated token account of `wallet` for `mint`: where Concord pays providers and
/// refunds buyers by default.
pub fn associated_token(wallet: &Pubkey, mint: &Pubkey, token_program: &Pubkey) -> Pubkey {
    find(
        &[wallet.as_ref(), token_program.as_ref(), mint.as_ref()],
        &ASSOCIATED_TOKEN_PROGRAM,
    )
}
