//! Hidden audits in the bank: the audit is armed by the last replica's commit (so no replica
//! knows at commit time), decided by `audit` from a later bank hash, and reveals wait for the
//! auditor's commitment; an auditor catches a unanimous lie (a dispute its referees settle);
//! a job not audited refunds the auditor's reserve; an audit nobody serves is dropped; each
//! refusal with its named error. Exact balances and conservation to the unit.
use anchor_lang::prelude::Pubkey;
use concord_market::errors::MarketError;
use concord_market::events::AuditDecided;
use concord_market::{JobState, MarketParams, SlotOutcome, DISPUTE_CLAIM_ROUNDS};
use concord_tests::bank::{assert_error, TxError};
use concord_tests::ix;
use concord_tests::pda;
use concord_tests::scenario::*;
use solana_sdk::signer::Signer;

const R: [u8; 32] = [0x42; 32];
const X: [u8; 32] = [0x66; 32];
const FEE: u64 = PRICE * FEE_BPS as u64 / 10_000;
const FUNDS: u64 = 100_000_000;

/// A market whose jobs are audited with probability `audit_bps`, three replicas, a buyer, and
/// a running job whose replicas have claimed.
struct Audited {
    m: Market,
    buyer: Actor,
    replicas: Vec<Actor>,
    job: Pubkey,
    start_total: u64,
}

async fn audited_market(audit_bps: u16, extra_providers: usize) -> (Audited, Vec<Actor>) {
    let mut m = Market::new().await;
    let admin = m.admin.insecure_clone();
    let treasury = m.treasury;
    let params = MarketParams {
        audit_bps,
        ..market_params()
    };
    m.bank
        .send(
            &[ix::update_market(&admin.pubkey(), &treasury, params)],
            &[&admin],
        )
        .await
        .unwrap();
    let replicas = vec![
        m.provider(STAKE).await,
        m.provider(STAKE).await,
        m.provider(STAKE).await,
    ];
    let mut extra = Vec::new();
    for _ in 0..extra_providers {
        extra.push(m.provider(STAKE).await);
    }
    let buyer = m.actor(FUNDS).await;
    let start_total = m.total_tokens().await;
    let job = m.running_job(&buyer, &replicas, 1).await;
    (
        Audited {
            m,
            buyer,
            replicas,
            job,
            start_total,
        },
        extra,
    )
}

impl Audited {
    async fn commit_all(&mut self, results: &[[u8; 32]]) {
        for (i, (p, r)) in self.replicas.iter().zip(results).enumerate() {
            self.m
                .commit(p, &self.job, *r, [i as u8 + 1; 32])
                .await
                .unwrap();
        }
    }

    async fn reveal_all(&mut self, results: &[[u8; 32]]) {
        for (i, (p, r)) in self.replicas.iter().zip(results).enumerate() {
            self.m
                .reveal(p, &self.job, *r, [i as u8 + 1; 32])
                .await
                .unwrap();
        }
    }

    async fn audit(&mut self) -> Result<concord_tests::bank::TxOutput, TxError> {
        self.m.bank.send(&[ix::audit(&self.job)], &[]).await
    }

    /// Past the audit's seed slot, then `audit`: returns the decision's name.
    async fn decide(&mut self) -> String {
        let seed = self.m.job(&self.job).await.audit_seed_slot;
        let slot = self.m.bank.clock().await.slot;
        if slot <= seed {
            self.m.bank.advance_slots(seed + 1 - slot).await;
        }
        let out = self.audit().await.expect("audit");
        out.events::<AuditDecided>()[0].decision.clone()
    }
}

