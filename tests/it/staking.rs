//! The staking program in the bank: provider life (register, update, deposit, unbond,
//! withdraw, close) with exact balances, and every rejection with its named error.
use anchor_lang::error::ErrorCode as Anchor;
use concord_staking::errors::StakingError;
use concord_staking::instructions::ProviderUpdate;
use concord_staking::{ConfigParams, HardwareProfile};
use concord_tests::bank::{assert_error, unsign};
use concord_tests::ix;
use concord_tests::pda;
use concord_tests::scenario::*;
use solana_sdk::signer::Signer;

fn se(e: StakingError) -> u32 {
    e.into()
}

/// Error code of the system program's "account already in use" (re-initialization).
const ALREADY_IN_USE: u32 = 0;

#[tokio::test]
async fn provider_life_deposit_unbond_withdraw_close() {
    let mut m = Market::new().await;
    let p = m.provider(STAKE).await;
    let (mint, program) = (m.bank.mint, m.bank.token_program);
    let vault = pda::stake_vault(&pda::provider(&p.key()));
    assert_eq!(m.bank.balance(&vault).await, STAKE);
    let s = m.provider_state(&p).await;
    assert_eq!((s.staked, s.locked, s.unbonding), (STAKE, 0, 0));
    assert_eq!(s.hardware, gpu());
    assert!(s.accepting_jobs);

    // Unbond everything; the tokens stay in the vault until the period has passed.
    m.bank
        .send(
            &[ix::request_unbond(
                &p.key(),
                STAKE,
                concord_staking::MAX_UNBONDING_PERIOD,
            )],
            &[&p.wallet],
        )
        .await
        .unwrap();
    let early = m
        .bank
        .send(
            &[ix::withdraw_stake(&p.key(), &p.token, &mint, &program)],
            &[&p.wallet],
        )
        .await;
    assert_error(early, se(StakingError::UnbondingNotElapsed));
    m.bank.warp(UNBONDING_PERIOD).await;
    m.bank
        .send(
            &[ix::withdraw_stake(&p.key(), &p.token, &mint, &program)],
            &[&p.wallet],
        )
        .await
        .unwrap();
    assert_eq!(m.bank.balance(&p.token).await, STAKE);
    assert_eq!(m.bank.balance(&vault).await, 0);
    let s = m.provider_state(&p).await;
    assert_eq!((s.staked, s.unbonding), (0, 0));

    // Close: vault and provider accounts gone, their rent back to the authority.
    let lamports = m.bank.lamports(&p.key()).await;
    m.bank
        .send(
            &[ix::close_provider(&p.key(), &p.token, &mint, &program)],
            &[&p.wallet],
        )
        .await
        .unwrap();
    assert!(!m.bank.exists(&pda::provider(&p.key())).await);
    assert!(!m.bank.exists(&vault).await);
    assert!(m.bank.lamports(&p.key()).await > lamports);
    m.assert_conserved().await;
}

#[tokio::test]
async fn update_provider_changes_profile_and_acceptance() {
    let mut m = Market::new().await;
    let p = m.provider(STAKE).await;
    let hw = HardwareProfile {
        gpu_name: "NVIDIA H100 80GB HBM3".into(),
        memory_mib: 81_559,
        ..gpu()
    };
    let update = ProviderUpdate {
        hardware: Some(hw.clone()),
        metadata_uri: Some("https://example.org/h100.json".into()),
        accepting_jobs: Some(false),
    };
    m.bank
        .send(&[ix::update_provider(&p.key(), update)], &[&p.wallet])
        .await
        .unwrap();
    let s = m.provider_state(&p).await;
    assert_eq!(s.hardware, hw);
    assert_eq!(s.metadata_uri, "https://example.org/h100.json");
    assert!(!s.accepting_jobs);
}

