//! One test per Solana attack class, each building the malicious transaction and seeing it
//! refused with the expected error, plus the double-payout patterns. After every refused
//! attack the money is where it was.
use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::system_instruction;
use concord_market::errors::MarketError;
use concord_market::instructions::CreateJobArgs;
use concord_market::{JobState, MarketParams};
use concord_tests::bank::{assert_error, unsign};
use concord_tests::ix;
use concord_tests::pda;
use concord_tests::scenario::*;
use solana_sdk::account::Account;
use solana_sdk::signer::Signer;

fn me(e: MarketError) -> u32 {
    e.into()
}

const A: [u8; 32] = [0xA; 32];
const FUNDS: u64 = 100_000_000;

/// Plants an account with `data` owned by `owner` at a fresh address (what an attacker's own
/// program could create).
async fn plant(m: &mut Market, owner: Pubkey, data: Vec<u8>) -> Pubkey {
    let address = Pubkey::new_unique();
    let account = Account {
        lamports: 1_000_000_000,
        data,
        owner,
        executable: false,
        rent_epoch: u64::MAX,
    };
    m.bank.ctx.set_account(&address, &account.into());
    address
}

#[tokio::test]
async fn missing_signer() {
    let (mut m, buyer, ps) = Market::with_actors(3, FUNDS).await;
    let job = m.running_job(&buyer, &ps, 1).await;
    let escrow = m.escrow(&buyer, &job);
    let holders: Vec<_> = ps.iter().map(|p| (p.key(), p.token)).collect();
    let (mint, program) = (m.bank.mint, m.bank.token_program);
    let cases = [
        (ix::commit_result(&ps[0].key(), &job, [1; 32]), ps[0].key()),
        (
            ix::reveal_result(&ps[0].key(), &job, A, [1; 32]),
            ps[0].key(),
        ),
        (ix::cancel_job(&buyer.key(), &escrow, &holders), buyer.key()),
        (
            ix::create_job(&buyer.key(), &buyer.token, &mint, &program, job_args(2)),
            buyer.key(),
        ),
        (
            ix::request_unbond(&ps[0].key(), 1, concord_staking::MAX_UNBONDING_PERIOD),
            ps[0].key(),
        ),
        (
            ix::withdraw_stake(&ps[0].key(), &ps[0].token, &mint, &program),
            ps[0].key(),
        ),
    ];
    for (mut case, signer) in cases {
        unsign(&mut case, &signer);
        assert_error(m.bank.send(&[case], &[]).await, Anchor::AccountNotSigner);
    }
    assert_eq!(m.job(&job).await.committed, 0);
}

#[tokio::test]
async fn wrong_account_owner() {
    let (mut m, buyer, ps) = Market::with_actors(3, FUNDS).await;
    let job = m.running_job(&buyer, &ps, 1).await;
    let refs: Vec<&Actor> = ps.iter().collect();
    m.commit_and_reveal(&job, &refs, &[A, A, A]).await;
    // A byte-for-byte copy of a real Provider account, owned by the attacker's program,
    // passed to settle in place of the real one.
    let real = m
        .bank
        .raw_account(&pda::provider(&ps[0].key()))
        .await
        .unwrap();
    let fake = plant(&mut m, Pubkey::new_unique(), real.data).await;
    let escrow = m.escrow(&buyer, &job);
    let slots: Vec<_> = ps.iter().map(|p| (p.key(), p.token)).collect();
    let mut attack = ix::settle(&escrow, &slots);
    ix::replace_account(&mut attack, &pda::provider(&ps[0].key()), &fake);
    assert_error(
        m.bank.send(&[attack], &[]).await,
        Anchor::AccountOwnedByWrongProgram,
    );
    // A copy of the job owned by someone else, passed where the job is expected.
    let job_data = m.bank.raw_account(&job).await.unwrap().data;
    let fake_job = plant(&mut m, Pubkey::new_unique(), job_data).await;
    let mut attack = ix::commit_result(&ps[0].key(), &job, [1; 32]);
    ix::replace_account(&mut attack, &job, &fake_job);
    assert_error(
        m.bank.send(&[attack], &[&ps[0].wallet]).await,
        Anchor::AccountOwnedByWrongProgram,
    );
    assert_eq!(m.job(&job).await.state, JobState::Running);
}

