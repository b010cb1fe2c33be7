//! The other exits of a job, each with exact balances: no quorum, no-shows, cancel, unfilled
//! refund, and an invalid job whose canonical error outcome is agreed by the quorum. Slashed
//! collateral is burned: conservation is checked against the starting total less the burns.
use concord_market::errors::MarketError;
use concord_market::events::{
    JobCancelled, JobExpired, JobSettled, RefereesSettled, SlotCompensated, SlotPaid, SlotSlashed,
};
use concord_market::{JobState, SlotOutcome, SlotStatus, DISPUTE_CLAIM_ROUNDS};
use concord_tests::bank::assert_error;
use concord_tests::ix;
use concord_tests::pda;
use concord_tests::scenario::*;

const A: [u8; 32] = [0xA; 32];
const B: [u8; 32] = [0xB; 32];
const C: [u8; 32] = [0xC; 32];
const FEE: u64 = PRICE * FEE_BPS as u64 / 10_000;
const FUNDS: u64 = 100_000_000;

struct Setup {
    m: Market,
    buyer: Actor,
    providers: Vec<Actor>,
    /// Six more staked providers, for a dispute's referee slots.
    referees: Vec<Actor>,
    job: anchor_lang::prelude::Pubkey,
    start_total: u64,
}

/// Three staked providers, a funded buyer, a 3-replica quorum-2 job, all slots claimed (and
/// six more providers who can be drawn as referees).
async fn running_job() -> Setup {
    let mut m = Market::new().await;
    let providers = vec![
        m.provider(STAKE).await,
        m.provider(STAKE).await,
        m.provider(STAKE).await,
    ];
    let referees = m.providers(6).await;
    let buyer = m.actor(FUNDS).await;
    let start_total = m.total_tokens().await;
    let job = m.create_job(&buyer, job_args(1)).await.unwrap();
    for p in &providers {
        m.claim(p, &job).await.unwrap();
    }
    Setup {
        m,
        buyer,
        providers,
        referees,
        job,
        start_total,
    }
}

impl Setup {
    async fn settle_all(&mut self) {
        let providers: Vec<&Actor> = self.providers.iter().collect();
        self.m
            .settle(&self.buyer, &self.job, &providers)
            .await
            .expect("settle");
    }

    /// Closes the job and checks where everything went: `fees` to the fee vault (and on to
    /// the treasury), `buyer` left with the buyer, `burned` gone from the supply.
    async fn finish(mut self, fees: u64, buyer: u64, burned: u64) {
        check_close(&mut self.m, &self.buyer, &self.job, fees).await;
        assert_eq!(self.m.bank.balance(&self.buyer.token).await, buyer, "buyer");
        assert_eq!(
            self.m.total_tokens().await,
            self.start_total - burned,
            "conservation less the burns"
        );
        self.m.assert_conserved().await;
    }

    async fn staked_locked(&mut self, i: usize) -> (u64, u64) {
        let s = self.m.provider_state(&self.providers[i]).await;
        (s.staked, s.locked)
    }
}

/// Closes `job`: its fees land in the fee vault, and `withdraw_fees` moves them to the
/// treasury (both checked to the unit).
async fn check_close(m: &mut Market, buyer: &Actor, job: &anchor_lang::prelude::Pubkey, fees: u64) {
    let (vault_before, treasury_before) = (
        m.bank.balance(&pda::fee_vault()).await,
        m.bank.balance(&m.treasury.clone()).await,
    );
    m.close(buyer, job).await.expect("close");
    assert_eq!(
        m.bank.balance(&pda::fee_vault()).await,
        vault_before + fees,
        "fee vault"
    );
    m.withdraw_fees().await.expect("withdraw fees");
    assert_eq!(m.bank.balance(&pda::fee_vault()).await, 0);
    assert_eq!(
        m.bank.balance(&m.treasury.clone()).await,
        treasury_before + vault_before + fees,
        "treasury"
    );
}