#[tokio::test]
async fn reveals_wait_for_the_audit_and_its_auditor() {
    let (mut a, extra) = audited_market(10_000, 1).await;
    let (job, auditor) = (a.job, &extra[0]);
    let replicas: Vec<Actor> = a.replicas.iter().map(Actor::clone_actor).collect();
    // The deposit holds one more price, for an auditor.
    assert_eq!(a.m.bank.balance(&a.buyer.token).await, FUNDS - 4 * PRICE);
    // Nothing to decide before every replica committed.
    assert_error(a.audit().await, MarketError::NoAuditPending);
    for (i, p) in a.replicas[..2].iter().enumerate() {
        a.m.commit(p, &job, R, [i as u8 + 1; 32]).await.unwrap();
    }
    assert_eq!(
        a.m.job(&job).await.audit_seed_slot,
        0,
        "armed only by the last commit"
    );
    a.m.commit(&a.replicas[2], &job, R, [3; 32]).await.unwrap();
    let state = a.m.job(&job).await;
    assert!(state.audit_pending(), "{}", state.audit_name());
    let liar = &replicas[0];
    assert_error(
        a.m.reveal(liar, &job, R, [1; 32]).await,
        MarketError::AuditPending,
    );
    assert_error(a.audit().await, MarketError::DrawNotReady);
    assert_eq!(a.decide().await, "audited");
    let state = a.m.job(&job).await;
    assert_eq!(
        (state.state, state.auditors, state.audit_name()),
        (JobState::Open, 1, "auditor drawn")
    );
    // The buyer cannot cancel or expire its way out of the audit; a replica cannot audit itself.
    let refs: Vec<&Actor> = replicas.iter().collect();
    let buyer = a.buyer.clone_actor();
    assert_error(
        a.m.cancel(&buyer, &job, &refs).await,
        MarketError::AuditPending,
    );
    assert_error(
        a.m.claim_as_drawn(&replicas[1], &job).await,
        MarketError::AlreadyClaimed,
    );
    assert_error(a.audit().await, MarketError::ClaimWindowOpen);
    a.m.claim(auditor, &job).await.expect("auditor claim");
    assert_eq!(a.m.job(&job).await.state, JobState::Running);
    // Reveals open only once the auditor committed: nobody can copy a revealed hash.
    assert_error(
        a.m.reveal(liar, &job, R, [1; 32]).await,
        MarketError::RevealNotOpen,
    );
    a.m.commit(auditor, &job, R, [9; 32]).await.unwrap();
    a.reveal_all(&[R, R, R]).await;
    a.m.reveal(auditor, &job, R, [9; 32]).await.unwrap();
    let mut holders = refs.clone();
    holders.push(auditor);
    a.m.settle(&buyer, &job, &holders).await.expect("settle");
    let state = a.m.job(&job).await;
    assert_eq!(state.agreed_hash, Some(R));
    assert!(state.slots[..4]
        .iter()
        .all(|s| s.outcome == SlotOutcome::Paid));
    assert_eq!(a.m.bank.balance(&auditor.token).await, PRICE - FEE);
    assert_eq!(a.m.bank.balance(&buyer.token).await, FUNDS - 4 * PRICE);
    a.m.close(&buyer, &job).await.unwrap();
    assert_eq!(a.m.total_tokens().await, a.start_total);
    a.m.assert_conserved().await;
}

/// Three colluding replicas commit the same lie; the audit draws an honest auditor whose hash
/// differs, so the job goes to a dispute, and its referees slash all three.
#[tokio::test]
async fn an_auditor_catches_a_unanimous_lie() {
    let (mut a, extra) = audited_market(10_000, 7).await;
    let job = a.job;
    let (auditor, referees) = (&extra[0], &extra[1..]);
    a.commit_all(&[X, X, X]).await;
    assert_eq!(a.decide().await, "audited");
    a.m.claim(auditor, &job).await.expect("auditor claim");
    a.m.commit(auditor, &job, R, [9; 32]).await.unwrap();
    a.reveal_all(&[X, X, X]).await;
    a.m.reveal(auditor, &job, R, [9; 32]).await.unwrap();
    let mut holders: Vec<&Actor> = a.replicas.iter().collect();
    holders.push(auditor);
    let judges: Vec<&Actor> = referees.iter().collect();
    let buyer = a.buyer.clone_actor();
    a.m.dispute(&buyer, &job, &holders, &judges, &[R; 6]).await;
    let state = a.m.job(&job).await;
    use SlotOutcome::*;
    let outcomes: Vec<_> = state.slots[..10].iter().map(|s| s.outcome).collect();
    assert_eq!(
        outcomes,
        [Slashed, Slashed, Slashed, Paid, Paid, Paid, Paid, Paid, Paid, Paid]
    );
    assert_eq!(state.agreed_hash, Some(R));
    // The auditor is paid as a replica; the referees out of the three collaterals (at most
    // the deposit, with its audit reserve, over six each).
    assert_eq!(a.m.bank.balance(&auditor.token).await, PRICE - FEE);
    let pay = (PRICE - FEE).min(3 * COLLATERAL / 6).min(4 * PRICE / 6);
    for r in referees {
        assert_eq!(a.m.bank.balance(&r.token).await, pay);
    }
    let burn = 3 * COLLATERAL - 6 * pay;
    assert_eq!(state.burn_due, burn);
    // The buyer paid for one verified replica: the auditor's.
    assert_eq!(a.m.bank.balance(&buyer.token).await, FUNDS - PRICE);
    a.m.close(&buyer, &job).await.unwrap();
    assert_eq!(a.m.total_tokens().await, a.start_total - burn);
    a.m.assert_conserved().await;
}

