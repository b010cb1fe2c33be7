//! The mint policy (audit H-3): `initialize_config` refuses a stake mint whose authority or
//! Token-2022 extensions could drain, freeze or short the vaults, each with its named error;
//! the metadata / group pointers and a close authority are accepted; a freeze authority only
//! when the deployer declares it trusted, which the market's initializer re-checks.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_spl::token_2022::spl_token_2022::{self, extension::ExtensionType as E};
use concord_staking::errors::StakingError;
use concord_tests::bank::{assert_error, Bank};
use concord_tests::ix;
use concord_tests::pda;
use concord_tests::scenario::{initialize_market_ixs, market_params, staking_params};
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

const T22: Pubkey = anchor_spl::token_2022::ID;

/// `initialize_config` with `mint`, trusting its freeze authority or not.
async fn init_staking(
    bank: &mut Bank,
    admin: &Keypair,
    mint: &Pubkey,
    trust_freeze: bool,
) -> Result<concord_tests::bank::TxOutput, concord_tests::TxError> {
    let ix_ = ix::initialize_staking(
        &admin.pubkey(),
        mint,
        staking_params(),
        pda::market_authority(),
        trust_freeze,
    );
    bank.send(&[ix_], &[admin]).await
}

type Init = fn(&Pubkey, &Pubkey) -> Vec<Instruction>;

#[tokio::test]
async fn mints_that_break_custody_or_conservation_are_refused() {
    let mut bank = Bank::start(T22).await;
    let admin = bank.new_wallet().await;
    let someone = Pubkey::new_unique();
    // (extension, its set-up, the error, whether the mint needs a freeze authority)
    let cases: Vec<(E, Init, StakingError, bool)> = vec![
        (
            E::TransferFeeConfig,
            |m, a| {
                // Created at 0 bps: the fee authority could raise it later.
                vec![spl_token_2022::extension::transfer_fee::instruction::initialize_transfer_fee_config(
                    &T22, m, Some(a), Some(a), 0, 0,
                )
                .unwrap()]
            },
            StakingError::MintTransferFee,
            false,
        ),
        (
            E::TransferHook,
            |m, a| {
                vec![
                    spl_token_2022::extension::transfer_hook::instruction::initialize(
                        &T22,
                        m,
                        Some(*a),
                        None,
                    )
                    .unwrap(),
                ]
            },
            StakingError::MintTransferHook,
            false,
        ),
        (
            E::PermanentDelegate,
            |m, a| {
                vec![
                    spl_token_2022::instruction::initialize_permanent_delegate(&T22, m, a).unwrap(),
                ]
            },
            StakingError::MintPermanentDelegate,
            false,
        ),
        (
            E::NonTransferable,
            |m, _| {
                vec![
                    spl_token_2022::instruction::initialize_non_transferable_mint(&T22, m).unwrap(),
                ]
            },
            StakingError::MintNonTransferable,
            false,
        ),
        (
            E::DefaultAccountState,
            |m, _| {
                vec![spl_token_2022::extension::default_account_state::instruction::initialize_default_account_state(
                    &T22,
                    m,
                    &spl_token_2022::state::AccountState::Frozen,
                )
                .unwrap()]
            },
            StakingError::MintDefaultAccountState,
            true,
        ),
        (
            E::Pausable,
            |m, a| {
                vec![
                    spl_token_2022::extension::pausable::instruction::initialize(&T22, m, a)
                        .unwrap(),
                ]
            },
            StakingError::MintPausable,
            false,
        ),
        (
            E::ConfidentialTransferMint,
            |m, a| {
                vec![
                    spl_token_2022::extension::confidential_transfer::instruction::initialize_mint(
                        &T22,
                        m,
                        Some(*a),
                        true,
                        None,
                    )
                    .unwrap(),
                ]
            },
            StakingError::MintConfidential,
            false,
        ),
        (
            E::InterestBearingConfig,
            |m, a| {
                vec![
                    spl_token_2022::extension::interest_bearing_mint::instruction::initialize(
                        &T22,
                        m,
                        Some(*a),
                        500,
                    )
                    .unwrap(),
                ]
            },
            StakingError::MintExtensionUnsupported,
            false,
        ),
    ];
    for (extension, init, error, needs_freeze) in cases {
        let freeze = needs_freeze.then_some(someone);
        let mint = bank
            .mint_of(&T22, &[extension], |m| init(m, &someone), freeze.as_ref())
            .await
            .unwrap_or_else(|e| panic!("create a {extension:?} mint: {e:?}"));
        // Trusting the freeze authority does not let any of these through.
        let r = init_staking(&mut bank, &admin, &mint, true).await;
        assert_error(r, u32::from(error));
        assert!(!bank.exists(&pda::staking_config()).await, "{extension:?}");
    }
}

#[tokio::test]
async fn a_freeze_authority_needs_the_deployers_declared_trust() {
    // Classic SPL Token: a mint with a freeze authority.
    let mut bank = Bank::start(anchor_spl::token::ID).await;
    let admin = bank.new_wallet().await;
    let freezer = Pubkey::new_unique();
    let mint = bank
        .mint_of(&anchor_spl::token::ID, &[], |_| vec![], Some(&freezer))
        .await
        .expect("mint");
    let r = init_staking(&mut bank, &admin, &mint, false).await;
    assert_error(r, u32::from(StakingError::MintFreezeAuthority));
    init_staking(&mut bank, &admin, &mint, true)
        .await
        .expect("trusted freeze authority");
    let config = bank
        .account::<concord_staking::StakingConfig>(&pda::staking_config())
        .await
        .unwrap();
    assert!(
        config.freeze_authority_trusted,
        "recorded for everyone to see"
    );
    // The market re-checks the mint against the declared trust, and accepts it.
    let treasury = bank
        .token_account_of(&admin.pubkey(), &mint, &anchor_spl::token::ID)
        .await;
    let draw_set = solana_sdk::signature::Keypair::new();
    let ixs = initialize_market_ixs(
        &admin.pubkey(),
        &mint,
        &anchor_spl::token::ID,
        &treasury,
        &draw_set.pubkey(),
        market_params(),
    );
    bank.send(&ixs, &[&admin, &draw_set]).await.expect("market");
    assert!(bank.exists(&pda::fee_vault()).await);
}

#[tokio::test]
async fn metadata_pointer_and_close_authority_are_accepted() {
    let mut bank = Bank::start(T22).await;
    let admin = bank.new_wallet().await;
    let someone = Pubkey::new_unique();
    let mint = bank
        .mint_of(
            &T22,
            &[E::MetadataPointer, E::MintCloseAuthority],
            |m| {
                vec![
                    spl_token_2022::extension::metadata_pointer::instruction::initialize(
                        &T22,
                        m,
                        Some(someone),
                        Some(*m),
                    )
                    .unwrap(),
                    spl_token_2022::instruction::initialize_mint_close_authority(
                        &T22,
                        m,
                        Some(&someone),
                    )
                    .unwrap(),
                ]
            },
            None,
        )
        .await
        .expect("mint");
    init_staking(&mut bank, &admin, &mint, false)
        .await
        .expect("accepted");
    let config = bank
        .account::<concord_staking::StakingConfig>(&pda::staking_config())
        .await
        .unwrap();
    assert!(
        !config.freeze_authority_trusted,
        "no freeze authority to trust"
    );
}
