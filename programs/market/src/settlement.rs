//! Pure settlement rules (no accounts, no CPI): when revealed hashes disagree (a dispute),
//! which hash won, each slot's outcome, and where every unit of the escrow goes. Quorum is
//! more than half the replicas, so at most one hash can reach it; a dispute's verdict needs
//! every referee who revealed to agree (and `REFEREE_QUORUM` of them to reveal).
//!
//! Who gets what (`docs/security.md` has the table and why no party can profit from an outcome
//! it can cause):
//! - a replica `Paid` / `Compensated`: the provider gets `price − fee`, the fee vault `fee`;
//! - `Unpaid`, `Released`: nothing moves; the slot's price goes back to the buyer;
//! - `Slashed`: the slot's price goes back to the buyer and its collateral moves into the job's
//!   vault: it pays the referees who revealed the verdict (at most `price − fee` each, the
//!   same as a replica), and the rest is `burn_due`, which `close_job` burns. No buyer, admin
//!   or fee vault is ever credited a slash.
//! - a referee `Paid`: its share of the slashed collateral, as above.
//!
//! Revealed hashes that differ are never settled by majority: `settle` opens a dispute and the
//! referees' verdict decides. Without a verdict (referees split, or too few revealed) the job
//! is non-deterministic: nobody is paid or slashed, the buyer gets the whole deposit back.
//! A provider that committed and never revealed is slashed whatever the outcome: it holds its
//! result and could always reveal it (withholding is how a liar would dodge a verdict it sees
//! coming). One that claimed and never committed is slashed only when a quorum or a verdict
//! formed: then the job was shown feasible.
use crate::state::{Job, Slot, SlotOutcome, SlotStatus, MAX_REFEREES, REFEREE_QUORUM};

/// The hash revealed by at least `quorum` slots, if any.
pub fn winning_hash(slots: &[Slot], quorum: u8) -> Option<[u8; 32]> {
    let revealed = || slots.iter().filter(|s| s.status == SlotStatus::Revealed);
    revealed().map(|s| s.result_hash).find(|candidate| {
        revealed().filter(|s| s.result_hash == *candidate).count() >= usize::from(quorum)
    })
}

/// Whether two revealed slots disagree: then the job goes to a dispute.
pub fn disagree(slots: &[Slot]) -> bool {
    let mut revealed = slots.iter().filter(|s| s.status == SlotStatus::Revealed);
    revealed
        .next()
        .is_some_and(|first| revealed.any(|s| s.result_hash != first.result_hash))
}

/// Whether `settle` opens a dispute on `job`: its compared reveals differ and none is open.
pub fn opens_dispute(job: &Job) -> bool {
    !job.disputed() && disagree(job.replica_slots())
}

/// What settles `job`: the referees' verdict in a dispute, else the replicas' quorum hash.
pub fn verdict(job: &Job) -> Option<[u8; 32]> {
    if job.disputed() {
        referee_verdict(job.referee_slots())
    } else {
        winning_hash(job.replica_slots(), job.quorum)
    }
}

/// The referees' verdict: the hash every referee who revealed agrees on, when at least
/// [`REFEREE_QUORUM`] revealed; none when two disagree or too few revealed (the job is
/// non-deterministic).
pub fn referee_verdict(slots: &[Slot]) -> Option<[u8; 32]> {
    let mut revealed = slots.iter().filter(|s| s.status == SlotStatus::Revealed);
    let first = revealed.next()?.result_hash;
    let mut count = 1usize;
    for s in revealed {
        if s.result_hash != first {
            return None;
        }
        count += 1;
    }
    (count >= usize::from(REFEREE_QUORUM)).then_some(first)
}

/// The outcome of one slot given the winning hash (or none).
pub fn slot_outcome(slot: &Slot, winner: Option<[u8; 32]>) -> SlotOutcome {
    match (slot.status, winner) {
        (SlotStatus::Revealed, Some(w)) if slot.result_hash == w => SlotOutcome::Paid,
        (_, Some(_)) | (SlotStatus::Committed, None) => SlotOutcome::Slashed,
        (_, None) => SlotOutcome::Unpaid,
    }
}

/// Where the units of a job's escrow go once its slots have `outcomes`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Payout {
    /// What each paid replica's (or auditor's) provider receives (`price − fee`).
    pub provider_pay: u64,
    /// Paid replica and auditor slots (`Paid` or `Compensated`).
    pub paid: u8,
    /// Slashed slots, replicas' and referees'.
    pub slashed: u8,
    /// What each referee who revealed the verdict receives: an equal share of the slashed
    /// collateral, at most `price − fee` (what a replica earns) and at most the deposit over
    /// [`MAX_REFEREES`] (`settle_referees` pays before the replicas' slashes come in, out of
    /// the deposit).
    pub referee_pay: u64,
    /// Referees paid.
    pub referees_paid: u8,
    /// Slashed collateral not paid to referees: moved into the vault, burned at close.
    pub burn_due: u64,
    /// Fees (`paid × fee`, replicas only): stay in the vault for the fee vault.
    pub treasury_due: u64,
    /// Everything else the deposit holds.
    pub buyer_refund: u64,
}