/// Three replicas reveal three hashes: a dispute, whose referees split as well (three
/// hashes again). The job is non-deterministic: nobody is paid or slashed, replicas and
/// referees are unlocked, and the buyer gets its whole deposit back.
#[tokio::test]
async fn split_referees_end_the_job_non_deterministic_with_a_full_refund() {
    let mut s = running_job().await;
    let job = s.job;
    let refs: Vec<&Actor> = s.providers.iter().collect();
    s.m.commit_and_reveal(&job, &refs, &[A, B, C]).await;
    let judges: Vec<&Actor> = s.referees.iter().collect();
    let (judged, settled) =
        s.m.dispute(&s.buyer, &job, &refs, &judges, &[A, B, C, A, B, C])
            .await;
    let verdict = judged.events::<RefereesSettled>();
    assert_eq!((verdict[0].verdict, verdict[0].referees_paid), (None, 0));
    assert!(
        settled.events::<SlotSlashed>().is_empty() && judged.events::<SlotSlashed>().is_empty()
    );
    let state = s.m.job(&job).await;
    assert_eq!(
        (state.agreed_hash, state.dispute_name()),
        (None, "non-deterministic")
    );
    assert!(state.slots[..9]
        .iter()
        .all(|x| x.outcome == SlotOutcome::Unpaid));
    for i in 0..3 {
        assert_eq!(s.staked_locked(i).await, (STAKE, 0));
        assert_eq!(s.m.bank.balance(&s.providers[i].token).await, 0);
    }
    for i in 0..6 {
        let r = s.m.provider_state(&s.referees[i]).await;
        assert_eq!((r.staked, r.locked), (STAKE, 0));
        assert_eq!(s.m.bank.balance(&s.referees[i].token).await, 0);
    }
    s.finish(0, FUNDS, 0).await;
}

/// Audit H-1: a no-show is slashed only when a quorum or a verdict shows the job could be
/// run; without one (a job built so that honest providers cannot finish it) nobody loses stake
/// and the buyer collects nothing beyond its own deposit. At 24b06f0 the no-show lost its
/// collateral and the buyer received 80 % of it. Also L-3: once the execution deadline passed
/// and every commitment is revealed, nothing can change, so the job settles at once: here its
/// two differing reveals open a dispute at once, which no referee takes up by its deadline.
#[tokio::test]
async fn without_a_verdict_a_no_show_slashes_nobody() {
    let mut s = running_job().await;
    let job = s.job;
    let (p0, p1) = (&s.providers[0], &s.providers[1]);
    s.m.commit(p0, &job, A, [1; 32]).await.unwrap();
    s.m.commit(p1, &job, B, [2; 32]).await.unwrap();
    s.m.bank.warp(WINDOW + 1).await; // execution deadline passes; reveal opens
    let (p0, p1) = (&s.providers[0], &s.providers[1]);
    s.m.reveal(p0, &job, A, [1; 32]).await.unwrap();
    s.m.reveal(p1, &job, B, [2; 32]).await.unwrap();
    // No warp to the reveal deadline: the outcome is already fixed, so a dispute opens now.
    s.settle_all().await;
    assert_eq!(s.m.job(&job).await.dispute_name(), "drawing referees");
    // Before the referees' claim deadline nothing settles; nobody claims; then it does.
    let providers: Vec<&Actor> = s.providers.iter().collect();
    assert_error(
        s.m.settle(&s.buyer, &job, &providers).await,
        MarketError::SettleTooEarly,
    );
    s.m.bank.warp(DISPUTE_CLAIM_ROUNDS * TAKE_WINDOW + 1).await;
    s.settle_all().await;
    let state = s.m.job(&job).await;
    assert_eq!(
        (state.state, state.dispute_name()),
        (JobState::Settled, "non-deterministic")
    );
    let outcomes: Vec<_> = state.slots[..3].iter().map(|x| x.outcome).collect();
    assert_eq!(outcomes, [SlotOutcome::Unpaid; 3]);
    for i in 0..3 {
        assert_eq!(s.staked_locked(i).await, (STAKE, 0));
    }
    s.finish(0, FUNDS, 0).await;
}

