//! Monte-Carlo simulation of the draw, the disputes and the settlement, calling the program's
//! own code (`concord_market::draw::candidates` over a Fenwick tree of stake, and
//! `settlement::{disagree, verdict, outcomes, Payout}` on a real `Job`): an attacker holding
//! a share α of the stake, split over 1 or 10 identities, lies in every slot it is drawn for
//! (replica, auditor or referee), or only in jobs where it holds every replica (slot holders
//! are public, so it knows); honest providers (50, equal stake) reveal the right hash.
//! Measured per job: P(the wrong result is accepted), P(an honest provider is slashed),
//! P(dispute), the attacker's share of slots, its expected gain from lying instead of
//! computing, and the compute cost above which lying pays (the gain is linear in it). Its
//! honest alternative runs the job once for all the slots it holds (its identities reveal the
//! same hash), so lying saves one run per job, not one per slot.
use concord_market::draw::{self, fenwick};
use concord_market::settlement::{disagree, outcomes, verdict, Payout};
use concord_market::{
    Job, MarketParams, Slot, SlotOutcome, SlotStatus, BPS_DENOMINATOR, MAX_REFEREES,
};

/// Honest providers in the simulated market.
pub const HONEST: usize = 50;
/// Total stake (arbitrary units; only shares matter).
const TOTAL: u64 = 1_000_000_000;

/// Money per job, in units of the price: the market's default fee and the collateral and
/// compute cost the table states.
#[derive(Clone, Copy, Debug)]
pub struct Economics {
    pub price: f64,
    pub fee: f64,
    pub collateral: f64,
    /// What running the job once costs a provider: the attacker saves it in every job it lies
    /// in (honest, it would run the job once for all its slots).
    pub compute: f64,
}

impl Economics {
    /// Price 1, the market's default fee, collateral 2 × price (the tests' and demo's ratio),
    /// and a compute cost equal to the price (the most a liar can save).
    pub const DEFAULT: Economics = Economics {
        price: 1.0,
        fee: MarketParams::DEFAULT.fee_bps as f64 / BPS_DENOMINATOR as f64,
        collateral: 2.0,
        compute: 1.0,
    };

    /// What an honest slot earns: the price less the market's fee. A provider whose compute
    /// costs more loses on every job it serves, so no compute cost above this needs deterring.
    pub fn earned(&self) -> f64 {
        self.price - self.fee
    }
}

/// The market's default probability of a hidden audit (`MarketParams::DEFAULT.audit_bps`).
pub fn default_audit() -> f64 {
    f64::from(MarketParams::DEFAULT.audit_bps) / BPS_DENOMINATOR as f64
}

/// When the attacker lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// In every slot it is drawn for.
    Always,
    /// Only in jobs where it holds every replica slot (then in its auditor and referee slots
    /// too); elsewhere it computes like anyone. Caught by an honest auditor it still reveals
    /// (a commitment withheld is slashed) and hopes one of its identities is a referee.
    WhenHoldingAll,
}

/// Who attacks: a share `alpha` of the stake over `identities` identities, lying by `strategy`.
#[derive(Clone, Copy, Debug)]
pub struct Attack {
    pub alpha: f64,
    pub identities: usize,
    pub strategy: Strategy,
}

impl Attack {
    pub fn always(alpha: f64, identities: usize) -> Attack {
        Attack {
            alpha,
            identities,
            strategy: Strategy::Always,
        }
    }
}

/// One cell of the table.
#[derive(Clone, Copy, Debug)]
pub struct Cell {
    pub alpha: f64,
    pub replicas: u8,
    /// Probability of a hidden audit.
    pub audit: f64,
    pub quorum: u8,
    pub identities: usize,
    pub trials: u32,
    pub wrong_accepted: f64,
    pub honest_slashed: f64,
    /// Jobs whose revealed hashes differed (a dispute).
    pub disputes: f64,
    /// The attacker's slots over all slots.
    pub attacker_share: f64,
    /// Expected gain per job of lying rather than computing (negative: lying does not pay).
    pub gain_per_job: f64,
    /// The compute cost (in prices) above which lying pays: the gain is `K + n·compute` with
    /// `n` the jobs the attacker lied in; `None` when it never lied.
    pub break_even: Option<f64>,
}

/// Stake weights: `identities` attacker identities sharing `alpha`, then [`HONEST`] honest.
fn weights(alpha: f64, identities: usize) -> Vec<u64> {
    let attacker = (TOTAL as f64 * alpha) as u64;
    let mut w = vec![attacker / identities as u64; identities];
    w.extend(vec![(TOTAL - attacker) / HONEST as u64; HONEST]);
    w
}

