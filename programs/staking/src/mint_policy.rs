//! Which mints the programs accept for stake and payment. Both programs assume one-mint
//! conservation (what a vault is credited is what it holds) and sole custody (only the
//! programs' PDAs move vault tokens). A mint whose authority or extensions can break either is
//! refused when a config is created, each reason with its own error:
//!
//! - freeze authority (SPL Token or Token-2022): could freeze any vault and stop every exit;
//!   accepted only when the deployer declares it trusted (`trust_freeze_authority`), which is
//!   recorded in the staking config for everyone to see;
//! - Token-2022 `TransferFeeConfig` (even at 0 bps: the fee can be raised later),
//!   `TransferHook`, `PermanentDelegate`, `NonTransferable`, `DefaultAccountState`, `Pausable`,
//!   the confidential-transfer extensions: refused;
//! - metadata and group extensions and `MintCloseAuthority` (a mint can only be closed at zero
//!   supply, so never while a vault holds tokens): accepted;
//! - anything else (`InterestBearingConfig`, `ScaledUiAmount`: a displayed amount another party
//!   can rescale; extensions newer than this code): refused, as the default.
//!
//! Work: one unpack of the mint and one pass over its extension types (at most a few dozen).
use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::{
    extension::{BaseStateWithExtensions, ExtensionType, StateWithExtensions},
    state::Mint as MintState,
};
use anchor_spl::token_interface::Mint;

use crate::errors::StakingError;

/// Refuses `mint` unless both programs can hold it safely (see the module doc).
pub fn check_mint(mint: &InterfaceAccount<Mint>, trust_freeze_authority: bool) -> Result<()> {
    if mint.freeze_authority.is_some() && !trust_freeze_authority {
        return err!(StakingError::MintFreezeAuthority);
    }
    let info = mint.to_account_info();
    if *info.owner != anchor_spl::token_2022::ID {
        return Ok(());
    }
    let data = info.try_borrow_data()?;
    let state = StateWithExtensions::<MintState>::unpack(&data)?;
    for extension in state.get_extension_types()? {
        if let Some(refusal) = refusal(extension) {
            return Err(error!(refusal));
        }
    }
    Ok(())
}

/// Why a mint with `extension` is refused, if it is.
pub fn refusal(extension: ExtensionType) -> Option<StakingError> {
    use ExtensionType as E;
    match extension {
        E::MetadataPointer
        | E::TokenMetadata
        | E::GroupPointer
        | E::TokenGroup
        | E::GroupMemberPointer
        | E::TokenGroupMember
        | E::MintCloseAuthority => None,
        E::TransferFeeConfig => Some(StakingError::MintTransferFee),
        E::TransferHook => Some(StakingError::MintTransferHook),
        E::PermanentDelegate => Some(StakingError::MintPermanentDelegate),
        E::NonTransferable => Some(StakingError::MintNonTransferable),
        E::DefaultAccountState => Some(StakingError::MintDefaultAccountState),
        E::Pausable => Some(StakingError::MintPausable),
        E::ConfidentialTransferMint
        | E::ConfidentialTransferFeeConfig
        | E::ConfidentialMintBurn => Some(StakingError::MintConfidential),
        _ => Some(StakingError::MintExtensionUnsupported),
    }
}