#[tokio::test]
async fn no_show_that_never_committed_is_slashed_and_the_quorum_paid() {
    let mut s = running_job().await;
    let job = s.job;
    for (i, r) in [A, A].iter().enumerate() {
        let p = &s.providers[i];
        s.m.commit(p, &job, *r, [9; 32]).await.unwrap();
    }
    s.m.bank.warp(WINDOW + 1).await;
    for i in 0..2 {
        let p = &s.providers[i];
        s.m.reveal(p, &job, A, [9; 32]).await.unwrap();
    }
    // Everyone who committed revealed after the execution deadline: nothing can change any
    // more, so the job settles without waiting for the reveal deadline.
    s.settle_all().await;
    for i in 0..2 {
        assert_eq!(s.m.bank.balance(&s.providers[i].token).await, PRICE - FEE);
        assert_eq!(s.staked_locked(i).await, (STAKE, 0));
    }
    assert_eq!(s.staked_locked(2).await, (STAKE - COLLATERAL, 0));
    assert_eq!(s.m.job(&job).await.slots[2].outcome, SlotOutcome::Slashed);
    // The buyer gets the no-show's price back, never its collateral (burned).
    s.finish(2 * FEE, FUNDS - 2 * PRICE, COLLATERAL).await;
}

#[tokio::test]
async fn settle_waits_while_a_commitment_can_still_come() {
    let mut s = running_job().await;
    let job = s.job;
    for i in 0..2 {
        let p = &s.providers[i];
        s.m.commit(p, &job, A, [9; 32]).await.unwrap();
    }
    // Before the execution deadline the third provider may still commit.
    let refs: Vec<&Actor> = s.providers.iter().collect();
    let early = s.m.settle(&s.buyer, &job, &refs).await;
    assert_error(early, MarketError::SettleTooEarly);
    s.m.bank.warp(WINDOW + 1).await;
    // After it, a committed slot may still reveal.
    let early = s.m.settle(&s.buyer, &job, &refs).await;
    assert_error(early, MarketError::SettleTooEarly);
}

#[tokio::test]
async fn committed_but_never_revealed_is_slashed() {
    let mut s = running_job().await;
    let job = s.job;
    for i in 0..3 {
        let p = &s.providers[i];
        s.m.commit(p, &job, A, [i as u8; 32]).await.unwrap();
    }
    for i in 0..2 {
        let p = &s.providers[i];
        s.m.reveal(p, &job, A, [i as u8; 32]).await.unwrap();
    }
    s.m.bank.warp(2 * WINDOW + 1).await;
    s.settle_all().await;
    assert_eq!(s.m.job(&job).await.slots[2].outcome, SlotOutcome::Slashed);
    assert_eq!(s.staked_locked(2).await, (STAKE - COLLATERAL, 0));
    s.finish(2 * FEE, FUNDS - 2 * PRICE, COLLATERAL).await;
}

#[tokio::test]
async fn invalid_job_pays_the_quorum_that_agrees_on_the_canonical_error() {
    // A job whose manifest is invalid still has a result: the canonical error outcome hash,
    // identical on every honest provider. The program treats it like any other agreed hash.
    let invalid_manifest_outcome: [u8; 32] =
        *blake3::hash(b"concord-invalid-manifest-outcome").as_bytes();
    let mut s = running_job().await;
    let (job, refs) = (s.job, s.providers.iter().collect::<Vec<_>>());
    s.m.commit_and_reveal(&job, &refs, &[invalid_manifest_outcome; 3])
        .await;
    s.settle_all().await;
    assert_eq!(
        s.m.job(&job).await.agreed_hash,
        Some(invalid_manifest_outcome)
    );
    for i in 0..3 {
        assert_eq!(s.m.bank.balance(&s.providers[i].token).await, PRICE - FEE);
    }
    s.finish(3 * FEE, FUNDS - 3 * PRICE, 0).await;
}

