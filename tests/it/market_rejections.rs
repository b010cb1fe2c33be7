//! Every rejection of the market program's instructions, each asserting its named error, and
//! checking that the refused transaction moved nothing.
use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use concord_market::errors::MarketError;
use concord_market::instructions::CreateJobArgs;
use concord_market::{JobState, MarketParams};
use concord_staking::instructions::ProviderUpdate;
use concord_tests::bank::{assert_error, assert_instruction_error, unsign};
use concord_tests::ix;
use concord_tests::pda;
use concord_tests::scenario::*;
use solana_sdk::instruction::InstructionError;
use solana_sdk::signer::Signer;

fn me(e: MarketError) -> u32 {
    e.into()
}

const A: [u8; 32] = [0xA; 32];
const FUNDS: u64 = 100_000_000;

#[tokio::test]
async fn market_config_rejections() {
    let mut m = Market::new().await;
    let admin = m.admin.insecure_clone();
    let (mint, treasury, program) = (m.bank.mint, m.treasury, m.bank.token_program);
    // Re-initialization of the config.
    let again = ix::initialize_market(
        &admin.pubkey(),
        &mint,
        &program,
        &treasury,
        &m.draw_set,
        market_params(),
        DRAW_EPOCH_SLOTS,
    );
    assert_error(m.bank.send(&[again], &[&admin]).await, 0u32);
    // Not the admin.
    let outsider = m.bank.new_wallet().await;
    let r = m
        .bank
        .send(
            &[ix::update_market(
                &outsider.pubkey(),
                &treasury,
                market_params(),
            )],
            &[&outsider],
        )
        .await;
    assert_error(r, me(MarketError::Unauthorized));
    let r = m
        .bank
        .send(&[ix::set_paused(&outsider.pubkey(), true)], &[&outsider])
        .await;
    assert_error(r, me(MarketError::Unauthorized));
    // Missing signer.
    let mut ix_ = ix::set_paused(&admin.pubkey(), true);
    unsign(&mut ix_, &admin.pubkey());
    assert_error(m.bank.send(&[ix_], &[]).await, Anchor::AccountNotSigner);
    // Invalid parameters, each bound.
    let p = market_params();
    // Hard caps no admin can lift (audit M-1, M-2, L-3): fee at most 10 %, at least 3
    // replicas (a liar can be outvoted), windows at most 7 days.
    let bad = [
        MarketParams {
            fee_bps: concord_market::MAX_FEE_BPS + 1,
            ..p
        },
        MarketParams {
            fee_bps: 10_000,
            ..p
        },
        MarketParams {
            min_replicas: 0,
            ..p
        },
        MarketParams {
            min_replicas: 2,
            ..p
        },
        MarketParams {
            max_window: concord_market::MAX_WINDOW + 1,
            ..p
        },
        MarketParams {
            min_replicas: 4,
            max_replicas: 3,
            ..p
        },
        MarketParams {
            max_replicas: 6,
            ..p
        },
        MarketParams {
            min_price_per_replica: 10,
            max_price_per_replica: 9,
            ..p
        },
        MarketParams { min_window: 0, ..p },
        MarketParams {
            min_window: 100,
            max_window: 99,
            ..p
        },
    ];
    for params in bad {
        let r = m
            .bank
            .send(
                &[ix::update_market(&admin.pubkey(), &treasury, params)],
                &[&admin],
            )
            .await;
        assert_error(r, me(MarketError::InvalidParams));
    }
    // A treasury of another mint.
    let other_mint = m.bank.new_mint().await;
    let program = m.bank.token_program;
    let wrong_treasury = m
        .bank
        .token_account_of(&admin.pubkey(), &other_mint, &program)
        .await;
    let r = m
        .bank
        .send(
            &[ix::update_market(&admin.pubkey(), &wrong_treasury, p)],
            &[&admin],
        )
        .await;
    assert_error(r, me(MarketError::MintMismatch));
}