/// A job the roll does not audit: reveals open at once and the auditor's reserve goes back.
#[tokio::test]
async fn a_job_not_audited_refunds_the_reserve() {
    let (mut a, _) = audited_market(1, 0).await;
    let job = a.job;
    a.commit_all(&[R, R, R]).await;
    assert_eq!(a.decide().await, "not_audited");
    assert_error(a.audit().await, MarketError::NoAuditPending);
    a.reveal_all(&[R, R, R]).await;
    let refs: Vec<&Actor> = a.replicas.iter().collect();
    let buyer = a.buyer.clone_actor();
    a.m.settle(&buyer, &job, &refs).await.unwrap();
    assert_eq!(a.m.job(&job).await.audit_name(), "none drawn");
    assert_eq!(a.m.bank.balance(&buyer.token).await, FUNDS - 3 * PRICE);
    a.m.close(&buyer, &job).await.unwrap();
    a.m.assert_conserved().await;
}

/// An audit nobody can serve (no provider besides the replicas): after its claim deadline
/// `audit` drops it, reveals open with a fresh window, and the job settles as if unaudited.
#[tokio::test]
async fn an_audit_nobody_serves_is_dropped() {
    let (mut a, _) = audited_market(10_000, 0).await;
    let job = a.job;
    a.commit_all(&[R, R, R]).await;
    assert_eq!(a.decide().await, "audited");
    let buyer = a.buyer.clone_actor();
    let escrow = a.m.escrow(&buyer, &job);
    a.m.bank.warp(DISPUTE_CLAIM_ROUNDS * TAKE_WINDOW + 1).await;
    let holders: Vec<Pubkey> = a.replicas.iter().map(|p| p.key()).collect();
    assert_error(
        a.m.bank
            .send(&[ix::refund_unfilled(&escrow, &holders)], &[])
            .await,
        MarketError::AuditPending,
    );
    assert_eq!(
        a.audit().await.unwrap().events::<AuditDecided>()[0].decision,
        "dropped"
    );
    let state = a.m.job(&job).await;
    assert_eq!((state.state, state.auditors), (JobState::Running, 0));
    a.reveal_all(&[R, R, R]).await;
    let refs: Vec<&Actor> = a.replicas.iter().collect();
    a.m.settle(&buyer, &job, &refs).await.unwrap();
    assert_eq!(a.m.bank.balance(&buyer.token).await, FUNDS - 3 * PRICE);
    assert_eq!(a.m.bank.balance(&pda::job_vault(&job)).await, 3 * FEE);
    a.m.assert_conserved().await;
}

/// Three colluding replicas commit the same lie, and the audit draws an honest auditor. Seeing
/// it, they withhold their reveals: with no quorum they used to lose nothing but their pay (and
/// a liar could lie whenever it held every replica, risk-free). A commitment never revealed is
/// slashed whatever the outcome: the provider ran the job (or chose not to) and could always
/// reveal it. The lone auditor is unpaid (no quorum); the buyer is refunded.
#[tokio::test]
async fn an_audited_liar_cannot_withhold_its_reveal_to_escape() {
    let (mut a, extra) = audited_market(10_000, 1).await;
    let (job, auditor) = (a.job, &extra[0]);
    a.commit_all(&[X, X, X]).await;
    assert_eq!(a.decide().await, "audited");
    a.m.claim(auditor, &job).await.expect("auditor claim");
    a.m.commit(auditor, &job, R, [9; 32]).await.unwrap();
    a.m.reveal(auditor, &job, R, [9; 32]).await.unwrap();
    let mut holders: Vec<&Actor> = a.replicas.iter().collect();
    holders.push(auditor);
    let buyer = a.buyer.clone_actor();
    assert_error(
        a.m.settle(&buyer, &job, &holders).await,
        MarketError::SettleTooEarly,
    );
    let state = a.m.job(&job).await;
    let now = a.m.bank.now().await;
    a.m.bank.warp(state.reveal_deadline - now + 1).await;
    a.m.settle(&buyer, &job, &holders).await.expect("settle");
    let state = a.m.job(&job).await;
    use SlotOutcome::*;
    let outcomes: Vec<_> = state.slots[..4].iter().map(|s| s.outcome).collect();
    assert_eq!(outcomes, [Slashed, Slashed, Slashed, Unpaid]);
    assert_eq!(state.agreed_hash, None);
    assert_eq!(state.burn_due, 3 * COLLATERAL);
    for p in &a.replicas {
        assert_eq!(a.m.provider_state(p).await.staked, STAKE - COLLATERAL);
    }
    assert_eq!(a.m.provider_state(auditor).await.staked, STAKE);
    assert_eq!(a.m.bank.balance(&buyer.token).await, FUNDS);
    a.m.close(&buyer, &job).await.unwrap();
    assert_eq!(a.m.total_tokens().await, a.start_total - 3 * COLLATERAL);
    a.m.assert_conserved().await;
}
