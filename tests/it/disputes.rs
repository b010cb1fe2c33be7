//! Disputes in the bank: each rejection of the dispute path with its named error, a referee
//! that commits and never reveals (slashed once a verdict forms, its collateral paying the
//! others), and a dispute whose referee slots do not fill (non-deterministic, the one referee
//! that claimed released). The paths a liar loses and referees split are in
//! `job_lifecycle.rs`, `economics.rs` and `job_paths.rs`.
use concord_market::errors::MarketError;
use concord_market::events::RefereesSettled;
use concord_market::{JobState, SlotOutcome, DISPUTE_CLAIM_ROUNDS};
use concord_tests::bank::assert_error;
use concord_tests::ix;
use concord_tests::pda;
use concord_tests::scenario::*;

const A: [u8; 32] = [0xA; 32];
const B: [u8; 32] = [0xB; 32];
const FEE: u64 = PRICE * FEE_BPS as u64 / 10_000;
const FUNDS: u64 = 100_000_000;

/// A market with three replicas that revealed A, A, B on a running job (the dispute not
/// opened yet) and six more providers to referee it.
struct Disputed {
    m: Market,
    buyer: Actor,
    replicas: Vec<Actor>,
    referees: Vec<Actor>,
    job: anchor_lang::prelude::Pubkey,
    start_total: u64,
}

async fn revealed_a_a_b() -> Disputed {
    let mut m = Market::new().await;
    let replicas = vec![
        m.provider(STAKE).await,
        m.provider(STAKE).await,
        m.provider(STAKE).await,
    ];
    let referees = m.providers(6).await;
    let buyer = m.actor(FUNDS).await;
    let start_total = m.total_tokens().await;
    let job = m.running_job(&buyer, &replicas, 1).await;
    let refs: Vec<&Actor> = replicas.iter().collect();
    m.commit_and_reveal(&job, &refs, &[A, A, B]).await;
    Disputed {
        m,
        buyer,
        replicas,
        referees,
        job,
        start_total,
    }
}

impl Disputed {
    async fn open(&mut self) {
        let replicas: Vec<&Actor> = self.replicas.iter().collect();
        self.m
            .settle(&self.buyer, &self.job, &replicas)
            .await
            .expect("open the dispute");
        assert_eq!(
            self.m.job(&self.job).await.dispute_name(),
            "drawing referees"
        );
    }
}

#[tokio::test]
async fn each_dispute_rejection_names_its_error() {
    let mut d = revealed_a_a_b().await;
    let (job, buyer) = (d.job, d.buyer.clone_actor());
    // No dispute yet: settle_referees has nothing to settle.
    assert_error(
        d.m.settle_referees(&buyer, &job, &[]).await,
        MarketError::NotDisputed,
    );
    d.open().await;
    // A referee's slot takes no commitment before the referee slots fill: one that never
    // filled would slash it unrevealed (`Job::check_commit_open`).
    d.m.past_seed_slot(&job).await;
    let referee = d.referees[0].clone_actor();
    assert_error(
        d.m.claim_and_commit(&referee, &job, A, [4; 32]).await,
        MarketError::JobNotRunning,
    );
    d.m.claim(&referee, &job).await.expect("referee claim");
    assert_error(
        d.m.commit(&referee, &job, A, [4; 32]).await,
        MarketError::JobNotRunning,
    );
    // The replicas' phase is over: a second reveal is refused before anything else.
    let liar = &d.replicas[2];
    assert_error(
        d.m.reveal(liar, &job, B, [3; 32]).await,
        MarketError::ReplicaPhaseOver,
    );
    // The buyer can neither cancel nor expire a dispute.
    let refs: Vec<&Actor> = d.replicas.iter().collect();
    assert_error(d.m.cancel(&buyer, &job, &refs).await, MarketError::Disputed);
    d.m.bank.warp(DISPUTE_CLAIM_ROUNDS * TAKE_WINDOW + 1).await;
    let escrow = d.m.escrow(&buyer, &job);
    let holders: Vec<_> = refs.iter().map(|a| a.key()).collect();
    assert_error(
        d.m.bank
            .send(&[ix::refund_unfilled(&escrow, &holders)], &[])
            .await,
        MarketError::Disputed,
    );
}

#[tokio::test]
async fn referees_must_be_new_and_settle_in_order() {
    let mut d = revealed_a_a_b().await;
    let (job, buyer) = (d.job, d.buyer.clone_actor());
    d.open().await;
    d.m.past_seed_slot(&job).await;
    // A replica is never a referee of its own job.
    assert_error(
        d.m.claim_as_drawn(&d.replicas[0], &job).await,
        MarketError::AlreadyClaimed,
    );
    let referees: Vec<&Actor> = d.referees.iter().collect();
    for r in &referees {
        d.m.claim(r, &job).await.expect("referee claim");
    }
    for (i, r) in referees.iter().enumerate() {
        d.m.commit(r, &job, A, [i as u8 + 1; 32]).await.unwrap();
    }
    // Committed, not revealed: too early for either half.
    assert_error(
        d.m.settle_referees(&buyer, &job, &referees).await,
        MarketError::SettleTooEarly,
    );
    for (i, r) in referees.iter().enumerate() {
        d.m.reveal(r, &job, A, [i as u8 + 1; 32]).await.unwrap();
    }
    let refs: Vec<&Actor> = d.replicas.iter().collect();
    assert_error(
        d.m.settle(&buyer, &job, &refs).await,
        MarketError::RefereesNotSettled,
    );
    // The referees' accounts in another order are refused.
    let reversed: Vec<&Actor> = referees.iter().rev().copied().collect();
    assert_error(
        d.m.settle_referees(&buyer, &job, &reversed).await,
        MarketError::SlotAccountsMismatch,
    );
    d.m.settle_referees(&buyer, &job, &referees).await.unwrap();
    // Idempotent: a second call moves nothing.
    let again = d.m.settle_referees(&buyer, &job, &referees).await.unwrap();
    assert!(again.events::<RefereesSettled>().is_empty());
    d.m.settle(&buyer, &job, &refs).await.unwrap();
    assert_eq!(d.m.job(&job).await.state, JobState::Settled);
    d.m.assert_conserved().await;
}