/// A bare bank whose staking config names `market_authority`: (bank, admin, stake mint).
async fn bank_with_staking(
    market_authority: Pubkey,
) -> (
    concord_tests::bank::Bank,
    solana_sdk::signature::Keypair,
    Pubkey,
) {
    let mut bank = concord_tests::bank::Bank::start(anchor_spl::token::ID).await;
    let admin = bank.new_wallet().await;
    let mint = bank.mint;
    let ix_ = ix::initialize_staking(
        &admin.pubkey(),
        &mint,
        staking_params(),
        market_authority,
        false,
    );
    bank.send(&[ix_], &[&admin]).await.unwrap();
    (bank, admin, mint)
}

/// `initialize_market` paid in `mint`, with a treasury of that mint.
async fn try_initialize_market(
    bank: &mut concord_tests::bank::Bank,
    admin: &solana_sdk::signature::Keypair,
    mint: &Pubkey,
    params: MarketParams,
) -> Result<concord_tests::bank::TxOutput, concord_tests::TxError> {
    let treasury = bank
        .token_account_of(&admin.pubkey(), mint, &anchor_spl::token::ID)
        .await;
    let draw_set = solana_sdk::signature::Keypair::new();
    let ixs = initialize_market_ixs(
        &admin.pubkey(),
        mint,
        &anchor_spl::token::ID,
        &treasury,
        &draw_set.pubkey(),
        params,
    );
    bank.send(&ixs, &[admin, &draw_set]).await
}

#[tokio::test]
async fn initialize_market_checks_the_staking_config() {
    // Payment mint differs from the stake mint.
    let (mut bank, admin, _stake_mint) = bank_with_staking(pda::market_authority()).await;
    let other = bank.new_mint().await;
    let r = try_initialize_market(&mut bank, &admin, &other, market_params()).await;
    assert_error(r, me(MarketError::MintMismatch));

    // Staking config that names another market authority.
    let (mut bank, admin, mint) = bank_with_staking(Pubkey::new_unique()).await;
    let r = try_initialize_market(&mut bank, &admin, &mint, market_params()).await;
    assert_error(r, me(MarketError::MarketAuthorityMismatch));

    // Invalid parameters at creation (with a correct staking config).
    let (mut bank, admin, mint) = bank_with_staking(pda::market_authority()).await;
    let bad = MarketParams {
        fee_bps: 20_000,
        ..market_params()
    };
    let r = try_initialize_market(&mut bank, &admin, &mint, bad).await;
    assert_error(r, me(MarketError::InvalidParams));
    assert!(!bank.exists(&pda::market_config()).await);
}