#[tokio::test]
async fn config_rejections() {
    let mut m = Market::new().await;
    let admin = m.admin.insecure_clone();
    let mint = m.bank.mint;
    // Re-initialization.
    let again = ix::initialize_staking(
        &admin.pubkey(),
        &mint,
        staking_params(),
        pda::market_authority(),
        false,
    );
    assert_error(m.bank.send(&[again], &[&admin]).await, ALREADY_IN_USE);
    // Not the admin.
    let outsider = m.bank.new_wallet().await;
    let ix_ = ix::update_staking_config(&outsider.pubkey(), staking_params());
    assert_error(
        m.bank.send(&[ix_], &[&outsider]).await,
        se(StakingError::Unauthorized),
    );
    // Missing signer.
    let mut ix_ = ix::update_staking_config(&admin.pubkey(), staking_params());
    unsign(&mut ix_, &admin.pubkey());
    assert_error(m.bank.send(&[ix_], &[]).await, Anchor::AccountNotSigner);
    // Invalid parameters.
    let bad = ConfigParams {
        min_stake: 0,
        unbonding_period: 10,
    };
    assert_error(
        m.bank
            .send(
                &[ix::update_staking_config(&admin.pubkey(), bad)],
                &[&admin],
            )
            .await,
        se(StakingError::InvalidConfig),
    );
    let bad = ConfigParams {
        min_stake: 1,
        unbonding_period: -1,
    };
    assert_error(
        m.bank
            .send(
                &[ix::update_staking_config(&admin.pubkey(), bad)],
                &[&admin],
            )
            .await,
        se(StakingError::InvalidConfig),
    );
    // A valid update by the admin works.
    let new = ConfigParams {
        min_stake: 5,
        unbonding_period: 60,
    };
    m.bank
        .send(
            &[ix::update_staking_config(&admin.pubkey(), new)],
            &[&admin],
        )
        .await
        .unwrap();
    let cfg = m
        .bank
        .account::<concord_staking::StakingConfig>(&pda::staking_config())
        .await
        .unwrap();
    assert_eq!((cfg.min_stake, cfg.unbonding_period), (5, 60));
}

#[tokio::test]
async fn register_rejections() {
    let mut m = Market::new().await;
    let (mint, program) = (m.bank.mint, m.bank.token_program);
    let w = m.bank.new_wallet().await;
    let long_name = HardwareProfile {
        gpu_name: "x".repeat(65),
        ..gpu()
    };
    let r = m
        .bank
        .send(
            &[ix::register_provider(
                &w.pubkey(),
                &mint,
                &program,
                long_name,
                "",
            )],
            &[&w],
        )
        .await;
    assert_error(r, se(StakingError::StringTooLong));
    let long_uri = "u".repeat(201);
    let r = m
        .bank
        .send(
            &[ix::register_provider(
                &w.pubkey(),
                &mint,
                &program,
                gpu(),
                &long_uri,
            )],
            &[&w],
        )
        .await;
    assert_error(r, se(StakingError::StringTooLong));
    // Wrong stake mint.
    let other_mint = m.bank.new_mint().await;
    let r = m
        .bank
        .send(
            &[ix::register_provider(
                &w.pubkey(),
                &other_mint,
                &program,
                gpu(),
                "",
            )],
            &[&w],
        )
        .await;
    assert_error(r, Anchor::ConstraintHasOne);
    // Missing signer.
    let mut ix_ = ix::register_provider(&w.pubkey(), &mint, &program, gpu(), "");
    unsign(&mut ix_, &w.pubkey());
    assert_error(m.bank.send(&[ix_], &[]).await, Anchor::AccountNotSigner);
    // Registered once; the second time is a re-initialization.
    m.bank
        .send(
            &[ix::register_provider(
                &w.pubkey(),
                &mint,
                &program,
                gpu(),
                "",
            )],
            &[&w],
        )
        .await
        .unwrap();
    let r = m
        .bank
        .send(
            &[ix::register_provider(
                &w.pubkey(),
                &mint,
                &program,
                gpu(),
                "",
            )],
            &[&w],
        )
        .await;
    assert_error(r, ALREADY_IN_USE);
    // Update with a too-long string.
    let update = ProviderUpdate {
        metadata_uri: Some(long_uri),
        ..Default::default()
    };
    assert_error(
        m.bank
            .send(&[ix::update_provider(&w.pubkey(), update)], &[&w])
            .await,
        se(StakingError::StringTooLong),
    );
}

#[tokio::test]
async fn update_of_another_providers_account_is_refused() {
    let mut m = Market::new().await;
    let (victim, attacker) = (m.provider(STAKE).await, m.bank.new_wallet().await);
    let mut ix_ = ix::update_provider(
        &attacker.pubkey(),
        ProviderUpdate {
            accepting_jobs: Some(false),
            ..Default::default()
        },
    );
    ix::replace_account(
        &mut ix_,
        &pda::provider(&attacker.pubkey()),
        &pda::provider(&victim.key()),
    );
    assert_error(
        m.bank.send(&[ix_], &[&attacker]).await,
        Anchor::ConstraintSeeds,
    );
    assert!(m.provider_state(&victim).await.accepting_jobs);
}

