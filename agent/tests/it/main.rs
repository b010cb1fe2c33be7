//! End-to-end tests of the provider agent: real `concord-agent` processes (each running jobs
//! on this machine's wgpu adapter in its own worker) against a real local chain, with the
//! buyer's job published to a real directory store. Each scenario has a chain of its own; one
//! scenario runs at a time.
//!
//! (a) three honest agents are paid and the output verifies against the CPU reference;
//! (b) a corrupting agent is slashed and the honest ones paid;
//! (c) an agent stopped (SIGTERM) after its claim and commitment, before it reveals, is slashed as a no-show;
//! (d) an agent killed with SIGKILL after committing is restarted, reveals and is paid;
//! (e) with 30 % of RPC sends failing the job still settles;
//! (f) an invalid job: every agent commits the canonical error and is paid by quorum;
//! (g) a five-replica job (the most the market allows) settles;
//! (l) no quorum (an honest agent, a liar, a provider that never shows): nobody is slashed, the
//!     buyer is refunded, and the honest agent publishes no outputs (it was not paid);
//! (m) a kernel that cannot finish within any gas budget the market allows: every agent
//!     commits the canonical out-of-budget outcome, the quorum is paid, nobody loses stake.
//! (o) every agent's PubSub connection is cut mid-job: each resubscribes, the job settles.
//! (p) a buyer embeds sentences with `concord embed` (all-MiniLM-L6-v2): the job settles by
//!     quorum, the `.npy` is the CPU reference's bits and within 0.999 cosine of candle's BERT;
//!     a second file reuses the weights the providers cached.
mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use concord_compute::kernels;
use concord_protocol::{BlobRef, Hash32};
use concord_sdk::chain::{SlotOutcome, SlotStatus};
use solana_sdk::signer::Signer;
use support::{all_logs, assert_outcome, AgentProcess, Scenario, COLLATERAL, PRICE};

const SETTLE_LIMIT: Duration = Duration::from_secs(240);

fn gemm() -> kernels::KernelCase {
    kernels::find_by_name("gemm_u32").expect("library kernel")
}