#[tokio::test]
async fn create_job_rejections() {
    let (mut m, buyer, _) = Market::with_actors(0, FUNDS).await;
    let cases: Vec<(CreateJobArgs, MarketError)> = vec![
        (
            CreateJobArgs {
                replicas: 0,
                quorum: 0,
                ..job_args(1)
            },
            MarketError::ReplicasOutOfBounds,
        ),
        (
            CreateJobArgs {
                replicas: 6,
                quorum: 4,
                ..job_args(1)
            },
            MarketError::ReplicasOutOfBounds,
        ),
        (
            CreateJobArgs {
                quorum: 1,
                ..job_args(1)
            },
            MarketError::InvalidQuorum,
        ),
        (
            CreateJobArgs {
                quorum: 4,
                ..job_args(1)
            },
            MarketError::InvalidQuorum,
        ),
        (
            CreateJobArgs {
                replicas: 4,
                quorum: 2,
                ..job_args(1)
            },
            MarketError::InvalidQuorum,
        ),
        // Unanimity: one liar could veto every job and never be slashed (audit M-2).
        (
            CreateJobArgs {
                quorum: 3,
                ..job_args(1)
            },
            MarketError::InvalidQuorum,
        ),
        (
            CreateJobArgs {
                replicas: 5,
                quorum: 5,
                ..job_args(1)
            },
            MarketError::InvalidQuorum,
        ),
        // Fewer than 3 replicas (the market's minimum).
        (
            CreateJobArgs {
                replicas: 2,
                quorum: 1,
                ..job_args(1)
            },
            MarketError::ReplicasOutOfBounds,
        ),
        // A market fee above the buyer's bound (audit M-1).
        (
            CreateJobArgs {
                max_fee_bps: FEE_BPS - 1,
                ..job_args(1)
            },
            MarketError::FeeAboveBuyerBound,
        ),
        (
            CreateJobArgs {
                price_per_replica: 999,
                ..job_args(1)
            },
            MarketError::PriceOutOfBounds,
        ),
        (
            CreateJobArgs {
                price_per_replica: 1_000_000_001,
                ..job_args(1)
            },
            MarketError::PriceOutOfBounds,
        ),
        (
            CreateJobArgs {
                collateral_per_replica: 0,
                ..job_args(1)
            },
            MarketError::CollateralTooLow,
        ),
        (
            CreateJobArgs {
                collateral_per_replica: 999,
                ..job_args(1)
            },
            MarketError::CollateralTooLow,
        ),
        (
            CreateJobArgs {
                claim_window: 9,
                ..job_args(1)
            },
            MarketError::WindowOutOfBounds,
        ),
        (
            CreateJobArgs {
                exec_window: 7 * 24 * 3600 + 1,
                ..job_args(1)
            },
            MarketError::WindowOutOfBounds,
        ),
        (
            CreateJobArgs {
                reveal_window: 0,
                ..job_args(1)
            },
            MarketError::WindowOutOfBounds,
        ),
        (
            CreateJobArgs {
                manifest_uri: "m".repeat(201),
                ..job_args(1)
            },
            MarketError::StringTooLong,
        ),
        (
            CreateJobArgs {
                manifest_hash: [0; 32],
                ..job_args(1)
            },
            MarketError::EmptyManifestHash,
        ),
    ];
    for (args, error) in cases {
        let r = m.create_job(&buyer, args.clone()).await;
        assert_error(r, me(error));
    }
    assert_eq!(
        m.bank.balance(&buyer.token).await,
        FUNDS,
        "nothing escrowed"
    );

    let (mint, program) = (m.bank.mint, m.bank.token_program);
    // Missing signer.
    let mut ix_ = ix::create_job(&buyer.key(), &buyer.token, &mint, &program, job_args(1));
    unsign(&mut ix_, &buyer.key());
    assert_error(m.bank.send(&[ix_], &[]).await, Anchor::AccountNotSigner);
    // Paying from someone else's token account.
    let victim = m.actor(FUNDS).await;
    let ix_ = ix::create_job(&buyer.key(), &victim.token, &mint, &program, job_args(1));
    assert_error(
        m.bank.send(&[ix_], &[&buyer.wallet]).await,
        Anchor::ConstraintTokenOwner,
    );
    // Another mint than the market's payment mint.
    let other = m.bank.new_mint().await;
    let other_token = m
        .bank
        .token_account_of(&buyer.key(), &other, &program)
        .await;
    let ix_ = ix::create_job(&buyer.key(), &other_token, &other, &program, job_args(1));
    assert_error(
        m.bank.send(&[ix_], &[&buyer.wallet]).await,
        me(MarketError::MintMismatch),
    );
    // A job PDA that does not match the job id.
    let mut ix_ = ix::create_job(&buyer.key(), &buyer.token, &mint, &program, job_args(1));
    ix::replace_account(
        &mut ix_,
        &pda::job(&buyer.key(), 1),
        &pda::job(&buyer.key(), 2),
    );
    assert_error(
        m.bank.send(&[ix_], &[&buyer.wallet]).await,
        Anchor::ConstraintSeeds,
    );
    // Not enough tokens: the token program refuses (insufficient funds), nothing created.
    let poor = m.actor(PRICE).await;
    assert_error(m.create_job(&poor, job_args(1)).await, 1u32);
    assert!(!m.bank.exists(&pda::job(&poor.key(), 1)).await);
    // The same job id twice.
    m.create_job(&buyer, job_args(1)).await.unwrap();
    assert_error(m.create_job(&buyer, job_args(1)).await, 0u32);
    assert_eq!(m.bank.balance(&buyer.token).await, FUNDS - 3 * PRICE);
}