#[tokio::test]
async fn deposit_rejections() {
    let mut m = Market::new().await;
    let p = m.provider(STAKE).await;
    let other = m.actor(1_000).await;
    let (mint, program) = (m.bank.mint, m.bank.token_program);
    let zero = ix::deposit_stake(&p.key(), &p.token, &mint, &program, 0);
    assert_error(
        m.bank.send(&[zero], &[&p.wallet]).await,
        se(StakingError::ZeroAmount),
    );
    // Someone else's token account as the source.
    let steal = ix::deposit_stake(&p.key(), &other.token, &mint, &program, 1_000);
    assert_error(
        m.bank.send(&[steal], &[&p.wallet]).await,
        Anchor::ConstraintTokenOwner,
    );
    // More than the wallet holds: the token program refuses (insufficient funds).
    let r = m
        .bank
        .send(
            &[ix::deposit_stake(&p.key(), &p.token, &mint, &program, 1)],
            &[&p.wallet],
        )
        .await;
    assert_error(r, 1u32);
    assert_eq!(m.provider_state(&p).await.staked, STAKE);
}

#[tokio::test]
async fn unbond_and_withdraw_rejections() {
    let mut m = Market::new().await;
    let p = m.provider(STAKE).await;
    let (mint, program) = (m.bank.mint, m.bank.token_program);
    assert_error(
        m.bank
            .send(
                &[ix::request_unbond(
                    &p.key(),
                    0,
                    concord_staking::MAX_UNBONDING_PERIOD,
                )],
                &[&p.wallet],
            )
            .await,
        se(StakingError::ZeroAmount),
    );
    assert_error(
        m.bank
            .send(
                &[ix::request_unbond(
                    &p.key(),
                    STAKE + 1,
                    concord_staking::MAX_UNBONDING_PERIOD,
                )],
                &[&p.wallet],
            )
            .await,
        se(StakingError::InsufficientFreeStake),
    );
    assert_error(
        m.bank
            .send(
                &[ix::withdraw_stake(&p.key(), &p.token, &mint, &program)],
                &[&p.wallet],
            )
            .await,
        se(StakingError::NothingToWithdraw),
    );
    assert_error(
        m.bank
            .send(
                &[ix::close_provider(&p.key(), &p.token, &mint, &program)],
                &[&p.wallet],
            )
            .await,
        se(StakingError::StakeRemaining),
    );
}

#[tokio::test]
async fn locked_stake_cannot_unbond() {
    let mut m = Market::new().await;
    let p = m.provider(STAKE).await;
    let buyer = m.actor(10 * PRICE).await;
    let job = m.create_job(&buyer, job_args(1)).await.unwrap();
    m.claim(&p, &job).await.unwrap();
    // Free stake is STAKE - COLLATERAL: one unit more is refused, exactly that much is fine.
    let too_much = STAKE - COLLATERAL + 1;
    assert_error(
        m.bank
            .send(
                &[ix::request_unbond(
                    &p.key(),
                    too_much,
                    concord_staking::MAX_UNBONDING_PERIOD,
                )],
                &[&p.wallet],
            )
            .await,
        se(StakingError::InsufficientFreeStake),
    );
    m.bank
        .send(
            &[ix::request_unbond(
                &p.key(),
                STAKE - COLLATERAL,
                concord_staking::MAX_UNBONDING_PERIOD,
            )],
            &[&p.wallet],
        )
        .await
        .unwrap();
    let s = m.provider_state(&p).await;
    assert_eq!(
        (s.staked, s.locked, s.unbonding),
        (STAKE, COLLATERAL, STAKE - COLLATERAL)
    );
}

#[tokio::test]
async fn only_the_market_may_lock_unlock_or_slash() {
    let mut m = Market::new().await;
    let p = m.provider(STAKE).await;
    let attacker = m.actor(0).await;
    let (mint, program) = (m.bank.mint, m.bank.token_program);
    let a = attacker.wallet.insecure_clone();
    let cases = [
        ix::lock_collateral(&a.pubkey(), &p.key(), 1),
        ix::unlock_collateral(&a.pubkey(), &p.key(), 0),
        ix::slash(&a.pubkey(), &p.key(), &attacker.token, &mint, &program, 1),
    ];
    for case in cases {
        assert_error(
            m.bank.send(&[case], &[&a]).await,
            se(StakingError::UnauthorizedMarket),
        );
    }
    // The provider itself cannot either.
    let own = ix::slash(&p.key(), &p.key(), &p.token, &mint, &program, 1);
    assert_error(
        m.bank.send(&[own], &[&p.wallet]).await,
        se(StakingError::UnauthorizedMarket),
    );
    // Naming the real market authority without its signature is a missing signer.
    let mut forged = ix::lock_collateral(&pda::market_authority(), &p.key(), 1);
    unsign(&mut forged, &pda::market_authority());
    assert_error(m.bank.send(&[forged], &[]).await, Anchor::AccountNotSigner);
    assert_eq!(m.provider_state(&p).await.locked, 0);
    assert_eq!(m.bank.balance(&attacker.token).await, 0);
}