#[tokio::test]
async fn type_cosplay() {
    let (mut m, buyer, ps) = Market::with_actors(3, FUNDS).await;
    let job = m.running_job(&buyer, &ps, 1).await;
    // The market config (same owner, same program) where a job is expected.
    let mut attack = ix::commit_result(&ps[0].key(), &job, [1; 32]);
    ix::replace_account(&mut attack, &job, &pda::market_config());
    assert_error(
        m.bank.send(&[attack], &[&ps[0].wallet]).await,
        Anchor::AccountDiscriminatorMismatch,
    );
    // A job account (owned by the market) where a staking Provider is expected.
    let refs: Vec<&Actor> = ps.iter().collect();
    m.commit_and_reveal(&job, &refs, &[A, A, A]).await;
    let escrow = m.escrow(&buyer, &job);
    let slots: Vec<_> = ps.iter().map(|p| (p.key(), p.token)).collect();
    let mut attack = ix::settle(&escrow, &slots);
    ix::replace_account(&mut attack, &pda::provider(&ps[0].key()), &job);
    assert_error(
        m.bank.send(&[attack], &[]).await,
        Anchor::AccountOwnedByWrongProgram,
    );
    // A staking-owned account of the same program but another type (the staking config)
    // where a Provider is expected.
    let mut attack = ix::settle(&escrow, &slots);
    ix::replace_account(
        &mut attack,
        &pda::provider(&ps[0].key()),
        &pda::staking_config(),
    );
    assert_error(
        m.bank.send(&[attack], &[]).await,
        Anchor::AccountDiscriminatorMismatch,
    );
    // A fake Provider with the right owner cannot be made: only the staking program writes
    // accounts it owns, so the attacker's copy above is the closest it gets.
}

#[tokio::test]
async fn reinitialization() {
    let (mut m, buyer, ps) = Market::with_actors(1, FUNDS).await;
    let admin = m.admin.insecure_clone();
    let (mint, program, treasury) = (m.bank.mint, m.bank.token_program, m.treasury);
    let cases = [
        (
            ix::initialize_staking(
                &admin.pubkey(),
                &mint,
                staking_params(),
                Pubkey::new_unique(),
                false,
            ),
            &admin,
        ),
        (
            ix::initialize_market(
                &admin.pubkey(),
                &mint,
                &program,
                &treasury,
                &m.draw_set,
                market_params(),
                DRAW_EPOCH_SLOTS,
            ),
            &admin,
        ),
        (
            ix::register_provider(&ps[0].key(), &mint, &program, gpu(), ""),
            &ps[0].wallet,
        ),
    ];
    for (case, signer) in cases {
        assert_error(m.bank.send(&[case], &[signer]).await, 0u32);
    }
    m.create_job(&buyer, job_args(1)).await.unwrap();
    assert_error(m.create_job(&buyer, job_args(1)).await, 0u32);
    let cfg = m
        .bank
        .account::<concord_staking::StakingConfig>(&pda::staking_config())
        .await
        .unwrap();
    assert_eq!(
        cfg.market_authority,
        pda::market_authority(),
        "config unchanged"
    );
    assert_eq!(
        m.provider_state(&ps[0]).await.staked,
        STAKE,
        "provider unchanged"
    );
}