#[tokio::test]
async fn pause_stops_new_jobs_and_claims_but_not_exits() {
    let (mut m, buyer, ps) = Market::with_actors(3, FUNDS).await;
    let open = m.create_job(&buyer, job_args(1)).await.unwrap();
    let job = m.running_job(&buyer, &ps, 2).await;
    let admin = m.admin.insecure_clone();
    m.bank
        .send(&[ix::set_paused(&admin.pubkey(), true)], &[&admin])
        .await
        .unwrap();
    assert_error(
        m.create_job(&buyer, job_args(3)).await,
        me(MarketError::MarketPaused),
    );
    assert_error(m.claim(&ps[0], &open).await, me(MarketError::MarketPaused));
    // Work in flight goes on: commit, reveal, settle.
    let refs: Vec<&Actor> = ps.iter().collect();
    m.commit_and_reveal(&job, &refs, &[A, A, A]).await;
    m.settle(&buyer, &job, &refs)
        .await
        .expect("settle while paused");
    // And a buyer can still leave.
    let escrow = m.escrow(&buyer, &open);
    m.bank
        .send(
            &[ix::cancel_job(&buyer.key(), &escrow, &[])],
            &[&buyer.wallet],
        )
        .await
        .expect("cancel while paused");
    m.bank
        .send(&[ix::set_paused(&admin.pubkey(), false)], &[&admin])
        .await
        .unwrap();
    m.create_job(&buyer, job_args(3)).await.expect("resumed");
}

#[tokio::test]
async fn claim_rejections() {
    let (mut m, buyer, ps) = Market::with_actors(4, FUNDS).await;
    let job = m.create_job(&buyer, job_args(1)).await.unwrap();
    m.claim(&ps[0], &job).await.unwrap();
    // The same provider twice.
    assert_error(m.claim(&ps[0], &job).await, me(MarketError::AlreadyClaimed));
    // The buyer serving its own job.
    m.register_as_provider(&buyer, STAKE).await;
    assert_error(
        m.claim(&buyer, &job).await,
        me(MarketError::BuyerCannotServe),
    );
    // Hardware below the requirements (memory, features, backend).
    for hw in [
        concord_staking::HardwareProfile {
            memory_mib: 512,
            ..gpu()
        },
        concord_staking::HardwareProfile {
            features: 0b1010,
            ..gpu()
        },
        concord_staking::HardwareProfile {
            backend: concord_staking::backend::GL,
            ..gpu()
        },
    ] {
        let update = ProviderUpdate {
            hardware: Some(hw),
            ..Default::default()
        };
        m.bank
            .send(
                &[ix::update_provider(&ps[3].key(), update)],
                &[&ps[3].wallet],
            )
            .await
            .unwrap();
        assert_error(
            m.claim(&ps[3], &job).await,
            me(MarketError::RequirementsNotMet),
        );
    }
    // Somebody else's provider account (wrong PDA for the signer).
    let mut ix_ = ix::claim_slot(&ps[1].key(), &job, &m.draw_set);
    ix::replace_account(
        &mut ix_,
        &pda::provider(&ps[1].key()),
        &pda::provider(&ps[2].key()),
    );
    assert_error(
        m.bank.send(&[ix_], &[&ps[1].wallet]).await,
        Anchor::ConstraintSeeds,
    );
    // Another program's event authority in the staking event authority's place: refused by
    // the market's own seeds check (the IDL gives clients those seeds), before any CPI.
    let mut ix_ = ix::claim_slot(&ps[1].key(), &job, &m.draw_set);
    ix::replace_account(
        &mut ix_,
        &pda::event_authority(&concord_staking::ID),
        &pda::event_authority(&concord_market::ID),
    );
    assert_error(
        m.bank.send(&[ix_], &[&ps[1].wallet]).await,
        Anchor::ConstraintSeeds,
    );
    // An unregistered wallet.
    let stranger = m.actor(0).await;
    assert_error(
        m.claim(&stranger, &job).await,
        Anchor::AccountNotInitialized,
    );
    // Missing signer.
    let mut ix_ = ix::claim_slot(&ps[1].key(), &job, &m.draw_set);
    unsign(&mut ix_, &ps[1].key());
    assert_error(m.bank.send(&[ix_], &[]).await, Anchor::AccountNotSigner);
    // After the claim deadline.
    m.bank.warp(WINDOW + 1).await;
    assert_error(
        m.claim(&ps[1], &job).await,
        me(MarketError::ClaimDeadlinePassed),
    );
    // A running job has no free slot.
    let job2 = m.running_job(&buyer, &ps[..3], 2).await;
    assert_error(m.claim(&ps[3], &job2).await, me(MarketError::JobNotOpen));
}