impl Payout {
    /// The split of `job`'s deposit and slashed collateral for `outcomes` (one per filled
    /// slot: the replicas', then the referees'). `None` on overflow, or if the deposit cannot
    /// cover the payments. Conservation to the unit:
    /// `deposit + slashed × collateral == buyer_refund + paid × provider_pay + treasury_due
    /// + referees_paid × referee_pay + burn_due`.
    pub fn of(job: &Job, outcomes: &[SlotOutcome]) -> Option<Payout> {
        let split = usize::from(job.first_slots()).min(outcomes.len());
        let (replicas, referees) = outcomes.split_at(split);
        let count = |of: &[SlotOutcome], f: fn(SlotOutcome) -> bool| {
            of.iter().filter(|o| f(**o)).count() as u8
        };
        let paid = count(replicas, SlotOutcome::is_paid);
        let referees_paid = count(referees, SlotOutcome::is_paid);
        let slashed = count(outcomes, |o| o == SlotOutcome::Slashed);
        let provider_pay = job.price_per_replica.checked_sub(job.fee_per_replica)?;
        let treasury_due = job.fee_per_replica.checked_mul(u64::from(paid))?;
        let buyer_refund = job
            .deposit()?
            .checked_sub(job.price_per_replica.checked_mul(u64::from(paid))?)?;
        let pool = job.collateral_per_replica.checked_mul(u64::from(slashed))?;
        let advance = job.deposit()? / MAX_REFEREES as u64;
        let referee_pay = match referees_paid {
            0 => 0,
            n => provider_pay.min(pool / u64::from(n)).min(advance),
        };
        let burn_due = pool.checked_sub(referee_pay.checked_mul(u64::from(referees_paid))?)?;
        Some(Payout {
            provider_pay,
            paid,
            slashed,
            referee_pay,
            referees_paid,
            burn_due,
            treasury_due,
            buyer_refund,
        })
    }

    /// What the referees were paid in all.
    pub fn referee_pay_total(&self) -> Option<u64> {
        self.referee_pay.checked_mul(u64::from(self.referees_paid))
    }
}

/// What the holder of filled slot `index` of an ended `job` was paid: a replica `price −
/// fee`, a referee its share of the slashed collateral; 0 when not paid.
pub fn slot_pay(job: &Job, index: usize) -> u64 {
    let recorded: Vec<SlotOutcome> = job.filled_slots().iter().map(|s| s.outcome).collect();
    match (recorded.get(index), Payout::of(job, &recorded)) {
        (Some(o), Some(p)) if o.is_paid() && index < usize::from(job.first_slots()) => {
            p.provider_pay
        }
        (Some(o), Some(p)) if o.is_paid() => p.referee_pay,
        _ => 0,
    }
}