#[tokio::test]
async fn arbitrary_cpi_fake_programs() {
    let (mut m, buyer, ps) = Market::with_actors(3, FUNDS).await;
    let mint = m.bank.mint;
    // A fake token program for the escrow transfer.
    let fake_token = Pubkey::new_unique();
    let attack = ix::create_job(&buyer.key(), &buyer.token, &mint, &fake_token, job_args(1));
    assert_error(
        m.bank.send(&[attack], &[&buyer.wallet]).await,
        Anchor::InvalidProgramId,
    );
    // A fake staking program for the collateral CPI (it would "lock" nothing).
    let job = m.create_job(&buyer, job_args(1)).await.unwrap();
    let mut attack = ix::claim_slot(&ps[0].key(), &job, &m.draw_set);
    ix::replace_account(&mut attack, &concord_staking::ID, &anchor_spl::token::ID);
    assert_error(
        m.bank.send(&[attack], &[&ps[0].wallet]).await,
        Anchor::InvalidProgramId,
    );
    // The system program passed as the token program at settlement.
    let job = m.running_job(&buyer, &ps, 2).await;
    let refs: Vec<&Actor> = ps.iter().collect();
    m.commit_and_reveal(&job, &refs, &[A, A, A]).await;
    let mut escrow = m.escrow(&buyer, &job);
    escrow.token_program = anchor_lang::system_program::ID;
    let slots: Vec<_> = ps.iter().map(|p| (p.key(), p.token)).collect();
    assert_error(
        m.bank.send(&[ix::settle(&escrow, &slots)], &[]).await,
        Anchor::InvalidProgramId,
    );
    assert_eq!(m.job(&job).await.state, JobState::Running);
}

#[tokio::test]
async fn duplicate_mutable_accounts() {
    let (mut m, buyer, ps) = Market::with_actors(3, FUNDS).await;
    let job = m.create_job(&buyer, job_args(1)).await.unwrap();
    // One provider in two slots.
    m.claim(&ps[0], &job).await.unwrap();
    assert_error(m.claim(&ps[0], &job).await, me(MarketError::AlreadyClaimed));
    // Two claims by one provider in a single transaction.
    let twice = [
        ix::claim_slot(&ps[1].key(), &job, &m.draw_set),
        ix::claim_slot(&ps[1].key(), &job, &m.draw_set),
    ];
    assert_error(
        m.bank.send(&twice, &[&ps[1].wallet]).await,
        me(MarketError::AlreadyClaimed),
    );
    assert_eq!(m.job(&job).await.filled, 1);
    // The buyer as a provider of its own job.
    m.register_as_provider(&buyer, STAKE).await;
    assert_error(
        m.claim(&buyer, &job).await,
        me(MarketError::BuyerCannotServe),
    );
    // One provider's accounts passed for two slots at settlement (to be paid twice).
    m.claim(&ps[1], &job).await.unwrap();
    m.claim(&ps[2], &job).await.unwrap();
    let refs: Vec<&Actor> = ps.iter().collect();
    m.commit_and_reveal(&job, &refs, &[A, A, A]).await;
    let dup = [&ps[0], &ps[0], &ps[2]];
    assert_error(
        m.settle(&buyer, &job, &dup).await,
        me(MarketError::SlotAccountsMismatch),
    );
    assert_eq!(m.bank.balance(&ps[0].token).await, 0);
}

#[tokio::test]
async fn non_canonical_bump() {
    let (mut m, buyer, ps) = Market::with_actors(3, FUNDS).await;
    let job = m.create_job(&buyer, job_args(1)).await.unwrap();
    // The market authority derived with a non-canonical bump.
    let (_, canonical) = Pubkey::find_program_address(&[b"authority"], &concord_market::ID);
    let other = (0..canonical)
        .rev()
        .find_map(|b| {
            Pubkey::create_program_address(&[b"authority", &[b]], &concord_market::ID).ok()
        })
        .expect("a non-canonical bump exists");
    let mut attack = ix::claim_slot(&ps[0].key(), &job, &m.draw_set);
    ix::replace_account(&mut attack, &pda::market_authority(), &other);
    assert_error(
        m.bank.send(&[attack], &[&ps[0].wallet]).await,
        Anchor::ConstraintSeeds,
    );
    // A job address derived with a non-canonical bump (nothing lives there).
    let id = 1u64.to_le_bytes();
    let (_, jb) =
        Pubkey::find_program_address(&[b"job", buyer.key().as_ref(), &id], &concord_market::ID);
    let alt = (0..jb)
        .rev()
        .find_map(|b| {
            Pubkey::create_program_address(
                &[b"job", buyer.key().as_ref(), &id, &[b]],
                &concord_market::ID,
            )
            .ok()
        })
        .unwrap();
    let mut attack = ix::commit_result(&ps[0].key(), &job, [1; 32]);
    ix::replace_account(&mut attack, &job, &alt);
    assert_error(
        m.bank.send(&[attack], &[&ps[0].wallet]).await,
        Anchor::AccountNotInitialized,
    );
}