#[tokio::test]
async fn commit_rejections() {
    let (mut m, buyer, ps) = Market::with_actors(4, FUNDS).await;
    let job = m.running_job(&buyer, &ps[..3], 2).await;
    assert_error(
        m.commit(&ps[3], &job, A, [1; 32]).await,
        me(MarketError::NotASlotHolder),
    );
    m.commit(&ps[0], &job, A, [1; 32]).await.unwrap();
    assert_error(
        m.commit(&ps[0], &job, A, [2; 32]).await,
        me(MarketError::AlreadyCommitted),
    );
    let mut ix_ = ix::commit_result(&ps[1].key(), &job, [5; 32]);
    unsign(&mut ix_, &ps[1].key());
    assert_error(m.bank.send(&[ix_], &[]).await, Anchor::AccountNotSigner);
    m.bank.warp(WINDOW + 1).await;
    assert_error(
        m.commit(&ps[1], &job, A, [1; 32]).await,
        me(MarketError::ExecutionDeadlinePassed),
    );
}

#[tokio::test]
async fn reveal_rejections() {
    let (mut m, buyer, ps) = Market::with_actors(4, FUNDS).await;
    let open = m.create_job(&buyer, job_args(1)).await.unwrap();
    assert_error(
        m.reveal(&ps[0], &open, A, [1; 32]).await,
        me(MarketError::JobNotRunning),
    );
    let job = m.running_job(&buyer, &ps[..3], 2).await;
    m.commit(&ps[0], &job, A, [1; 32]).await.unwrap();
    m.commit(&ps[1], &job, A, [2; 32]).await.unwrap();
    // Not every slot committed and the execution deadline has not passed.
    assert_error(
        m.reveal(&ps[0], &job, A, [1; 32]).await,
        me(MarketError::RevealNotOpen),
    );
    m.bank.warp(WINDOW + 1).await;
    // Wrong salt, wrong hash.
    assert_error(
        m.reveal(&ps[0], &job, A, [9; 32]).await,
        me(MarketError::CommitmentMismatch),
    );
    assert_error(
        m.reveal(&ps[0], &job, [0xB; 32], [1; 32]).await,
        me(MarketError::CommitmentMismatch),
    );
    // A commitment is bound to its provider: another slot holder cannot reveal it as its own.
    assert_error(
        m.reveal(&ps[1], &job, A, [1; 32]).await,
        me(MarketError::CommitmentMismatch),
    );
    // Not a slot holder; a holder that never committed.
    assert_error(
        m.reveal(&ps[3], &job, A, [1; 32]).await,
        me(MarketError::NotASlotHolder),
    );
    assert_error(
        m.reveal(&ps[2], &job, A, [1; 32]).await,
        me(MarketError::NotCommitted),
    );
    m.reveal(&ps[0], &job, A, [1; 32]).await.unwrap();
    assert_error(
        m.reveal(&ps[0], &job, A, [1; 32]).await,
        me(MarketError::AlreadyRevealed),
    );
    m.bank.warp(WINDOW).await;
    assert_error(
        m.reveal(&ps[1], &job, A, [2; 32]).await,
        me(MarketError::RevealDeadlinePassed),
    );
}

