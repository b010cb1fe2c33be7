//! Concord staking program: the provider registry, per-provider stake vaults, unbonding, and the
//! collateral lock / unlock / slash that only the market program's authority PDA may call (by CPI).
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod errors;
pub mod events;
pub mod instructions;
pub mod mint_policy;
pub mod state;

use instructions::*;
pub use state::*;

declare_id!("9LwtaxxZF8LMxeootERFxdyWL1BwgpLPwaTriCLchMzw");

#[program]
pub mod concord_staking {
    use super::*;

    /// Creates the staking config: stake mint (refused unless `mint_policy` accepts it; a
    /// freeze authority only with `trust_freeze_authority`), minimum stake, unbonding period,
    /// market authority.
    pub fn initialize_config(
        ctx: Context<InitializeConfig>,
        params: ConfigParams,
        market_authority: Pubkey,
        trust_freeze_authority: bool,
    ) -> Result<()> {
        instructions::initialize_config::handler(
            ctx,
            params,
            market_authority,
            trust_freeze_authority,
        )
    }

    /// Admin only: changes the minimum stake and the unbonding period.
    pub fn update_config(ctx: Context<UpdateConfig>, params: ConfigParams) -> Result<()> {
        instructions::update_config::handler(ctx, params)
    }

    /// Registers the signer as a provider, with its hardware profile and metadata URI.
    pub fn register_provider(
        ctx: Context<RegisterProvider>,
        hardware: HardwareProfile,
        metadata_uri: String,
    ) -> Result<()> {
        instructions::register_provider::handler(ctx, hardware, metadata_uri)
    }

    /// Updates a provider's profile, metadata URI or whether it accepts new jobs.
    pub fn update_provider(ctx: Context<UpdateProvider>, update: ProviderUpdate) -> Result<()> {
        instructions::update_provider::handler(ctx, update)
    }

    /// Moves stake tokens from the provider's wallet into its stake vault.
    pub fn deposit_stake(ctx: Context<DepositStake>, amount: u64) -> Result<()> {
        instructions::deposit_stake::handler(ctx, amount)
    }

    /// Starts unbonding `amount` of free (unlocked) stake, if the unbonding period is at most
    /// `max_unbonding_period` seconds.
    pub fn request_unbond(
        ctx: Context<RequestUnbond>,
        amount: u64,
        max_unbonding_period: i64,
    ) -> Result<()> {
        instructions::request_unbond::handler(ctx, amount, max_unbonding_period)
    }

    /// Withdraws the unbonding stake once the unbonding period has passed.
    pub fn withdraw_stake(ctx: Context<WithdrawStake>) -> Result<()> {
        instructions::withdraw_stake::handler(ctx)
    }

    /// Closes a provider with no stake left, returning the rent.
    pub fn close_provider(ctx: Context<CloseProvider>) -> Result<()> {
        instructions::close_provider::handler(ctx)
    }

    /// Market only: locks `amount` of free stake as collateral for a job slot.
    pub fn lock_collateral(ctx: Context<LockCollateral>, amount: u64) -> Result<()> {
        instructions::lock_collateral::handler(ctx, amount)
    }

    /// Market only: releases `amount` of locked collateral, recording what the job paid.
    pub fn unlock_collateral(ctx: Context<UnlockCollateral>, amount: u64, paid: u64) -> Result<()> {
        instructions::unlock_collateral::handler(ctx, amount, paid)
    }

    /// Market only: moves `amount` of locked collateral out of the stake vault.
    pub fn slash(ctx: Context<Slash>, amount: u64) -> Result<()> {
        instructions::slash::handler(ctx, amount)
    }
}