/// Audit L-4: providers run a job as soon as they hold a slot, so a cancel while open pays
/// each claimed slot its price less the fee (the rest is refunded). At 24b06f0 the buyer could
/// let providers compute and then cancel for free.
#[tokio::test]
async fn cancel_while_open_compensates_the_claimed_slots() {
    let mut m = Market::new().await;
    let p = m.provider(STAKE).await;
    let buyer = m.actor(FUNDS).await;
    let start = m.total_tokens().await;
    let job = m.create_job(&buyer, job_args(3)).await.unwrap();
    m.claim(&p, &job).await.unwrap();
    assert_eq!(m.provider_state(&p).await.locked, COLLATERAL);
    let out = m.cancel(&buyer, &job, &[&p]).await.expect("cancel");
    assert_eq!(out.events::<JobCancelled>()[0].refund, 3 * PRICE - PRICE);
    let compensated = out.events::<SlotCompensated>();
    assert_eq!(compensated.len(), 1);
    assert_eq!(
        (compensated[0].provider_authority, compensated[0].amount),
        (p.key(), PRICE - FEE)
    );
    let state = m.job(&job).await;
    assert_eq!(state.state, JobState::Cancelled);
    assert_eq!(state.slots[0].outcome, SlotOutcome::Compensated);
    let ps = m.provider_state(&p).await;
    assert_eq!(
        (ps.staked, ps.locked, ps.stats.earned),
        (STAKE, 0, PRICE - FEE)
    );
    assert_eq!(m.bank.balance(&p.token).await, PRICE - FEE);
    assert_eq!(m.bank.balance(&buyer.token).await, FUNDS - PRICE);
    assert_eq!(m.bank.balance(&pda::job_vault(&job)).await, FEE);
    check_close(&mut m, &buyer, &job, FEE).await;
    assert_eq!(m.total_tokens().await, start);
    m.assert_conserved().await;
}

#[tokio::test]
async fn cancel_with_no_claim_refunds_everything() {
    let mut m = Market::new().await;
    let buyer = m.actor(FUNDS).await;
    let job = m.create_job(&buyer, job_args(3)).await.unwrap();
    let out = m.cancel(&buyer, &job, &[]).await.expect("cancel");
    assert_eq!(out.events::<JobCancelled>()[0].refund, 3 * PRICE);
    assert_eq!(m.bank.balance(&buyer.token).await, FUNDS);
    check_close(&mut m, &buyer, &job, 0).await;
    m.assert_conserved().await;
}

/// Audit L-4: once every slot is claimed the providers are working; the buyer cannot cancel
/// (at 24b06f0 it could, while nobody had committed). A job nobody commits to ends by
/// `settle` after the execution deadline: no quorum, nobody slashed, the buyer refunded.
#[tokio::test]
async fn a_running_job_cannot_be_cancelled_and_settles_after_the_deadline() {
    let mut s = running_job().await;
    let holders: Vec<&Actor> = s.providers.iter().collect();
    let refused = s.m.cancel(&s.buyer, &s.job, &holders).await;
    assert_error(refused, MarketError::CannotCancel);
    let refs: Vec<&Actor> = s.providers.iter().collect();
    let early = s.m.settle(&s.buyer, &s.job, &refs).await;
    assert_error(early, MarketError::SettleTooEarly);
    s.m.bank.warp(WINDOW + 1).await;
    s.settle_all().await;
    for i in 0..3 {
        assert_eq!(s.staked_locked(i).await, (STAKE, 0));
    }
    s.finish(0, FUNDS, 0).await;
}

#[tokio::test]
async fn unfilled_job_is_refunded_after_the_claim_deadline() {
    let mut m = Market::new().await;
    let (p0, p1) = (m.provider(STAKE).await, m.provider(STAKE).await);
    let buyer = m.actor(FUNDS).await;
    let start = m.total_tokens().await;
    let job = m.create_job(&buyer, job_args(4)).await.unwrap();
    m.claim(&p0, &job).await.unwrap();
    m.claim(&p1, &job).await.unwrap();
    m.bank.warp(WINDOW + 1).await;
    let escrow = m.escrow(&buyer, &job);
    // Anyone may trigger the refund: the payer here is neither buyer nor provider.
    let out = m
        .bank
        .send(&[ix::refund_unfilled(&escrow, &[p0.key(), p1.key()])], &[])
        .await
        .expect("refund");
    assert_eq!(out.events::<JobExpired>()[0].refund, 3 * PRICE);
    assert_eq!(m.job(&job).await.state, JobState::Expired);
    assert_eq!(m.provider_state(&p0).await.locked, 0);
    assert_eq!(m.provider_state(&p1).await.locked, 0);
    assert_eq!(m.bank.balance(&buyer.token).await, FUNDS);
    check_close(&mut m, &buyer, &job, 0).await;
    assert_eq!(m.total_tokens().await, start);
    m.assert_conserved().await;
}

