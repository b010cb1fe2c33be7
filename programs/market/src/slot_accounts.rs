//! Parses and checks the per-slot accounts that `settle`, `settle_referees`, `cancel_job` and
//! `refund_unfilled` take as remaining accounts: for each slot concerned, in slot order, the holder's staking
//! `Provider` account, and (settle only) its payout token account and stake vault.
use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::errors::MarketError;
use crate::state::Slot;

/// The checked accounts of one slot.
pub struct SlotAccounts<'info> {
    pub provider: AccountInfo<'info>,
    pub payout: Option<AccountInfo<'info>>,
    pub stake_vault: Option<AccountInfo<'info>>,
}

/// Reads `per_slot` accounts for each of `slots` (the job's filled slots, or in a dispute its
/// replicas' or its referees'). `per_slot` is 1 (provider only) or 3 (provider, payout token
/// account, stake vault).
pub fn parse_slot_accounts<'info>(
    remaining: &'info [AccountInfo<'info>],
    slots: &[Slot],
    per_slot: usize,
    payment_mint: &Pubkey,
) -> Result<Vec<SlotAccounts<'info>>> {
    require!(
        remaining.len() == slots.len() * per_slot,
        MarketError::SlotAccountsMismatch
    );
    remaining
        .chunks(per_slot)
        .zip(slots.iter())
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