#[tokio::test]
async fn pda_sharing() {
    let (mut m, buyer, ps) = Market::with_actors(3, FUNDS).await;
    let (mint, program) = (m.bank.mint, m.bank.token_program);
    // Depositing into / withdrawing from another provider's stake vault.
    let mut attack = ix::deposit_stake(&ps[0].key(), &ps[0].token, &mint, &program, 1);
    let victim_vault = pda::stake_vault(&pda::provider(&ps[1].key()));
    ix::replace_account(
        &mut attack,
        &pda::stake_vault(&pda::provider(&ps[0].key())),
        &victim_vault,
    );
    assert_error(
        m.bank.send(&[attack], &[&ps[0].wallet]).await,
        Anchor::ConstraintHasOne,
    );
    m.bank
        .send(
            &[ix::request_unbond(
                &ps[0].key(),
                1_000,
                concord_staking::MAX_UNBONDING_PERIOD,
            )],
            &[&ps[0].wallet],
        )
        .await
        .unwrap();
    m.bank.warp(UNBONDING_PERIOD).await;
    let mut attack = ix::withdraw_stake(&ps[0].key(), &ps[0].token, &mint, &program);
    ix::replace_account(
        &mut attack,
        &pda::stake_vault(&pda::provider(&ps[0].key())),
        &victim_vault,
    );
    assert_error(
        m.bank.send(&[attack], &[&ps[0].wallet]).await,
        Anchor::ConstraintHasOne,
    );
    // Settling one job out of another job's vault.
    let rich = m.running_job(&buyer, &ps, 1).await;
    let poor = m.running_job(&buyer, &ps, 2).await;
    let refs: Vec<&Actor> = ps.iter().collect();
    m.commit_and_reveal(&poor, &refs, &[A, A, A]).await;
    let escrow = m.escrow(&buyer, &poor);
    let slots: Vec<_> = ps.iter().map(|p| (p.key(), p.token)).collect();
    let mut attack = ix::settle(&escrow, &slots);
    ix::replace_account(&mut attack, &pda::job_vault(&poor), &pda::job_vault(&rich));
    assert_error(m.bank.send(&[attack], &[]).await, Anchor::ConstraintSeeds);
    // Slashing into the wrong provider's stake vault at settlement.
    let mut attack = ix::settle(&escrow, &slots);
    let v0 = pda::stake_vault(&pda::provider(&ps[0].key()));
    let v1 = pda::stake_vault(&pda::provider(&ps[1].key()));
    let pos = attack.accounts.iter().position(|a| a.pubkey == v0).unwrap();
    attack.accounts[pos].pubkey = v1;
    assert_error(
        m.bank.send(&[attack], &[]).await,
        me(MarketError::SlotAccountsMismatch),
    );
    assert_eq!(m.bank.balance(&pda::job_vault(&rich)).await, 3 * PRICE);
}