/// Money units per price unit in the simulated jobs (the program's integer arithmetic).
const UNIT: f64 = 1_000_000.0;

/// Runs `trials` jobs of `replicas` slots (quorum more than half) against `attack`, through
/// the program's own rules: with
/// probability `audit` (the program's `draw::audit_roll` against the job's `audit_bps`) one
/// auditor is drawn passing over the replicas; revealed hashes that differ open a dispute, [`MAX_REFEREES`] referees are drawn passing over the
/// replicas (`draw::candidates`), the verdict is `settlement::verdict`, outcomes
/// `settlement::outcomes` and the money `Payout::of`. Attacker referees lie too.
pub fn simulate(attack: Attack, replicas: u8, audit: f64, trials: u32, e: Economics) -> Cell {
    let Attack {
        alpha,
        identities,
        strategy,
    } = attack;
    let w = weights(alpha, identities);
    let mut tree = vec![0u64; w.len()];
    for (i, x) in w.iter().enumerate() {
        fenwick::add(&mut tree, i, *x).expect("no overflow");
    }
    let quorum = replicas / 2 + 1;
    const WRONG: [u8; 32] = [0x66; 32];
    const RIGHT: [u8; 32] = [0x42; 32];
    let template = Job {
        replicas,
        quorum,
        filled: replicas,
        price_per_replica: (e.price * UNIT) as u64,
        fee_per_replica: (e.fee * UNIT) as u64,
        collateral_per_replica: (e.collateral * UNIT) as u64,
        audit_bps: (audit * BPS_DENOMINATOR as f64).round() as u16,
        ..Job::default()
    };
    let (mut wrong, mut slashed_honest, mut attacker_slots, mut disputes) =
        (0u32, 0u32, 0u64, 0u32);
    // The gain is `fixed + lied × compute`, `lied` counting jobs.
    let (mut fixed, mut lied) = (0.0, 0u64);
    let is_attacker = |index: u32| (index as usize) < identities;
    let revealed = |index: u32| Slot {
        status: SlotStatus::Revealed,
        result_hash: if is_attacker(index) { WRONG } else { RIGHT },
        ..Slot::default()
    };
    for t in 0..trials {
        let seed = draw::round_seed(&[9; 32], 0, u64::from(t), &[alpha.to_bits() as u8; 32]);
        let seed = solana_sha256_hasher::hashv(&[&seed, &[replicas, identities as u8]]).to_bytes();
        let drawn = draw::candidates(&seed, &tree, usize::from(replicas), |_| false);
        let mut job = template.clone();
        for (slot, c) in job.slots.iter_mut().zip(&drawn) {
            *slot = revealed(c.index);
        }
        let mut indices: Vec<u32> = drawn.iter().map(|c| c.index).collect();
        let holds = indices.iter().filter(|i| is_attacker(**i)).count() as u64;
        attacker_slots += holds;
        if strategy == Strategy::WhenHoldingAll && holds < u64::from(replicas) {
            // It computes like everyone: nothing to gain or lose against doing so.
            continue;
        }
        let audit_seed = draw::round_seed(&seed, 2, u64::from(t), &[0xA0; 32]);
        if draw::audit_roll(&audit_seed, 0, &audit_seed) < job.audit_bps {
            let seed = draw::round_seed(&audit_seed, 3, u64::from(t), &[0xA1; 32]);
            let auditor = draw::candidates(&seed, &tree, 1, |i| indices.contains(&i));
            for c in &auditor {
                job.audit_decided = true;
                job.auditors = 1;
                job.slots[usize::from(replicas)] = revealed(c.index);
                job.filled += 1;
                indices.push(c.index);
            }
        }
        if disagree(job.replica_slots()) {
            disputes += 1;
            let seed = draw::round_seed(&seed, 1, u64::from(t), &[0xD1; 32]);
            let referees = draw::candidates(&seed, &tree, MAX_REFEREES, |i| indices.contains(&i));
            job.referees = MAX_REFEREES as u8;
            for (k, c) in referees.iter().enumerate() {
                job.slots[usize::from(job.first_slots()) + k] = revealed(c.index);
                job.filled += 1;
            }
            indices.extend(referees.iter().map(|c| c.index));
        }
        let winner = verdict(&job);
        let outcomes = outcomes(&job, winner);
        let payout = Payout::of(&job, &outcomes).expect("payout");
        if winner == Some(WRONG) {
            wrong += 1;
        }
        let (mut honest_hit, mut lied_here) = (false, false);
        for (k, (index, outcome)) in indices.iter().zip(&outcomes).enumerate() {
            let referee = k >= usize::from(job.first_slots());
            if !is_attacker(*index) {
                honest_hit |= *outcome == SlotOutcome::Slashed;
                continue;
            }
            if !referee {
                // Had it computed (one run for all its slots), this slot would have earned
                // price − fee.
                fixed -= e.earned();
                lied_here = true;
            }
            fixed += match outcome {
                SlotOutcome::Paid if referee => payout.referee_pay as f64 / UNIT,
                SlotOutcome::Paid => e.earned(),
                SlotOutcome::Slashed => -e.collateral,
                _ => 0.0,
            };
        }
        slashed_honest += u32::from(honest_hit);
        lied += u64::from(lied_here);
    }
    let n = f64::from(trials);
    let lied_per_job = lied as f64 / n;
    Cell {
        alpha,
        replicas,
        audit,
        quorum,
        identities,
        trials,
        wrong_accepted: f64::from(wrong) / n,
        honest_slashed: f64::from(slashed_honest) / n,
        disputes: f64::from(disputes) / n,
        attacker_share: attacker_slots as f64 / (n * f64::from(replicas)),
        gain_per_job: fixed / n + lied_per_job * e.compute,
        break_even: (lied > 0).then(|| -fixed / lied as f64),
    }
}