#[tokio::test]
async fn settle_rejections_and_idempotence() {
    let (mut m, buyer, ps) = Market::with_actors(3, FUNDS).await;
    let open = m.create_job(&buyer, job_args(1)).await.unwrap();
    let refs: Vec<&Actor> = ps.iter().collect();
    assert_error(
        m.settle(&buyer, &open, &[]).await,
        me(MarketError::JobNotRunning),
    );
    let job = m.running_job(&buyer, &ps, 2).await;
    assert_error(
        m.settle(&buyer, &job, &refs).await,
        me(MarketError::SettleTooEarly),
    );
    m.commit_and_reveal(&job, &refs, &[A, A, A]).await;
    // Missing or reordered slot accounts.
    assert_error(
        m.settle(&buyer, &job, &refs[..2]).await,
        me(MarketError::SlotAccountsMismatch),
    );
    assert_error(
        m.settle(&buyer, &job, &[refs[1], refs[0], refs[2]]).await,
        me(MarketError::SlotAccountsMismatch),
    );
    // A payout redirected to someone else's token account.
    let thief = m.actor(0).await;
    let escrow = m.escrow(&buyer, &job);
    let slots = [
        (ps[0].key(), thief.token),
        (ps[1].key(), ps[1].token),
        (ps[2].key(), ps[2].token),
    ];
    let r = m.bank.send(&[ix::settle(&escrow, &slots)], &[]).await;
    assert_error(r, me(MarketError::WrongPayoutAccount));
    // The buyer's refund redirected.
    let mut bad = escrow;
    bad.buyer_token = thief.token;
    let all: Vec<_> = ps.iter().map(|p| (p.key(), p.token)).collect();
    assert_error(
        m.bank.send(&[ix::settle(&bad, &all)], &[]).await,
        Anchor::ConstraintTokenOwner,
    );
    // Another job's vault.
    let other = m.create_job(&buyer, job_args(3)).await.unwrap();
    let mut ix_ = ix::settle(&escrow, &all);
    ix::replace_account(&mut ix_, &pda::job_vault(&job), &pda::job_vault(&other));
    assert_error(m.bank.send(&[ix_], &[]).await, Anchor::ConstraintSeeds);
    assert_eq!(m.bank.balance(&thief.token).await, 0);

    m.settle(&buyer, &job, &refs).await.expect("settle");
    let after = (
        m.bank.balance(&buyer.token).await,
        m.bank.balance(&ps[0].token).await,
    );
    // Settling again is a no-op: nothing moves.
    m.settle(&buyer, &job, &refs)
        .await
        .expect("second settle is a no-op");
    assert_eq!(
        (
            m.bank.balance(&buyer.token).await,
            m.bank.balance(&ps[0].token).await
        ),
        after
    );
    assert_eq!(m.job(&job).await.state, JobState::Settled);
}

