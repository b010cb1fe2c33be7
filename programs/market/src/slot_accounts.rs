//! Parses and checks the per-slot accounts that `settle`, `cancel_job` and `refund_unfilled`
//! take as remaining accounts: for each filled slot, in slot order, the holder's staking
//! `Provider` account, and (settle only) its payout token account and stake vault.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::errors::MarketError;
use crate::state::Job;

/// The checked accounts of one slot.
pub struct SlotAccounts<'info> {
    pub provider: AccountInfo<'info>,
    pub payout: Option<AccountInfo<'info>>,
    pub stake_vault: Option<AccountInfo<'info>>,
}

/// Reads `per_slot` accounts for each of the job's `filled` slots. `per_slot` is 1 (provider
/// only) or 3 (provider, payout token account, stake vault).
pub fn parse_slot_accounts<'info>(
    remaining: &'info [AccountInfo<'info>],
    job: &Job,
    per_slot: usize,
    payment_mint: &Pubkey,
) -> Result<Vec<SlotAccounts<'info>>> {
    let filled = usize::from(job.filled);
    require!(
        remaining.len() == filled * per_slot,
        MarketError::SlotAccountsMismatch
    );
    remaining
        .chunks(per_slot)
        .zip(job.slots.iter())
        .map(|(chunk, slot)| {
            let provider = Account::<concord_staking::Provider>::try_from(&chunk[0])?;
            require_keys_eq!(
                provider.authority,
                slot.provider,
                MarketError::SlotAccountsMismatch
            );
            let (payout, stake_vault) = if per_slot == 3 {
                let payout = InterfaceAccount::<TokenAccount>::try_from(&chunk[1])?;
                require!(
                    payout.owner == slot.provider && payout.mint == *payment_mint,
                    MarketError::WrongPayoutAccount
                );
                require_keys_eq!(
                    chunk[2].key(),
                    provider.stake_vault,
                    MarketError::SlotAccountsMismatch
                );
                (Some(chunk[1].clone()), Some(chunk[2].clone()))
            } else {
                (None, None)
            };
            Ok(SlotAccounts {
                provider: chunk[0].clone(),
                payout,
                stake_vault,
            })
        })
        .collect()
}