/// P(a wrong result is accepted) with disputes and audits `q`, analytically (draws with
/// replacement at share `alpha`): every compared slot the attacker's (the replicas, and the
/// auditor with probability `q`), or a dispute whose referees are all the attacker's (one
/// honest referee vetoes a wrong verdict).
pub fn dispute_bound(alpha: f64, replicas: u8, q: f64) -> f64 {
    let of = |n: u8| {
        let all = alpha.powi(i32::from(n));
        let mixed = 1.0 - all - (1.0 - alpha).powi(i32::from(n));
        all + mixed * alpha.powi(MAX_REFEREES as i32)
    };
    (1.0 - q) * of(replicas) + q * of(replicas + 1)
}

/// P(at least `quorum` of `replicas` independent draws are the attacker's), draws with
/// replacement at share `alpha`: the analytic value of a majority verdict.
pub fn majority_bound(alpha: f64, replicas: u8, quorum: u8) -> f64 {
    (quorum..=replicas)
        .map(|a| {
            binomial(replicas, a)
                * alpha.powi(i32::from(a))
                * (1.0 - alpha).powi(i32::from(replicas - a))
        })
        .sum()
}

fn binomial(n: u8, k: u8) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

/// A compute cost as a cell: `—` when the attacker never lied.
fn cost(c: Option<f64>) -> String {
    c.map_or("—".into(), |c| format!("{:.3}", c.max(0.0)))
}

/// The tables for `docs/security.md`, as markdown: the attacker that always lies, over α, r, q
/// (none, 5 %, the market's default) and identities; then the one that lies only when it holds
/// every replica (10 identities), at 5 % and at the market's default audit rate.
pub fn table(trials: u32) -> String {
    let e = Economics::DEFAULT;
    let mut out = String::from(
        "| α | r (quorum) | q | identities | P(wrong accepted) | analytic | goal 1.1·α^r·(1−q) | P(honest slashed) | P(dispute) | attacker's share of slots | gain of lying per job | lying pays above a compute cost of |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for alpha in ALPHAS {
        for replicas in [1u8, 3, 5] {
            let qs = [0.0, 0.05, default_audit()];
            for (q, identities) in qs.into_iter().flat_map(|q| [(q, 1usize), (q, 10)]) {
                let c = simulate(Attack::always(alpha, identities), replicas, q, trials, e);
                out.push_str(&format!(
                    "| {alpha} | {replicas} ({}) | {q} | {identities} | {:.5} | {:.5} | {:.5} | {:.5} | {:.4} | {:.4} | {:+.4} | {} |\n",
                    c.quorum,
                    c.wrong_accepted,
                    dispute_bound(alpha, replicas, q),
                    1.1 * alpha.powi(i32::from(replicas)) * (1.0 - q),
                    c.honest_slashed,
                    c.disputes,
                    c.attacker_share,
                    c.gain_per_job,
                    cost(c.break_even),
                ));
            }
        }
    }
    out.push_str(
        "\n| α | r (quorum) | q | P(wrong accepted) | goal 1.1·α^r·(1−q) | P(honest slashed) | gain of lying per job | lying pays above a compute cost of |\n|---|---|---|---|---|---|---|---|\n",
    );
    for alpha in ALPHAS {
        for replicas in [3u8, 5] {
            for q in [0.05, default_audit()] {
                let attack = Attack {
                    strategy: Strategy::WhenHoldingAll,
                    ..Attack::always(alpha, 10)
                };
                let c = simulate(attack, replicas, q, trials, e);
                out.push_str(&format!(
                    "| {alpha} | {replicas} ({}) | {q} | {:.5} | {:.5} | {:.5} | {:+.4} | {} |\n",
                    c.quorum,
                    c.wrong_accepted,
                    1.1 * alpha.powi(i32::from(replicas)) * (1.0 - q),
                    c.honest_slashed,
                    c.gain_per_job,
                    cost(c.break_even),
                ));
            }
        }
    }
    out
}