#[tokio::test]
async fn cancel_refund_and_close_rejections() {
    let (mut m, buyer, ps) = Market::with_actors(3, FUNDS).await;
    let job = m.create_job(&buyer, job_args(1)).await.unwrap();
    m.claim(&ps[0], &job).await.unwrap();
    let escrow = m.escrow(&buyer, &job);
    // Someone else cancelling the buyer's job.
    let outsider = m.actor(0).await;
    let r = m
        .bank
        .send(
            &[ix::cancel_job(
                &outsider.key(),
                &escrow,
                &[(ps[0].key(), ps[0].token)],
            )],
            &[&outsider.wallet],
        )
        .await;
    assert_error(r, me(MarketError::Unauthorized));
    // Missing signer.
    let mut ix_ = ix::cancel_job(&buyer.key(), &escrow, &[(ps[0].key(), ps[0].token)]);
    unsign(&mut ix_, &buyer.key());
    assert_error(m.bank.send(&[ix_], &[]).await, Anchor::AccountNotSigner);
    // Forgetting the claimed slot's provider (its collateral would stay locked).
    let r = m
        .bank
        .send(
            &[ix::cancel_job(&buyer.key(), &escrow, &[])],
            &[&buyer.wallet],
        )
        .await;
    assert_error(r, me(MarketError::SlotAccountsMismatch));
    // Refund before the claim deadline.
    let r = m
        .bank
        .send(&[ix::refund_unfilled(&escrow, &[ps[0].key()])], &[])
        .await;
    assert_error(r, me(MarketError::ClaimWindowOpen));
    // Close before a terminal state.
    assert_error(m.close(&buyer, &job).await, me(MarketError::JobNotTerminal));

    // A compensation paid into someone else's account.
    let r = m
        .bank
        .send(
            &[ix::cancel_job(
                &buyer.key(),
                &escrow,
                &[(ps[0].key(), outsider.token)],
            )],
            &[&buyer.wallet],
        )
        .await;
    assert_error(r, me(MarketError::WrongPayoutAccount));

    // A running job can no longer be cancelled, nor refunded as unfilled.
    m.claim(&ps[1], &job).await.unwrap();
    m.claim(&ps[2], &job).await.unwrap();
    m.commit(&ps[0], &job, A, [1; 32]).await.unwrap();
    let holders: Vec<_> = ps.iter().map(|p| p.key()).collect();
    let pairs: Vec<_> = ps.iter().map(|p| (p.key(), p.token)).collect();
    let r = m
        .bank
        .send(
            &[ix::cancel_job(&buyer.key(), &escrow, &pairs)],
            &[&buyer.wallet],
        )
        .await;
    assert_error(r, me(MarketError::CannotCancel));
    m.bank.warp(WINDOW + 1).await;
    let r = m
        .bank
        .send(&[ix::refund_unfilled(&escrow, &holders)], &[])
        .await;
    assert_error(r, me(MarketError::JobNotOpen));

    // Close: the fee vault and the rent receiver cannot be swapped for someone else's.
    m.bank.warp(WINDOW).await;
    let refs: Vec<&Actor> = ps.iter().collect();
    m.settle(&buyer, &job, &refs).await.unwrap();
    let mut swapped = ix::close_job(&escrow, &buyer.key());
    ix::replace_account(&mut swapped, &pda::fee_vault(), &outsider.token);
    assert_error(m.bank.send(&[swapped], &[]).await, Anchor::ConstraintSeeds);
    let r = m
        .bank
        .send(&[ix::close_job(&escrow, &outsider.key())], &[])
        .await;
    assert_error(r, me(MarketError::Unauthorized));
    m.close(&buyer, &job).await.expect("close");
    // A closed job is gone: nothing can be settled or refunded again.
    assert_error(
        m.settle(&buyer, &job, &refs).await,
        Anchor::AccountNotInitialized,
    );
    assert_error(m.close(&buyer, &job).await, Anchor::AccountNotInitialized);
}

#[tokio::test]
async fn wrong_token_program_is_refused() {
    let (mut m, buyer, _) = Market::with_actors(0, FUNDS).await;
    let mint = m.bank.mint;
    let ix_ = ix::create_job(
        &buyer.key(),
        &buyer.token,
        &mint,
        &anchor_spl::token_2022::ID,
        job_args(1),
    );
    // Token-2022 named for a classic SPL Token mint: the vault cannot be created.
    let r = m.bank.send(&[ix_], &[&buyer.wallet]).await;
    assert_instruction_error(r, InstructionError::IncorrectProgramId);
    let fake = Pubkey::new_unique();
    let ix_ = ix::create_job(&buyer.key(), &buyer.token, &mint, &fake, job_args(1));
    assert_error(
        m.bank.send(&[ix_], &[&buyer.wallet]).await,
        Anchor::InvalidProgramId,
    );
    assert_eq!(m.bank.balance(&buyer.token).await, FUNDS);
}