/// Each filled slot's outcome under `winner`: the replicas' from their reveals, the referees'
/// as `settle_referees` recorded them (or from their reveals when it has not run yet).
pub fn outcomes(job: &Job, winner: Option<[u8; 32]>) -> Vec<SlotOutcome> {
    let replicas = usize::from(job.first_slots());
    job.filled_slots()
        .iter()
        .enumerate()
        .map(|(i, slot)| {
            if i >= replicas && slot.outcome != SlotOutcome::Pending {
                slot.outcome
            } else {
                slot_outcome(slot, winner)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revealed(h: u8) -> Slot {
        Slot {
            result_hash: [h; 32],
            status: SlotStatus::Revealed,
            ..Slot::default()
        }
    }

    fn with_status(status: SlotStatus) -> Slot {
        Slot {
            status,
            ..Slot::default()
        }
    }

    #[test]
    fn two_of_three_win_and_the_third_is_slashed() {
        let slots = [revealed(1), revealed(2), revealed(1)];
        let w = winning_hash(&slots, 2);
        assert_eq!(w, Some([1; 32]));
        let outcomes: Vec<_> = slots.iter().map(|s| slot_outcome(s, w)).collect();
        assert_eq!(
            outcomes,
            [SlotOutcome::Paid, SlotOutcome::Slashed, SlotOutcome::Paid]
        );
    }

    #[test]
    fn a_commitment_never_revealed_is_slashed_and_a_missing_one_only_with_a_quorum() {
        for no_show in [SlotStatus::Claimed, SlotStatus::Committed] {
            let quorum = [revealed(1), revealed(1), with_status(no_show)];
            let w = winning_hash(&quorum, 2);
            assert_eq!(slot_outcome(&quorum[2], w), SlotOutcome::Slashed);
        }
        let expected = |no_show| match no_show {
            SlotStatus::Committed => SlotOutcome::Slashed,
            _ => SlotOutcome::Unpaid,
        };
        for no_show in [SlotStatus::Claimed, SlotStatus::Committed] {
            let slots = [revealed(1), revealed(2), with_status(no_show)];
            let w = winning_hash(&slots, 2);
            assert_eq!(w, None);
            let outcomes: Vec<_> = slots.iter().map(|s| slot_outcome(s, w)).collect();
            let unpaid = SlotOutcome::Unpaid;
            assert_eq!(outcomes, [unpaid, unpaid, expected(no_show)], "{no_show:?}");
        }
    }

    #[test]
    fn the_payout_conserves_the_deposit_and_credits_no_slash() {
        let job = Job {
            escrow_owed: 300,
            replicas: 3,
            price_per_replica: 100,
            fee_per_replica: 5,
            collateral_per_replica: 70,
            ..Job::default()
        };
        let outcomes = [SlotOutcome::Paid, SlotOutcome::Slashed, SlotOutcome::Paid];
        let p = Payout::of(&job, &outcomes).unwrap();
        assert_eq!(
            (
                p.provider_pay,
                p.paid,
                p.slashed,
                p.burn_due,
                p.treasury_due,
                p.buyer_refund
            ),
            (95, 2, 1, 70, 10, 100)
        );
        assert_eq!(
            p.buyer_refund + u64::from(p.paid) * p.provider_pay + p.treasury_due,
            job.escrow_owed
        );
        assert_eq!((p.referee_pay, p.referees_paid), (0, 0));
        let none = Payout::of(&job, &[SlotOutcome::Unpaid; 3]).unwrap();
        assert_eq!(
            (none.buyer_refund, none.burn_due, none.treasury_due),
            (300, 0, 0)
        );
    }

    #[test]
    fn a_verdict_needs_every_revealing_referee_and_enough_of_them() {
        let agreed = [revealed(1), revealed(1), revealed(1), revealed(1)];
        assert_eq!(referee_verdict(&agreed), Some([1; 32]));
        let mut silent = agreed;
        silent[3].status = SlotStatus::Committed;
        assert_eq!(referee_verdict(&silent), None, "three reveals are too few");
        let mut one_against = [revealed(1); 6];
        assert_eq!(referee_verdict(&one_against), Some([1; 32]));
        one_against[5] = revealed(2);
        assert_eq!(referee_verdict(&one_against), None, "one dissent is a veto");
    }

    #[test]
    fn differing_reveals_are_a_dispute_and_unrevealed_slots_are_not() {
        assert!(disagree(&[revealed(1), revealed(2)]));
        assert!(!disagree(&[
            revealed(1),
            revealed(1),
            with_status(SlotStatus::Committed)
        ]));
        let mut hidden = revealed(2);
        hidden.status = SlotStatus::Committed;
        assert!(!disagree(&[revealed(1), hidden]));
    }

    /// A dispute: one liar among three replicas, referees of which two reveal the verdict and
    /// one is slashed. Slashed collateral pays the two referees (capped at what a replica
    /// earns), the rest is burned, and every unit is accounted for.
    #[test]
    fn losers_pay_the_referees_and_the_rest_is_burned() {
        let job = Job {
            replicas: 3,
            referees: 3,
            price_per_replica: 100,
            fee_per_replica: 5,
            collateral_per_replica: 70,
            ..Job::default()
        };
        use SlotOutcome::*;
        let outcomes = [Paid, Slashed, Paid, Paid, Paid, Slashed];
        let p = Payout::of(&job, &outcomes).unwrap();
        // Pool 140: two referees at min(95, 140 / 2, 300 / 6) = 50 each; 40 burned.
        assert_eq!(
            (
                p.paid,
                p.slashed,
                p.referees_paid,
                p.referee_pay,
                p.burn_due
            ),
            (2, 2, 2, 50, 40)
        );
        assert_eq!((p.treasury_due, p.buyer_refund), (10, 100));
        // Little collateral: the referees share the pool.
        let poor = Job {
            collateral_per_replica: 40,
            ..job.clone()
        };
        let p = Payout::of(&poor, &outcomes).unwrap();
        assert_eq!((p.referee_pay, p.burn_due), (40, 0));
        let rich = Job {
            collateral_per_replica: 500,
            ..job.clone()
        };
        let p = Payout::of(&rich, &outcomes).unwrap();
        assert_eq!((p.referee_pay, p.burn_due), (50, 1000 - 100));
        let deposit = 300 + 2 * rich.collateral_per_replica;
        assert_eq!(
            p.buyer_refund
                + u64::from(p.paid) * p.provider_pay
                + p.treasury_due
                + p.referee_pay_total().unwrap()
                + p.burn_due,
            deposit
        );
        // Referees split: nobody paid or slashed, the deposit goes back.
        let split = Payout::of(&job, &[Unpaid; 6]).unwrap();
        assert_eq!(
            (split.buyer_refund, split.burn_due, split.referee_pay),
            (300, 0, 0)
        );
    }

    #[test]
    fn unrevealed_slots_never_count_towards_quorum() {
        let mut hidden = revealed(1);
        hidden.status = SlotStatus::Committed;
        assert_eq!(winning_hash(&[revealed(1), hidden], 2), None);
    }
}