/// The attacker's stake shares the tables cover.
const ALPHAS: [f64; 6] = [0.05, 0.1, 0.2, 0.33, 0.45, 0.49];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draw_gives_the_attacker_its_stake_share_and_no_more() {
        for identities in [1, 10] {
            let c = simulate(
                Attack::always(0.2, identities),
                1,
                0.0,
                4000,
                Economics::DEFAULT,
            );
            assert!((c.attacker_share - 0.2).abs() < 0.025, "{c:?}");
        }
        // Split over identities, three slots: the share stays at α (drawn without
        // replacement among 60 providers, a little below).
        let split = simulate(Attack::always(0.2, 10), 3, 0.0, 3000, Economics::DEFAULT);
        assert!(split.attacker_share < 0.22, "{split:?}");
        // One identity can hold at most one of three slots: never a quorum.
        let one = simulate(Attack::always(0.33, 1), 3, 0.0, 3000, Economics::DEFAULT);
        assert_eq!(one.wrong_accepted, 0.0, "{one:?}");
    }

    #[test]
    fn disputes_match_their_analytic_value_and_outvote_a_minority() {
        let c = simulate(Attack::always(0.33, 10), 3, 0.0, 6000, Economics::DEFAULT);
        let bound = dispute_bound(0.33, 3, 0.0);
        assert!(
            (c.wrong_accepted - bound).abs() < 0.035,
            "measured {} analytic {bound}",
            c.wrong_accepted
        );
        assert!(c.wrong_accepted < majority_bound(0.33, 3, 2), "{c:?}");
        // An honest provider is slashed only when the attacker's referees win a dispute.
        assert!(c.honest_slashed <= c.wrong_accepted, "{c:?}");
        assert!(c.disputes > 0.5, "{c:?}");
    }

    #[test]
    fn audits_match_their_analytic_value() {
        // Every job audited: four compared slots, so the attacker's lie passes only when all
        // four are its own, or it wins the dispute. Drawn without replacement from 60
        // providers, the measure sits below the analytic value (drawn with replacement).
        let audited = simulate(Attack::always(0.33, 10), 3, 1.0, 6000, Economics::DEFAULT);
        let bound = dispute_bound(0.33, 3, 1.0);
        assert!(
            audited.wrong_accepted <= bound + 0.005 && audited.wrong_accepted >= 0.3 * bound,
            "measured {} analytic {bound}",
            audited.wrong_accepted
        );
    }

    #[test]
    fn a_liar_holding_every_replica_pays_only_for_audits() {
        let e = Economics::DEFAULT;
        let selective = |q| {
            let attack = Attack {
                strategy: Strategy::WhenHoldingAll,
                ..Attack::always(0.45, 10)
            };
            simulate(attack, 3, q, 3000, e)
        };
        // Without audits its lie is the quorum: paid as if it had computed, whatever the cost.
        let unaudited = selective(0.0);
        assert!(unaudited.wrong_accepted > 0.05, "{unaudited:?}");
        assert_eq!(unaudited.honest_slashed, 0.0);
        assert_eq!(unaudited.break_even, Some(0.0));
        // Audited, its lie meets an honest auditor (then a dispute) unless the auditor is its own.
        let audited = selective(1.0);
        assert!(
            audited.wrong_accepted < unaudited.wrong_accepted,
            "{audited:?}"
        );
        assert!(audited.break_even.is_some_and(|c| c > 0.0), "{audited:?}");
    }

    #[test]
    fn at_the_market_defaults_lying_never_pays_a_provider_that_serves_at_a_profit() {
        // Compute costs up to what a slot earns: above it no provider serves at all.
        let e = Economics::DEFAULT;
        for strategy in [Strategy::Always, Strategy::WhenHoldingAll] {
            for alpha in [0.33, 0.45] {
                let attack = Attack {
                    strategy,
                    ..Attack::always(alpha, 10)
                };
                let c = simulate(attack, 3, default_audit(), 3000, e);
                assert!(
                    c.break_even.is_some_and(|cost| cost > e.earned()),
                    "{strategy:?} at α = {alpha}: {c:?}"
                );
            }
        }
    }
}