#[tokio::test]
async fn closing_and_revival() {
    let (mut m, buyer, ps) = Market::with_actors(3, FUNDS).await;
    let job = m.running_job(&buyer, &ps, 1).await;
    let refs: Vec<&Actor> = ps.iter().collect();
    m.commit_and_reveal(&job, &refs, &[A, A, A]).await;
    m.settle(&buyer, &job, &refs).await.unwrap();
    // Close the job and, in the same transaction, send lamports back to its address to revive it.
    let escrow = m.escrow(&buyer, &job);
    let revive = system_instruction::transfer(&m.bank.payer(), &job, 10_000_000);
    m.bank
        .send(&[ix::close_job(&escrow, &buyer.key()), revive], &[])
        .await
        .unwrap();
    let revived = m
        .bank
        .raw_account(&job)
        .await
        .expect("lamports at the address");
    assert_eq!(
        revived.owner,
        anchor_lang::system_program::ID,
        "no longer a market account"
    );
    assert!(revived.data.is_empty());
    // The revived address is no job: settling, closing or committing again all fail.
    assert_error(
        m.settle(&buyer, &job, &refs).await,
        Anchor::AccountOwnedByWrongProgram,
    );
    assert_error(
        m.close(&buyer, &job).await,
        Anchor::AccountOwnedByWrongProgram,
    );
    assert_error(
        m.commit(&ps[0], &job, A, [1; 32]).await,
        Anchor::AccountOwnedByWrongProgram,
    );
    m.assert_conserved().await;
}

#[tokio::test]
async fn sysvar_spoofing() {
    // Time comes from the Clock syscall, rent from the Rent syscall; the one sysvar account an
    // instruction takes, SlotHashes (the draws' seed), is pinned by address (a fake one is
    // refused with ConstraintAddress: `draws.rs`). The IDLs are checked for that, and a fake
    // "clock" account appended to a transaction changes nothing.
    for idl in ["concord_market", "concord_staking"] {
        let path = format!("{}/../idl/{idl}.json", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("idl");
        let pinned = text
            .matches("\"address\": \"SysvarS1otHashes111111111111111111111111111\"")
            .count();
        assert_eq!(
            text.matches("Sysvar").count(),
            pinned,
            "{idl} takes a sysvar account that is not pinned by address"
        );
    }
    let (mut m, buyer, ps) = Market::with_actors(3, FUNDS).await;
    let job = m.running_job(&buyer, &ps, 1).await;
    m.commit(&ps[0], &job, A, [1; 32]).await.unwrap();
    let mut clock = m.bank.clock().await;
    clock.unix_timestamp += 10 * WINDOW;
    let fake_clock = plant(&mut m, SYSVAR_OWNER, bincode_clock(&clock)).await;
    let mut attack = ix::reveal_result(&ps[0].key(), &job, A, [1; 32]);
    attack.accounts.push(
        anchor_lang::solana_program::instruction::AccountMeta::new_readonly(fake_clock, false),
    );
    assert_error(
        m.bank.send(&[attack], &[&ps[0].wallet]).await,
        me(MarketError::RevealNotOpen),
    );
}

/// The owner of every sysvar account.
const SYSVAR_OWNER: Pubkey = anchor_lang::pubkey!("Sysvar1111111111111111111111111111111111111");

fn bincode_clock(c: &anchor_lang::prelude::Clock) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&c.slot.to_le_bytes());
    v.extend_from_slice(&c.epoch_start_timestamp.to_le_bytes());
    v.extend_from_slice(&c.epoch.to_le_bytes());
    v.extend_from_slice(&c.leader_schedule_epoch.to_le_bytes());
    v.extend_from_slice(&c.unix_timestamp.to_le_bytes());
    v
}

