//! Whole job lives in the bank: a liar among three replicas, outvoted by a dispute's referees
//! (SPL Token and Token-2022), and the event trail of a job.
use concord_market::errors::MarketError;
use concord_market::events::{
    DisputeOpened, JobCreated, JobSettled, RefereesSettled, SlotPaid, SlotSlashed,
};
use concord_market::{JobState, SlotOutcome, SlotStatus};
use concord_tests::bank::assert_error;
use concord_tests::pda;
use concord_tests::scenario::*;

const A: [u8; 32] = [0xA; 32];
const B: [u8; 32] = [0xB; 32];
const FEE: u64 = PRICE * FEE_BPS as u64 / 10_000;
const BUYER_FUNDS: u64 = 100_000_000;

async fn two_agree_one_lies(mut m: Market) {
    let providers = [
        m.provider(STAKE).await,
        m.provider(STAKE).await,
        m.provider(STAKE).await,
    ];
    let referees = m.providers(6).await;
    let buyer = m.actor(BUYER_FUNDS).await;
    let start_total = m.total_tokens().await;
    m.assert_conserved().await;
    m.next_draw_epoch().await;

    let job = m.create_job(&buyer, job_args(1)).await.expect("create job");
    assert_eq!(m.bank.balance(&buyer.token).await, BUYER_FUNDS - 3 * PRICE);
    assert_eq!(m.bank.balance(&pda::job_vault(&job)).await, 3 * PRICE);
    for p in &providers {
        m.claim(p, &job).await.expect("claim");
        assert_eq!(m.provider_state(p).await.locked, COLLATERAL);
    }
    assert_eq!(m.job(&job).await.state, JobState::Running);

    let refs: Vec<&Actor> = providers.iter().collect();
    m.commit_and_reveal(&job, &refs, &[A, A, B]).await;
    // The hashes differ: settle opens a dispute and moves nothing.
    let opened = m.settle(&buyer, &job, &refs).await.expect("settle");
    let dispute = opened.events::<DisputeOpened>();
    assert_eq!((dispute.len(), dispute[0].referees), (1, 6));
    assert!(opened.events::<SlotPaid>().is_empty() && opened.events::<SlotSlashed>().is_empty());
    let state = m.job(&job).await;
    assert_eq!(
        (state.state, state.dispute_name()),
        (JobState::Open, "drawing referees")
    );
    assert_eq!(m.bank.balance(&pda::job_vault(&job)).await, 3 * PRICE);
    // Six referees, none of them a replica, re-run it and agree with the two.
    m.past_seed_slot(&job).await;
    let judges: Vec<&Actor> = referees.iter().collect();
    for r in &judges {
        m.claim(r, &job).await.expect("referee claim");
    }
    assert_eq!(m.job(&job).await.state, JobState::Running);
    m.commit_and_reveal(&job, &judges, &[A; 6]).await;
    assert_error(
        m.settle(&buyer, &job, &refs).await,
        MarketError::RefereesNotSettled,
    );
    let judged = m
        .settle_referees(&buyer, &job, &judges)
        .await
        .expect("settle referees");
    // The liar's collateral pays the referees: min(price - fee, collateral / 6) each.
    let referee_pay = (PRICE - FEE).min(COLLATERAL / 6);
    let verdict = judged.events::<RefereesSettled>();
    assert_eq!(verdict[0].verdict, Some(A));
    assert_eq!(
        (verdict[0].referees_paid, verdict[0].referee_pay),
        (6, referee_pay)
    );
    let out = m.settle(&buyer, &job, &refs).await.expect("settle");

    // Events: two paid, one slashed, one settlement with the verdict.
    let paid = out.events::<SlotPaid>();
    assert_eq!(paid.len(), 2);
    assert!(paid.iter().all(|e| e.amount == PRICE - FEE));
    let slashed = out.events::<SlotSlashed>();
    assert_eq!(slashed.len(), 1);
    assert!(slashed[0].revealed_other_hash);
    assert_eq!(slashed[0].provider_authority, providers[2].key());
    let settled = out.events::<JobSettled>();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0].agreed_hash, Some(A));
    assert_eq!((settled[0].paid, settled[0].slashed), (2, 1));

    let state = m.job(&job).await;
    assert_eq!(
        (state.state, state.dispute_name()),
        (JobState::Settled, "verdict")
    );
    assert_eq!(state.agreed_hash, Some(A));
    let outcomes: Vec<_> = state.slots[..9].iter().map(|s| s.outcome).collect();
    use SlotOutcome::{Paid, Slashed};
    assert_eq!(
        outcomes,
        [Paid, Paid, Slashed, Paid, Paid, Paid, Paid, Paid, Paid]
    );
    assert!(state.slots[..9]
        .iter()
        .all(|s| s.status == SlotStatus::Revealed));

    // The honest two are paid price minus fee and fully unlocked, stake intact.
    for p in &providers[..2] {
        assert_eq!(m.bank.balance(&p.token).await, PRICE - FEE);
        let s = m.provider_state(p).await;
        assert_eq!((s.staked, s.locked), (STAKE, 0));
        assert_eq!((s.stats.jobs_paid, s.stats.earned), (1, PRICE - FEE));
    }
    for r in &referees {
        assert_eq!(m.bank.balance(&r.token).await, referee_pay);
        let s = m.provider_state(r).await;
        assert_eq!((s.staked, s.locked), (STAKE, 0));
    }
    // The liar loses its collateral, nothing else.
    let liar = m.provider_state(&providers[2]).await;
    assert_eq!((liar.staked, liar.locked), (STAKE - COLLATERAL, 0));
    assert_eq!(liar.stats.slashed, COLLATERAL);
    assert_eq!(m.bank.balance(&providers[2].token).await, 0);
    assert_eq!(
        m.bank
            .balance(&pda::stake_vault(&pda::provider(&providers[2].key())))
            .await,
        STAKE - COLLATERAL
    );
    // Buyer: paid two replicas and got the third's price back; never the liar's collateral.
    // What the referees did not take of it waits in the vault to be burned.
    let burn = COLLATERAL - 6 * referee_pay;
    let buyer_after = BUYER_FUNDS - 2 * PRICE;
    assert_eq!(m.bank.balance(&buyer.token).await, buyer_after);
    assert_eq!(settled[0].burn_due, burn);
    assert_eq!(
        (state.treasury_due, state.burn_due, state.referee_pay_total),
        (2 * FEE, burn, 6 * referee_pay)
    );
    assert_eq!(state.escrow_owed, 2 * FEE + burn);
    assert_eq!(m.bank.balance(&pda::job_vault(&job)).await, 2 * FEE + burn);
    assert_eq!(m.bank.supply().await, start_total);

    let buyer_lamports = m.bank.lamports(&buyer.key()).await;
    let closed = m.close(&buyer, &job).await.expect("close");
    let closed = closed.events::<concord_market::events::JobClosed>();
    assert_eq!((closed[0].fees, closed[0].burned), (2 * FEE, burn));
    assert_eq!(m.bank.supply().await, start_total - burn, "burned");
    assert_eq!(m.bank.balance(&pda::fee_vault()).await, 2 * FEE);
    m.withdraw_fees().await.expect("withdraw fees");
    assert_eq!(m.bank.balance(&m.treasury.clone()).await, 2 * FEE);
    assert!(!m.bank.exists(&pda::job_vault(&job)).await, "vault closed");
    assert!(!m.bank.exists(&job).await, "job closed");
    assert!(
        m.bank.lamports(&buyer.key()).await > buyer_lamports,
        "rent back to the buyer"
    );
    assert_eq!(m.bank.balance(&buyer.token).await, buyer_after);

    // Conservation, to the unit, less the burn.
    assert_eq!(m.total_tokens().await, start_total - burn);
    m.assert_conserved().await;
}

#[tokio::test]
async fn two_agree_one_lies_spl_token() {
    two_agree_one_lies(Market::new().await).await;
}

#[tokio::test]
async fn two_agree_one_lies_token_2022() {
    two_agree_one_lies(Market::with_token_program(anchor_spl::token_2022::ID).await).await;
}

#[tokio::test]
async fn create_job_emits_its_terms() {
    let mut m = Market::new().await;
    let buyer = m.actor(BUYER_FUNDS).await;
    let (mint, program) = (m.bank.mint, m.bank.token_program);
    let out = m
        .bank
        .send(
            &[concord_tests::ix::create_job(
                &buyer.key(),
                &buyer.token,
                &mint,
                &program,
                job_args(9),
            )],
            &[&buyer.wallet],
        )
        .await
        .expect("create");
    let created = out.events::<JobCreated>();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].job, pda::job(&buyer.key(), 9));
    assert_eq!(created[0].deposit, 3 * PRICE);
    assert_eq!((created[0].replicas, created[0].quorum), (3, 2));
}