/// The agents' path: each drawn provider runs the job first, then claims and commits in one
/// transaction. The job runs once the last slot fills, reveals open at once (every slot has
/// committed), and it settles paid: one transaction fewer per replica than claim, then commit.
#[tokio::test]
async fn each_replica_claims_and_commits_in_one_transaction() {
    let mut m = Market::new().await;
    let ps = m.providers(3).await;
    let buyer = m.actor(FUNDS).await;
    let job = m.create_job(&buyer, job_args(6)).await.unwrap();
    for (i, p) in ps.iter().enumerate() {
        m.claim_and_commit(p, &job, A, [i as u8 + 1; 32])
            .await
            .expect("claim and commit");
        let state = m.job(&job).await;
        let filled = i + 1;
        assert_eq!(usize::from(state.committed), filled);
        assert_eq!(state.slots[i].status, SlotStatus::Committed);
        let expected = if filled == 3 {
            JobState::Running
        } else {
            JobState::Open
        };
        assert_eq!(state.state, expected, "after {filled} slots");
    }
    for (i, p) in ps.iter().enumerate() {
        m.reveal(p, &job, A, [i as u8 + 1; 32])
            .await
            .expect("reveal without waiting for the deadline");
    }
    let refs: Vec<&Actor> = ps.iter().collect();
    let out = m.settle(&buyer, &job, &refs).await.expect("settle");
    assert_eq!(out.events::<SlotPaid>().len(), 3);
    assert_eq!(out.events::<JobSettled>()[0].agreed_hash, Some(A));
    for p in &ps {
        let s = m.provider_state(p).await;
        assert_eq!(
            (s.staked, s.locked, s.stats.earned),
            (STAKE, 0, PRICE - FEE)
        );
    }
    m.assert_conserved().await;
}

/// A commitment made while the job is still open is never slashed, whatever ends the job:
/// a cancel compensates it like a bare claim, an expiry releases it.
#[tokio::test]
async fn an_early_commitment_is_compensated_or_released_never_slashed() {
    for cancel in [true, false] {
        let mut m = Market::new().await;
        let (p0, p1) = (m.provider(STAKE).await, m.provider(STAKE).await);
        let buyer = m.actor(FUNDS).await;
        let start = m.total_tokens().await;
        let job = m.create_job(&buyer, job_args(7)).await.unwrap();
        m.claim_and_commit(&p0, &job, A, [1; 32]).await.unwrap();
        m.claim(&p1, &job).await.unwrap();
        let state = m.job(&job).await;
        assert_eq!(
            (state.state, state.slots[0].status, state.slots[1].status),
            (JobState::Open, SlotStatus::Committed, SlotStatus::Claimed)
        );
        let (outcome, pay, fees) = if cancel {
            let out = m.cancel(&buyer, &job, &[&p0, &p1]).await.expect("cancel");
            assert_eq!(out.events::<SlotCompensated>().len(), 2);
            (SlotOutcome::Compensated, PRICE - FEE, 2 * FEE)
        } else {
            m.bank.warp(WINDOW + 1).await;
            let escrow = m.escrow(&buyer, &job);
            m.bank
                .send(&[ix::refund_unfilled(&escrow, &[p0.key(), p1.key()])], &[])
                .await
                .expect("refund");
            (SlotOutcome::Released, 0, 0)
        };
        let state = m.job(&job).await;
        assert_eq!(
            (state.slots[0].outcome, state.slots[1].outcome),
            (outcome, outcome)
        );
        for p in [&p0, &p1] {
            let s = m.provider_state(p).await;
            assert_eq!(
                (s.staked, s.locked, s.stats.slashed, s.stats.earned),
                (STAKE, 0, 0, pay),
                "cancel: {cancel}"
            );
        }
        assert_eq!(m.bank.balance(&buyer.token).await, FUNDS - 2 * pay - fees);
        check_close(&mut m, &buyer, &job, fees).await;
        assert_eq!(m.total_tokens().await, start);
        m.assert_conserved().await;
    }
}