#[tokio::test]
async fn overflow_at_the_limits() {
    let (mut m, buyer, ps) = Market::with_actors(1, FUNDS).await;
    let admin = m.admin.insecure_clone();
    let treasury = m.treasury;
    let wide = MarketParams {
        max_price_per_replica: u64::MAX,
        min_collateral_per_replica: 1,
        ..market_params()
    };
    m.bank
        .send(
            &[ix::update_market(&admin.pubkey(), &treasury, wide)],
            &[&admin],
        )
        .await
        .unwrap();
    // replicas × price overflows u64.
    let args = CreateJobArgs {
        price_per_replica: u64::MAX / 2,
        ..job_args(1)
    };
    assert_error(
        m.create_job(&buyer, args).await,
        me(MarketError::MathOverflow),
    );
    // A collateral of u64::MAX cannot be locked.
    let args = CreateJobArgs {
        collateral_per_replica: u64::MAX,
        ..job_args(2)
    };
    let job = m.create_job(&buyer, args).await.unwrap();
    assert_error(
        m.claim(&ps[0], &job).await,
        u32::from(concord_staking::errors::StakingError::InsufficientFreeStake),
    );
    // Unbonding u64::MAX.
    let r = m
        .bank
        .send(
            &[ix::request_unbond(
                &ps[0].key(),
                u64::MAX,
                concord_staking::MAX_UNBONDING_PERIOD,
            )],
            &[&ps[0].wallet],
        )
        .await;
    assert_error(
        r,
        u32::from(concord_staking::errors::StakingError::InsufficientFreeStake),
    );
    // The maximum fee on the maximum price does not overflow (computed in u128).
    let max_fee = MarketParams {
        fee_bps: concord_market::MAX_FEE_BPS,
        ..wide
    };
    m.bank
        .send(
            &[ix::update_market(&admin.pubkey(), &treasury, max_fee)],
            &[&admin],
        )
        .await
        .unwrap();
    let rich = m.actor(0).await;
    let headroom = u64::MAX - m.bank.supply().await;
    m.bank.mint_to(&rich.token, headroom).await;
    let price = headroom / 3;
    let args = CreateJobArgs {
        price_per_replica: price,
        max_fee_bps: concord_market::MAX_FEE_BPS,
        ..job_args(3)
    };
    let job = m.create_job(&rich, args).await.unwrap();
    assert_eq!(m.job(&job).await.fee_per_replica, price / 10);
    assert_eq!(m.bank.balance(&pda::job_vault(&job)).await, 3 * price);
}

#[tokio::test]
async fn double_payout_patterns() {
    let (mut m, buyer, ps) = Market::with_actors(3, FUNDS).await;
    let job = m.running_job(&buyer, &ps, 1).await;
    let refs: Vec<&Actor> = ps.iter().collect();
    m.commit_and_reveal(&job, &refs, &[A, A, A]).await;
    assert_error(
        m.commit(&ps[0], &job, A, [1; 32]).await,
        me(MarketError::AlreadyCommitted),
    );
    assert_error(
        m.reveal(&ps[0], &job, A, [1; 32]).await,
        me(MarketError::AlreadyRevealed),
    );
    // Settle twice in one transaction: the second is a no-op.
    let escrow = m.escrow(&buyer, &job);
    let slots: Vec<_> = ps.iter().map(|p| (p.key(), p.token)).collect();
    let twice = [ix::settle(&escrow, &slots), ix::settle(&escrow, &slots)];
    m.bank.send(&twice, &[]).await.unwrap();
    let fee = PRICE * FEE_BPS as u64 / 10_000;
    for p in &ps {
        assert_eq!(m.bank.balance(&p.token).await, PRICE - fee, "paid once");
    }
    // After settlement: no cancel, no unfilled refund, no commits.
    let holders: Vec<_> = ps.iter().map(|p| p.key()).collect();
    let r = m
        .bank
        .send(
            &[ix::cancel_job(&buyer.key(), &escrow, &slots)],
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
    // Refund twice.
    let other = m.create_job(&buyer, job_args(2)).await.unwrap();
    m.bank.warp(WINDOW + 1).await;
    let escrow2 = m.escrow(&buyer, &other);
    m.bank
        .send(&[ix::refund_unfilled(&escrow2, &[])], &[])
        .await
        .unwrap();
    let r = m
        .bank
        .send(&[ix::refund_unfilled(&escrow2, &[])], &[])
        .await;
    assert_error(r, me(MarketError::JobNotOpen));
    let r = m
        .bank
        .send(
            &[ix::cancel_job(&buyer.key(), &escrow2, &[])],
            &[&buyer.wallet],
        )
        .await;
    assert_error(r, me(MarketError::CannotCancel));
    // Close twice.
    m.close(&buyer, &job).await.unwrap();
    assert_error(m.close(&buyer, &job).await, Anchor::AccountNotInitialized);
    m.assert_conserved().await;
}