/// Five referees reveal the verdict, the sixth commits and never reveals: after the reveal
/// window it is slashed with the liar (a verdict needs every referee who revealed, and four
/// of them), and both collaterals pay the five (an equal share, at most price − fee); the rest
/// is burned. Exact balances, conservation to the unit.
#[tokio::test]
async fn a_referee_that_never_reveals_is_slashed_once_a_verdict_forms() {
    let mut d = revealed_a_a_b().await;
    let (job, buyer) = (d.job, d.buyer.clone_actor());
    d.open().await;
    d.m.past_seed_slot(&job).await;
    let referees: Vec<&Actor> = d.referees.iter().collect();
    for r in &referees {
        d.m.claim(r, &job).await.expect("referee claim");
    }
    for (i, r) in referees.iter().enumerate() {
        d.m.commit(r, &job, A, [i as u8 + 1; 32]).await.unwrap();
    }
    for (i, r) in referees[..5].iter().enumerate() {
        d.m.reveal(r, &job, A, [i as u8 + 1; 32]).await.unwrap();
    }
    d.m.bank.warp(2 * WINDOW + 1).await;
    let judged = d.m.settle_referees(&buyer, &job, &referees).await.unwrap();
    let v = judged.events::<RefereesSettled>();
    // Pool 2 × COLLATERAL, five paid; at most the deposit over six each.
    let pay = (PRICE - FEE).min(2 * COLLATERAL / 5).min(3 * PRICE / 6);
    assert_eq!(
        (v[0].verdict, v[0].referees_paid, v[0].referee_pay),
        (Some(A), 5, pay)
    );
    let refs: Vec<&Actor> = d.replicas.iter().collect();
    d.m.settle(&buyer, &job, &refs).await.unwrap();
    let state = d.m.job(&job).await;
    let outcomes: Vec<_> = state.slots[..9].iter().map(|s| s.outcome).collect();
    use SlotOutcome::*;
    assert_eq!(
        outcomes,
        [Paid, Paid, Slashed, Paid, Paid, Paid, Paid, Paid, Slashed]
    );
    for r in &referees[..5] {
        assert_eq!(d.m.bank.balance(&r.token).await, pay);
    }
    let silent = d.m.provider_state(&d.referees[5]).await;
    assert_eq!((silent.staked, silent.locked), (STAKE - COLLATERAL, 0));
    let burn = 2 * COLLATERAL - 5 * pay;
    assert_eq!((state.burn_due, state.treasury_due), (burn, 2 * FEE));
    assert_eq!(
        d.m.bank.balance(&pda::job_vault(&job)).await,
        burn + 2 * FEE
    );
    assert_eq!(d.m.bank.balance(&buyer.token).await, FUNDS - 2 * PRICE);
    d.m.close(&buyer, &job).await.unwrap();
    assert_eq!(d.m.total_tokens().await, d.start_total - burn);
    d.m.assert_conserved().await;
}

/// Only one referee claims before the dispute's claim deadline: no verdict can form, so the
/// job ends non-deterministic, that referee is released unpaid, nobody is slashed, and the
/// buyer gets the whole deposit back.
#[tokio::test]
async fn a_dispute_whose_referee_slots_do_not_fill_ends_non_deterministic() {
    let mut d = revealed_a_a_b().await;
    let (job, buyer) = (d.job, d.buyer.clone_actor());
    d.open().await;
    d.m.past_seed_slot(&job).await;
    let lone = &d.referees[0];
    d.m.claim(lone, &job).await.expect("referee claim");
    assert_eq!(d.m.provider_state(lone).await.locked, COLLATERAL);
    let refs: Vec<&Actor> = d.replicas.iter().collect();
    assert_error(
        d.m.settle_referees(&buyer, &job, &[lone]).await,
        MarketError::SettleTooEarly,
    );
    d.m.bank.warp(DISPUTE_CLAIM_ROUNDS * TAKE_WINDOW + 1).await;
    d.m.settle_referees(&buyer, &job, &[lone]).await.unwrap();
    d.m.settle(&buyer, &job, &refs).await.unwrap();
    let state = d.m.job(&job).await;
    assert_eq!(
        (state.state, state.dispute_name()),
        (JobState::Settled, "non-deterministic")
    );
    assert!(state.slots[..4]
        .iter()
        .all(|s| s.outcome == SlotOutcome::Unpaid));
    let lone_state = d.m.provider_state(&d.referees[0]).await;
    assert_eq!((lone_state.staked, lone_state.locked), (STAKE, 0));
    for i in 0..3 {
        let p = d.m.provider_state(&d.replicas[i]).await;
        assert_eq!((p.staked, p.locked), (STAKE, 0));
    }
    assert_eq!(d.m.bank.balance(&buyer.token).await, FUNDS);
    d.m.close(&buyer, &job).await.unwrap();
    assert_eq!(d.m.total_tokens().await, d.start_total);
    d.m.assert_conserved().await;
}