#[tokio::test]
async fn inactive_or_understaked_providers_cannot_claim() {
    let mut m = Market::new().await;
    let buyer = m.actor(10 * PRICE).await;
    let off = m.provider(STAKE).await;
    let poor = m.provider(MIN_STAKE - 1).await;
    let thin = m.provider(COLLATERAL - 1).await;
    let leaving = m.provider(STAKE).await;
    // Not accepting jobs.
    let update = ProviderUpdate {
        accepting_jobs: Some(false),
        ..Default::default()
    };
    m.bank
        .send(&[ix::update_provider(&off.key(), update)], &[&off.wallet])
        .await
        .unwrap();
    // Everything unbonding counts as gone.
    m.bank
        .send(
            &[ix::request_unbond(
                &leaving.key(),
                STAKE,
                concord_staking::MAX_UNBONDING_PERIOD,
            )],
            &[&leaving.wallet],
        )
        .await
        .unwrap();
    let job = m.create_job(&buyer, job_args(1)).await.unwrap();
    // Both weigh nothing now in the draws, whatever the epoch's snapshot says: never drawn
    // (staking's own refusal, ProviderInactive, stays behind it).
    for p in [&off, &leaving] {
        assert_error(
            m.claim(p, &job).await,
            u32::from(concord_market::errors::MarketError::NotDrawn),
        );
    }
    // Below the minimum stake.
    assert_error(
        m.claim(&poor, &job).await,
        se(StakingError::ProviderInactive),
    );
    // Above the minimum but without enough free stake for the collateral.
    assert_error(
        m.claim(&thin, &job).await,
        se(StakingError::InsufficientFreeStake),
    );
}

/// A GPU name past 64 bytes in UTF-8 (an adapter name with non-ASCII characters): cut to 64
/// bytes on a character boundary by `HardwareProfile::from_adapter`, it registers; cut to 64
/// characters (the old client code), it was more than 64 bytes and refused.
#[tokio::test]
async fn non_ascii_adapter_names_register_after_a_byte_safe_cut() {
    let mut m = Market::new().await;
    let (mint, program) = (m.bank.mint, m.bank.token_program);
    let adapter = "Radeon™ Графический процессор — 统一着色器 ".repeat(3);
    let by_chars = HardwareProfile {
        gpu_name: adapter.chars().take(64).collect(),
        ..gpu()
    };
    assert!(by_chars.gpu_name.len() > 64);
    let w = m.bank.new_wallet().await;
    let r = m
        .bank
        .send(
            &[ix::register_provider(
                &w.pubkey(),
                &mint,
                &program,
                by_chars,
                "",
            )],
            &[&w],
        )
        .await;
    assert_error(r, se(StakingError::StringTooLong));
    let hw = HardwareProfile::from_adapter(&adapter, 8_192, concord_staking::backend::VULKAN, 0);
    assert!(hw.gpu_name.len() <= 64 && adapter.starts_with(&hw.gpu_name));
    m.bank
        .send(
            &[ix::register_provider(
                &w.pubkey(),
                &mint,
                &program,
                hw.clone(),
                "",
            )],
            &[&w],
        )
        .await
        .expect("register with a byte-safe name");
    let stored: concord_staking::Provider = m
        .bank
        .account(&pda::provider(&w.pubkey()))
        .await
        .expect("provider");
    assert_eq!(stored.hardware, hw);
}

/// Audit M-1 (staking): the admin raises the unbonding period (up to a year) in front of a
/// provider's `request_unbond`; the provider's bound (the period it read) refuses it.
#[tokio::test]
async fn an_unbonding_period_raised_in_front_of_the_request_is_refused() {
    let mut m = Market::new().await;
    let p = m.provider(STAKE).await;
    let admin = m.admin.insecure_clone();
    let raised = concord_staking::ConfigParams {
        unbonding_period: concord_staking::MAX_UNBONDING_PERIOD,
        ..staking_params()
    };
    m.bank
        .send(
            &[ix::update_staking_config(&admin.pubkey(), raised)],
            &[&admin],
        )
        .await
        .unwrap();
    let r = m
        .bank
        .send(
            &[ix::request_unbond(&p.key(), STAKE, UNBONDING_PERIOD)],
            &[&p.wallet],
        )
        .await;
    assert_error(r, se(StakingError::UnbondingPeriodAboveBound));
    assert_eq!(m.provider_state(&p).await.unbonding, 0);
}