async fn http_get(url: &str) -> (u16, String) {
    use http_body_util::{BodyExt, Empty};
    let client: hyper_util::client::legacy::Client<_, Empty<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let response = client.get(url.parse().unwrap()).await.expect("GET");
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_honest_agents_are_paid_and_the_output_verifies() {
    let s = Scenario::start("honest").await;
    let port = concord_localnet::free_port();
    let mut a1 = s
        .agent(
            "honest-1",
            None,
            &format!("metrics_addr = \"127.0.0.1:{port}\""),
        )
        .await;
    let mut a2 = s.agent("honest-2", None, "").await;
    let mut a3 = s.agent("honest-3", None, "").await;
    for a in [&mut a1, &mut a2, &mut a3] {
        a.start();
    }
    let case = gemm();
    let job = s.submit(&case.job, 3, 2, 120, 120).await;
    let settled = s.wait_settled(&job, SETTLE_LIMIT).await;
    let logs = all_logs(&[&a1, &a2, &a3]);
    for a in [&a1, &a2, &a3] {
        assert_outcome(&settled, &a.pubkey(), SlotOutcome::Paid, &logs);
        let p = s.chain.provider(&a.pubkey()).await.unwrap();
        assert_eq!(p.stats.earned, PRICE - settled.fee_per_replica);
        assert_eq!(p.locked, 0, "collateral unlocked");
    }
    // The agreed result is the CPU reference's, and the uploaded outputs verify against it.
    let reference = case.cpu_reference();
    let agreed = Hash32(settled.agreed_hash.expect("a quorum"));
    assert_eq!(agreed, concord_protocol::result_hash(&reference));
    let manifest = concord_sdk::results::fetch_manifest(&s.store, &Hash32(settled.manifest_hash))
        .await
        .unwrap();
    let mut outputs = None;
    for _ in 0..40 {
        // Outputs are uploaded once each agent sees its slot paid; give them a moment.
        if let Ok(o) = concord_sdk::results::fetch_outputs(&s.store, &agreed, &manifest).await {
            outputs = Some(o);
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(outputs.expect("outputs uploaded"), reference);
    // Metrics and health of a running agent (it notices the settlement within a second).
    let mut metrics = String::new();
    for _ in 0..40 {
        let (code, text) = http_get(&format!("http://127.0.0.1:{port}/metrics")).await;
        assert_eq!(code, 200);
        metrics = text;
        if metrics.contains("concord_agent_jobs_paid_total 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        metrics.contains("concord_agent_jobs_paid_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("concord_agent_jobs_committed_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "concord_agent_earned_units_total {}",
            PRICE - settled.fee_per_replica
        )),
        "{metrics}"
    );
    let (code, health) = http_get(&format!("http://127.0.0.1:{port}/health")).await;
    assert_eq!(code, 200, "{health}");
    assert!(health.contains("\"ok\""), "{health}");
    // Stopped gracefully, its journal records the end.
    assert_eq!(
        a1.sigterm(Duration::from_secs(60)),
        Some(0),
        "{}",
        a1.logs()
    );
    let journal = a1.journal();
    let entry = journal
        .iter()
        .find(|e| e["job"] == job.to_string())
        .expect("journal entry");
    assert_eq!(entry["stage"], "finished");
    assert_eq!(entry["outcome"], "paid");
}

/// Two honest agents and one that corrupts its results, started.
async fn two_honest_and_a_liar(s: &Scenario) -> [AgentProcess; 3] {
    let mut h1 = s.agent("honest-1", None, "").await;
    let mut h2 = s.agent("honest-2", None, "").await;
    let mut liar = s
        .agent("liar", None, "[chaos]\ncorrupt_results = true")
        .await;
    for a in [&mut h1, &mut h2, &mut liar] {
        a.start();
    }
    [h1, h2, liar]
}

/// (b), and (i) of the disputes: a corrupting agent among three replicas reveals another hash,
/// so `settle` opens a dispute; six more agents, started once the job runs (so the draw can
/// only give them the dispute), are drawn as referees, re-run the job and agree with the
/// honest two. The liar is slashed, the honest and the referees are paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b_a_corrupting_agent_is_outvoted_by_referees_and_slashed() {
    let s = Scenario::start("liar").await;
    let [h1, h2, liar] = two_honest_and_a_liar(&s).await;
    let case = gemm();
    let job = s.submit(&case.job, 3, 2, 120, 120).await;
    let referees = s.late_agents_once_running(&job, &[""; 6]).await;
    let settled = s.wait_settled(&job, SETTLE_LIMIT).await;
    let mut all: Vec<&AgentProcess> = vec![&h1, &h2, &liar];
    all.extend(referees.iter());
    let logs = all_logs(&all);
    assert_eq!(settled.dispute_name(), "verdict", "{logs}");
    assert_outcome(&settled, &h1.pubkey(), SlotOutcome::Paid, &logs);
    assert_outcome(&settled, &h2.pubkey(), SlotOutcome::Paid, &logs);
    assert_outcome(&settled, &liar.pubkey(), SlotOutcome::Slashed, &logs);
    for r in &referees {
        assert_outcome(&settled, &r.pubkey(), SlotOutcome::Paid, &logs);
    }
    assert_eq!(
        settled.agreed_hash.map(Hash32),
        Some(concord_protocol::result_hash(&case.cpu_reference()))
    );
    let p = s.chain.provider(&liar.pubkey()).await.unwrap();
    assert_eq!(p.stats.slashed, COLLATERAL);
    assert_eq!(p.staked, 10 * support::TOKEN - COLLATERAL);
    // Each referee is paid out of the liar's collateral: an equal share, at most price − fee
    // and the deposit over six.
    let pay = (PRICE - settled.fee_per_replica)
        .min(COLLATERAL / 6)
        .min(3 * PRICE / 6);
    for r in &referees {
        assert_eq!(
            s.chain.provider(&r.pubkey()).await.unwrap().stats.earned,
            pay
        );
    }
}

/// (j) Referees split: a liar among the replicas opens a dispute, and of the six referees two
/// corrupt their results with different masks, so the referees do not all agree. The job ends
/// non-deterministic: nobody is paid or slashed, and the buyer gets its deposit back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn j_referees_split_and_the_job_ends_non_deterministic() {
    let s = Scenario::start("split").await;
    let [h1, h2, liar] = two_honest_and_a_liar(&s).await;
    let funds_before = s.buyer_funds().await;
    let job = s.submit(&gemm().job, 3, 2, 120, 120).await;
    let referees = s
        .late_agents_once_running(
            &job,
            &[
                "",
                "[chaos]\ncorrupt_results = true\ncorrupt_mask = 2",
                "[chaos]\ncorrupt_results = true\ncorrupt_mask = 4",
                "",
                "",
                "",
            ],
        )
        .await;
    let settled = s.wait_settled(&job, SETTLE_LIMIT).await;
    let mut all: Vec<&AgentProcess> = vec![&h1, &h2, &liar];
    all.extend(referees.iter());
    let logs = all_logs(&all);
    assert_eq!(settled.dispute_name(), "non-deterministic", "{logs}");
    assert_eq!(settled.agreed_hash, None, "{logs}");
    for a in &all {
        assert_outcome(&settled, &a.pubkey(), SlotOutcome::Unpaid, &logs);
        let p = s.chain.provider(&a.pubkey()).await.unwrap();
        assert_eq!(
            (p.stats.slashed, p.locked),
            (0, 0),
            "nobody slashed, all unlocked"
        );
    }
    let funds_after = s.buyer_funds().await;
    assert_eq!(
        funds_after, funds_before,
        "the buyer got its whole deposit back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_an_agent_stopped_before_revealing_is_slashed_as_a_no_show() {
    let s = Scenario::start("no-show").await;
    let mut quitter = s.agent("quitter", None, "").await;
    quitter.start();
    let case = gemm();
    let job = s.submit(&case.job, 3, 2, 20, 20).await;
    let me = quitter.pubkey();
    s.wait_for(&job, Duration::from_secs(120), "the quitter's claim", |j| {
        j.slots.iter().any(|slot| slot.provider == me)
    })
    .await;
    // Stopped while the job waits for its other slots: it ran the job and committed with its
    // claim, and its commitment is never revealed.
    let code = quitter.sigterm(Duration::from_secs(90));
    assert_eq!(code, Some(0), "graceful exit:\n{}", quitter.logs());
    assert!(
        quitter.logs().contains("shutting down"),
        "{}",
        quitter.logs()
    );
    let mut h1 = s.agent("honest-1", None, "").await;
    let mut h2 = s.agent("honest-2", None, "").await;
    h1.start();
    h2.start();
    let settled = s.wait_settled(&job, SETTLE_LIMIT).await;
    let logs = all_logs(&[&quitter, &h1, &h2]);
    assert_outcome(&settled, &me, SlotOutcome::Slashed, &logs);
    assert_outcome(&settled, &h1.pubkey(), SlotOutcome::Paid, &logs);
    assert_outcome(&settled, &h2.pubkey(), SlotOutcome::Paid, &logs);
    assert_eq!(
        s.chain.provider(&me).await.unwrap().stats.slashed,
        COLLATERAL
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d_an_agent_killed_after_committing_restarts_reveals_and_is_paid() {
    let s = Scenario::start("sigkill").await;
    let mut victim = s.agent("victim", None, "").await;
    let mut other = s.agent("other", None, "").await;
    let silent = s.silent_provider().await;
    victim.start();
    other.start();
    let case = gemm();
    let job = s.submit(&case.job, 3, 2, 25, 40).await;
    s.wait_for(&job, Duration::from_secs(120), "two claims", |j| {
        j.filled == 2
    })
    .await;
    // The third slot is held by a provider that never commits, so reveals open only at the
    // execution deadline: the victim is certainly between its commit and its reveal.
    s.silent_claim(&silent, &job, Duration::from_secs(60)).await;
    let me = silent.pubkey();
    let v = victim.pubkey();
    let committed = s
        .wait_for(
            &job,
            Duration::from_secs(120),
            "the victim's commitment",
            |j| {
                j.slots
                    .iter()
                    .any(|slot| slot.provider == v && slot.status == SlotStatus::Committed)
            },
        )
        .await;
    victim.sigkill();
    assert_eq!(committed.revealed, 0);
    victim.start();
    let settled = s.wait_settled(&job, SETTLE_LIMIT).await;
    let logs = all_logs(&[&victim, &other]);
    assert_outcome(&settled, &v, SlotOutcome::Paid, &logs);
    assert_outcome(&settled, &other.pubkey(), SlotOutcome::Paid, &logs);
    assert_outcome(&settled, &me, SlotOutcome::Slashed, &logs);
    assert!(victim.logs().contains("resuming"), "{}", victim.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_the_job_settles_with_30_percent_of_rpc_sends_failing() {
    let s = Scenario::start("flaky").await;
    let (proxy, stats) = support::flaky_proxy::start(&s.rpc_url, 30).await;
    let mut agents = Vec::new();
    for name in ["flaky-1", "flaky-2", "flaky-3"] {
        agents.push(s.agent(name, Some(&proxy), "").await);
    }
    for a in agents.iter_mut() {
        a.start();
    }
    let case = gemm();
    let job = s.submit(&case.job, 3, 2, 120, 120).await;
    let settled = s.wait_settled(&job, SETTLE_LIMIT).await;
    let logs = all_logs(&agents.iter().collect::<Vec<_>>());
    for a in &agents {
        assert_outcome(&settled, &a.pubkey(), SlotOutcome::Paid, &logs);
    }
    let sends = stats.sends.load(Ordering::Relaxed);
    let failed = stats.dropped.load(Ordering::Relaxed) + stats.answers_lost.load(Ordering::Relaxed);
    assert!(
        failed > 0 && sends >= 12,
        "{failed} of {sends} sends failed"
    );
    eprintln!("flaky proxy: {failed} of {sends} sendTransaction calls failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn f_an_invalid_job_settles_on_the_canonical_error() {
    let s = Scenario::start("invalid").await;
    let mut agents = Vec::new();
    for name in ["judge-1", "judge-2", "judge-3"] {
        agents.push(s.agent(name, None, "").await);
    }
    for a in agents.iter_mut() {
        a.start();
    }
    // The library job with a module that does not type-check.
    let mut job = gemm().job;
    let broken = "@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }".to_string();
    let module = BlobRef {
        hash: Hash32::of(broken.as_bytes()),
        size: broken.len() as u64,
    };
    for pass in &mut job.manifest.passes {
        pass.module = module;
    }
    job.modules.clear();
    job.modules.insert(module.hash, broken);
    let expected = match concord_compute::wgsl::check_job(&job, &job.manifest.limits()) {
        Err(invalid) => invalid.outcome().hash(),
        Ok(_) => panic!("the broken module passed the checks"),
    };
    let address = s.submit(&job, 3, 2, 120, 120).await;
    let settled = s.wait_settled(&address, SETTLE_LIMIT).await;
    let logs = all_logs(&agents.iter().collect::<Vec<_>>());
    assert_eq!(settled.agreed_hash.map(Hash32), Some(expected), "{logs}");
    for a in &agents {
        assert_outcome(&settled, &a.pubkey(), SlotOutcome::Paid, &logs);
    }
    assert!(logs.contains("the job is invalid"), "{logs}");
}

/// The largest job the market allows (five replicas): its settle transaction (three accounts
/// per slot) must still fit, with the payout accounts created in a transaction of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g_a_five_replica_job_settles() {
    let s = Scenario::start("five").await;
    let mut agents = Vec::new();
    for i in 1..=5 {
        agents.push(s.agent(&format!("replica-{i}"), None, "").await);
    }
    for a in agents.iter_mut() {
        a.start();
    }
    let job = s.submit(&gemm().job, 5, 3, 120, 120).await;
    let settled = s.wait_settled(&job, SETTLE_LIMIT).await;
    let logs = all_logs(&agents.iter().collect::<Vec<_>>());
    for a in &agents {
        assert_outcome(&settled, &a.pubkey(), SlotOutcome::Paid, &logs);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l_without_a_quorum_nobody_is_slashed_and_no_outputs_are_published() {
    let s = Scenario::start("no-quorum").await;
    let mut honest = s.agent("honest", None, "").await;
    let mut liar = s
        .agent("liar", None, "[chaos]\ncorrupt_results = true")
        .await;
    let silent = s.silent_provider().await;
    honest.start();
    liar.start();
    let case = gemm();
    let funds_before = s.buyer_funds().await;
    let job = s.submit(&case.job, 3, 2, 20, 60).await;
    s.wait_for(&job, Duration::from_secs(120), "two claims", |j| {
        j.filled == 2
    })
    .await;
    s.silent_claim(&silent, &job, Duration::from_secs(60)).await;
    let silent = silent.pubkey();
    // Honest and liar disagree and the third never commits: a dispute, but no provider is
    // left to referee it, so its referee slots do not fill and the job ends non-deterministic
    // (nobody slashed) once the dispute's claim window closes.
    let settled = s.wait_settled(&job, SETTLE_LIMIT).await;
    let logs = all_logs(&[&honest, &liar]);
    assert_eq!(settled.agreed_hash, None, "{logs}");
    for who in [honest.pubkey(), liar.pubkey(), silent] {
        assert_outcome(&settled, &who, SlotOutcome::Unpaid, &logs);
        let p = s.chain.provider(&who).await.unwrap();
        assert_eq!(
            (p.stats.slashed, p.locked),
            (0, 0),
            "nobody slashed, all unlocked"
        );
    }
    // The buyer got its whole deposit back.
    let funds_after = s.buyer_funds().await;
    assert_eq!(funds_after, funds_before);
    // The honest agent records the end, and its correct outputs never reach the buyer's store.
    for _ in 0..40 {
        if honest.logs().contains("job finished") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        honest.logs().contains("outcome=\"unpaid\"") || honest.logs().contains("outcome=unpaid"),
        "{}",
        honest.logs()
    );
    let manifest = concord_sdk::results::fetch_manifest(&s.store, &Hash32(settled.manifest_hash))
        .await
        .unwrap();
    let correct = concord_protocol::result_hash(&case.cpu_reference());
    assert!(
        concord_sdk::results::fetch_outputs(&s.store, &correct, &manifest)
            .await
            .is_err(),
        "an unpaid provider published its outputs"
    );
    assert!(
        !honest.logs().contains("uploaded the outputs"),
        "{}",
        honest.logs()
    );
}

/// Audit H-1 with metering: at 24b06f0 a kernel built to outrun the wall-clock limit made
/// every provider a no-show and the buyer pocketed their collateral.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m_a_kernel_beyond_any_budget_ends_out_of_budget_and_the_quorum_is_paid() {
    let s = Scenario::start("out-of-budget").await;
    let mut agents = Vec::new();
    for name in ["metered-1", "metered-2", "metered-3"] {
        agents.push(s.agent(name, None, "").await);
    }
    for a in agents.iter_mut() {
        a.start();
    }
    // A billion rounds per invocation, at the largest budget a manifest may ask for.
    let spin = kernels::spin::Spin::beyond_any_budget();
    let expected = concord_protocol::error_outcome_hash(concord_protocol::ErrorCode::OutOfBudget);
    assert_eq!(
        spin.reference().outcome.hash(),
        expected,
        "the CPU reference agrees"
    );
    let address = s.submit(&spin.job(), 3, 2, 120, 120).await;
    let settled = s.wait_settled(&address, SETTLE_LIMIT).await;
    let logs = all_logs(&agents.iter().collect::<Vec<_>>());
    assert_eq!(settled.agreed_hash.map(Hash32), Some(expected), "{logs}");
    for a in &agents {
        assert_outcome(&settled, &a.pubkey(), SlotOutcome::Paid, &logs);
        let p = s.chain.provider(&a.pubkey()).await.unwrap();
        assert_eq!(p.stats.slashed, 0, "no provider loses stake");
        assert_eq!(p.staked, 10 * support::TOKEN);
        assert_eq!(p.stats.earned, PRICE - settled.fee_per_replica);
    }
    assert!(logs.contains("the job is invalid"), "{logs}");
}

/// (h) The attack of the issue, end to end: the buyer's two Sybil identities (a fifth of the
/// stake) try to claim its job at once and keep trying, then lie together. At 01ce43d they took
/// two slots first and the quorum with them. Now only the draw can give them slots: every claim
/// they send undrawn is refused (`NotDrawn`), the honest agents take what the draw gave them,
/// and a Sybil's lie opens a dispute whose referees (three more agents, started once the job
/// runs) outvote it: even when the draw gave the Sybils two slots, their hash loses and they
/// are slashed (six late agents: a dispute draws six referees).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h_a_sybil_buyer_takes_only_what_the_draw_gives_it() {
    let s = Scenario::start("sybil").await;
    let sybils = [
        s.silent_provider_staking(4 * support::TOKEN).await,
        s.silent_provider_staking(4 * support::TOKEN).await,
    ];
    // A market that has been running: everyone's stake counts in the draw.
    let agents = s
        .agents_in_draws("honest", 3, &[&sybils[0], &sybils[1]])
        .await;
    let case = gemm();
    let job = s.submit(&case.job, 3, 2, 120, 120).await;
    let lie = [0x66u8; 32];
    let (held, refusals) = s.sybils_attack(&sybils, &job, lie).await;
    let referees = s.late_agents_once_running(&job, &[""; 6]).await;
    let settled = s.wait_settled(&job, SETTLE_LIMIT).await;
    let logs = all_logs(&agents.iter().chain(&referees).collect::<Vec<_>>());
    let honest_hash = concord_protocol::result_hash(&case.cpu_reference());
    let holders: Vec<_> = settled.slots[..3]
        .iter()
        .map(|slot| slot.provider)
        .collect();
    let sybil_slots = sybils
        .iter()
        .filter(|k| holders.contains(&k.pubkey()))
        .count();
    assert_eq!(sybil_slots, held.len(), "{logs}");
    for (k, refused) in sybils.iter().zip(&refusals) {
        if !held.contains(&k.pubkey()) {
            assert!(
                *refused > 0,
                "the undrawn Sybil's claims were refused by the draw"
            );
        }
    }
    assert_eq!(settled.agreed_hash.map(Hash32), Some(honest_hash), "{logs}");
    for k in &held {
        assert_outcome(&settled, k, SlotOutcome::Slashed, &logs);
        assert_eq!(s.chain.provider(k).await.unwrap().stats.slashed, COLLATERAL);
    }
    for a in agents.iter().filter(|a| holders.contains(&a.pubkey())) {
        assert_outcome(&settled, &a.pubkey(), SlotOutcome::Paid, &logs);
    }
    println!(
        "(h) Sybil slots {sybil_slots} of 3, claims refused by the draw {refusals:?}, draw round {}, dispute: {}",
        settled.draw_round,
        settled.dispute_name()
    );
}

/// (k) A provider with most of the stake joins the draws and never claims: the round that draws
/// it stalls for one take window, an agent begins a new round, the slot goes to another drawn
/// provider, and the job settles with the three agents paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k_a_drawn_provider_that_is_offline_is_replaced() {
    let s = Scenario::start("offline").await;
    let offline = s.silent_provider_staking(100 * support::TOKEN).await;
    let agents = s.agents_in_draws("online", 3, &[&offline]).await;
    let job = s.submit(&gemm().job, 3, 2, 120, 120).await;
    // Round 0 as drawn (with most of the stake, the offline provider is in it but for a
    // chance of about 0.4 %).
    let draw_set = s.chain.market_config().await.unwrap().draw_set;
    let first_round = loop {
        let state = s.chain.job(&job).await.unwrap();
        let view = s
            .chain
            .draw_view(&draw_set, &offline.pubkey())
            .await
            .unwrap();
        match view.turn(&job, &state) {
            concord_sdk::chain::Turn::Wait => tokio::time::sleep(Duration::from_millis(200)).await,
            _ => break (state.draw_round, view.drawn(&job, &state)),
        }
    };
    let settled = s.wait_settled(&job, SETTLE_LIMIT).await;
    let logs = all_logs(&agents.iter().collect::<Vec<_>>());
    for a in &agents {
        assert_outcome(&settled, &a.pubkey(), SlotOutcome::Paid, &logs);
    }
    assert!(settled.slot_index_of(&offline.pubkey()).is_none());
    if first_round.1.contains(&offline.pubkey()) {
        assert!(
            settled.draw_round > first_round.0,
            "a new round replaced the offline provider\n{logs}"
        );
        assert!(logs.contains("began a new draw round"), "{logs}");
    }
    println!(
        "(k) round {} drew {:?}; settled in round {}",
        first_round.0, first_round.1, settled.draw_round
    );
}

/// (n) Hidden audits, end to end: in a market that audits every job, the last replica's commit
/// arms the audit, an agent sends `audit` once its seed slot is produced, an agent started
/// once the job runs (too late to be a replica) is drawn as the auditor, and reveals wait for
/// its commitment. All four agree: all four are paid, the buyer paid four prices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_an_audited_job_waits_for_its_auditor_and_pays_it() {
    let s = Scenario::start("audit").await;
    s.set_audit_bps(10_000).await;
    let mut replicas = Vec::new();
    for name in ["replica-1", "replica-2", "replica-3"] {
        replicas.push(s.agent(name, None, "").await);
    }
    for a in replicas.iter_mut() {
        a.start();
    }
    let funds_before = s.buyer_funds().await;
    let case = gemm();
    let job = s.submit(&case.job, 3, 2, 120, 120).await;
    let auditor = s.late_agents_once_running(&job, &[""]).await;
    let settled = s.wait_settled(&job, SETTLE_LIMIT).await;
    let logs = all_logs(&replicas.iter().chain(&auditor).collect::<Vec<_>>());
    assert_eq!(
        (settled.auditors, settled.audit_name()),
        (1, "auditor drawn"),
        "{logs}"
    );
    assert_eq!(settled.slots[3].provider, auditor[0].pubkey(), "{logs}");
    for a in replicas.iter().chain(&auditor) {
        assert_outcome(&settled, &a.pubkey(), SlotOutcome::Paid, &logs);
    }
    assert_eq!(
        settled.agreed_hash.map(Hash32),
        Some(concord_protocol::result_hash(&case.cpu_reference()))
    );
    let funds_after = s.buyer_funds().await;
    assert_eq!(
        funds_before - funds_after,
        4 * PRICE,
        "four replicas paid for"
    );
}

/// A counter's value in a Prometheus text exposition (0 when absent).
fn counter(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// (o) Job and signature notifications survive a dropped connection: three agents subscribe
/// through a hop that cuts every PubSub connection once the job runs; each agent falls back to
/// polling, resubscribes, and the job settles with all three paid, the changes after the cut
/// arriving on the new subscriptions, and the reveals' confirmations on a reopened signature
/// connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o_agents_resubscribe_after_their_pubsub_connection_drops() {
    let s = Scenario::start("pubsub").await;
    let proxy = support::cutting_proxy::start(&s.pubsub_url).await;
    let port = concord_localnet::free_port();
    let mut agents = Vec::new();
    for (i, name) in ["sub-1", "sub-2", "sub-3"].into_iter().enumerate() {
        let mut extra = format!("pubsub_url = \"{}\"\n", proxy.url);
        if i == 0 {
            extra.push_str(&format!("metrics_addr = \"127.0.0.1:{port}\"\n"));
        }
        agents.push(s.agent(name, None, &extra).await);
    }
    for a in agents.iter_mut() {
        a.start();
    }
    let keys: Vec<_> = agents.iter().map(|a| a.pubkey()).collect();
    s.wait_in_draws(&keys).await;
    let metrics = || async {
        http_get(&format!("http://127.0.0.1:{port}/metrics"))
            .await
            .1
    };
    for _ in 0..120 {
        if proxy.accepted() >= 3
            && counter(&metrics().await, "concord_agent_job_subscriptions_total") >= 1
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(proxy.accepted() >= 3, "a job subscription per agent");
    let job = s.submit(&gemm().job, 3, 2, 120, 120).await;
    s.wait_for(&job, SETTLE_LIMIT, "three claims", |j| j.filled == 3)
        .await;
    let before = metrics().await;
    let seen_before_cut = counter(&before, "concord_agent_job_notifications_total");
    assert!(
        seen_before_cut > 0,
        "the job's creation and claims were notified"
    );
    // Each agent's claims were confirmed by notification, on one more connection of its own.
    assert_eq!(
        counter(&before, "concord_agent_signature_connections_total"),
        1,
        "{before}"
    );
    assert!(
        counter(&before, "concord_agent_signature_notifications_total") >= 1,
        "{before}"
    );
    assert_eq!(proxy.accepted(), 6, "two connections per agent");
    proxy.cut();
    // Once the first agent has resubscribed (well before the job's commits, reveals and
    // settlement, which take several confirmations), count what it has seen so far.
    let mut seen_when_resubscribed = None;
    for _ in 0..120 {
        let m = metrics().await;
        if counter(&m, "concord_agent_job_subscriptions_total") >= 2 {
            seen_when_resubscribed = Some(counter(&m, "concord_agent_job_notifications_total"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let seen_when_resubscribed = seen_when_resubscribed.expect("sub-1 resubscribed within 30 s");
    let settled = s.wait_settled(&job, SETTLE_LIMIT).await;
    let logs = all_logs(&agents.iter().collect::<Vec<_>>());
    for a in &agents {
        assert_outcome(&settled, &a.pubkey(), SlotOutcome::Paid, &logs);
        assert!(
            a.logs().contains("job notifications down")
                && a.logs().contains("resubscribed to job notifications"),
            "{} did not resubscribe:\n{}",
            a.name,
            a.logs()
        );
    }
    assert!(
        proxy.accepted() >= 9,
        "each agent resubscribed: {}",
        proxy.accepted()
    );
    let after = metrics().await;
    assert!(
        counter(&after, "concord_agent_job_subscription_drops_total") >= 1,
        "{after}"
    );
    assert!(
        counter(&after, "concord_agent_job_subscriptions_total") >= 2,
        "{after}"
    );
    // The job's later changes (settlement at least) arrived on the new subscription.
    assert!(
        counter(&after, "concord_agent_job_notifications_total") > seen_when_resubscribed,
        "{after}"
    );
    // A second job: every agent's claim finds its signature connection dead, reopens it at
    // once, and is confirmed by notification on the new one.
    let job = s.submit(&gemm().job, 3, 2, 120, 120).await;
    let settled = s.wait_settled(&job, SETTLE_LIMIT).await;
    for a in &agents {
        assert_outcome(&settled, &a.pubkey(), SlotOutcome::Paid, &logs);
    }
    let last = metrics().await;
    let signatures = |name: &str| counter(&last, &format!("concord_agent_signature_{name}_total"));
    assert!(
        signatures("drops") >= 1 && signatures("connections") >= 2,
        "{last}"
    );
    let notified_before = counter(&after, "concord_agent_signature_notifications_total");
    assert!(signatures("notifications") > notified_before, "{last}");
    assert!(
        proxy.accepted() >= 12,
        "each agent reopened both connections: {}",
        proxy.accepted()
    );
}

/// The `concord` CLI beside this test's agent binary (built by `cargo test --workspace`, or
/// `cargo build -p concord-cli`).
fn concord_cli() -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_concord-agent")).with_file_name("concord");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p concord-cli` (cargo test --workspace does)",
        path.display()
    );
    path
}

/// Runs `concord embed` for `sentences` as the scenario's buyer; returns the rows of the
/// `.npy` it wrote and its JSON report.
async fn embed(s: &Scenario, name: &str, sentences: &[&str]) -> (Vec<Vec<f32>>, serde_json::Value) {
    let file = s.dir.join(format!("{name}.txt"));
    std::fs::write(&file, sentences.join("\n")).unwrap();
    let keypair = s.dir.join("buyer.json");
    std::fs::write(
        &keypair,
        serde_json::to_string(&s.buyer.to_bytes().to_vec()).unwrap(),
    )
    .unwrap();
    let out = s.dir.join(format!("{name}-out"));
    let mut command = std::process::Command::new(concord_cli());
    command
        .args(["--output", "json", "embed", "-u", &s.rpc_url, "-k"])
        .arg(&keypair)
        .arg("--file")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .arg("--store")
        .arg(s.store.location())
        .arg("--model")
        .arg(concord_model::Model::default_dir())
        .args([
            "--price",
            &s.mint.format(PRICE),
            "--collateral",
            &s.mint.format(COLLATERAL),
        ])
        .args(["--timeout", "240"])
        .env("HOME", &s.dir)
        .env("XDG_RUNTIME_DIR", "/tmp");
    let output = tokio::task::spawn_blocking(move || command.output().expect("run concord"))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "concord embed failed: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let npy = std::fs::read(out.join("embeddings.npy")).unwrap();
    let jsonl = std::fs::read_to_string(out.join("embeddings.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), sentences.len());
    (
        concord_model::output::read_npy(&npy).expect("a .npy"),
        report,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p_a_buyer_embeds_sentences_and_providers_cache_the_weights() {
    let s = Scenario::start("embed").await;
    let port = concord_localnet::free_port();
    let mut a1 = s
        .agent(
            "embed-1",
            None,
            &format!("metrics_addr = \"127.0.0.1:{port}\""),
        )
        .await;
    let mut a2 = s.agent("embed-2", None, "").await;
    let mut a3 = s.agent("embed-3", None, "").await;
    for a in [&mut a1, &mut a2, &mut a3] {
        a.start();
    }
    let model = concord_model::Model::load(&concord_model::Model::default_dir())
        .expect("the model (scripts/setup.sh downloads it)");
    let first = [
        "The cat sleeps on the warm windowsill.",
        "Le chat dort sur le canapé.",
        "ok",
    ];
    let (rows, report) = embed(&s, "first", &first).await;
    // Settled by quorum, every provider paid.
    let job: solana_sdk::pubkey::Pubkey = report["job"].as_str().unwrap().parse().unwrap();
    let settled = s.chain.job(&job).await.unwrap();
    let logs = all_logs(&[&a1, &a2, &a3]);
    for a in [&a1, &a2, &a3] {
        assert_outcome(&settled, &a.pubkey(), SlotOutcome::Paid, &logs);
    }
    // The buyer's embeddings are the CPU reference's bits.
    let tokens = model.tokenize(&first).unwrap();
    let reference = concord_compute::kernels::transformer::encoder::reference(
        &model.shape,
        &model.weights_f32(),
        &tokens,
    )
    .unwrap();
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    assert_eq!(rows.len(), 3);
    assert!(
        flat.iter()
            .map(|v| v.to_bits())
            .eq(reference.iter().map(|v| v.to_bits())),
        "the .npy differs from the CPU reference"
    );
    assert_eq!(
        report["result_hash"].as_str().unwrap(),
        Hash32(settled.agreed_hash.unwrap()).to_hex()
    );
    // And they match candle's BERT within the model's fidelity figures.
    let candle = concord_model::candle_reference::CandleBert::load(&model)
        .unwrap()
        .embed(&tokens.sentences)
        .unwrap();
    for (ours, theirs) in rows.iter().zip(&candle) {
        let cos = concord_model::candle_reference::cosine(ours, theirs);
        assert!(cos >= 0.999, "cosine against candle {cos}");
    }
    // A second file: the providers read the weights (and the modules) from their caches.
    let (rows, _) = embed(&s, "second", &["Where is the nearest train station?"]).await;
    assert_eq!(rows.len(), 1);
    let mut metrics = String::new();
    for _ in 0..40 {
        metrics = http_get(&format!("http://127.0.0.1:{port}/metrics"))
            .await
            .1;
        if counter(&metrics, "concord_agent_jobs_paid_total") >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (hits, misses) = (
        counter(&metrics, "concord_agent_blob_cache_hits_total"),
        counter(&metrics, "concord_agent_blob_cache_misses_total"),
    );
    println!("embed-1's blob cache after two jobs: {hits} hits, {misses} misses");
    // First job: every blob missed (weights, tokens, spans, six modules); second job: the
    // weights and the modules hit, only its own token tables missed.
    assert!(hits >= 7, "cache hits {hits}, misses {misses}\n{metrics}");
    assert!(misses >= 9, "cache hits {hits}, misses {misses}");
}
