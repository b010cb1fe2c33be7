//! Pure settlement rules (no accounts, no CPI): which hash won, each slot's outcome, and where
//! every unit of the escrow goes. Quorum is more than half the replicas, so at most one hash
//! can reach it.
//!
//! Who gets what (`docs/security.md` has the table and why no party can profit from an outcome
//! it can cause):
//! - `Paid` / `Compensated`: the provider gets `price − fee`, the fee vault gets `fee`;
//! - `Unpaid`, `Released`: nothing moves; the slot's price goes back to the buyer;
//! - `Slashed`: the slot's price goes back to the buyer and its collateral moves into the job's
//!   vault as `burn_due`, which `close_job` burns: no party, buyer, admin or other provider,
//!   is ever credited a slash.
//!
//! A provider that did not reveal is slashed only when a quorum formed: then the job was
//! shown feasible. Without a quorum nobody is slashed.
use crate::state::{Job, Slot, SlotOutcome, SlotStatus};

/// The hash revealed by at least `quorum` slots, if any.
pub fn winning_hash(slots: &[Slot], quorum: u8) -> Option<[u8; 32]> {
    let revealed = || slots.iter().filter(|s| s.status == SlotStatus::Revealed);
    revealed().map(|s| s.result_hash).find(|candidate| {
        revealed().filter(|s| s.result_hash == *candidate).count() >= usize::from(quorum)
    })
}

/// The outcome of one slot given the winning hash (or none).
pub fn slot_outcome(slot: &Slot, winner: Option<[u8; 32]>) -> SlotOutcome {
    match (slot.status, winner) {
        (SlotStatus::Revealed, Some(w)) if slot.result_hash == w => SlotOutcome::Paid,
        (_, Some(_)) => SlotOutcome::Slashed,
        (_, None) => SlotOutcome::Unpaid,
    }
}

/// Where the units of a job's escrow go once its slots have `outcomes`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Payout {
    /// What each paid slot's provider receives (`price − fee`).
    pub provider_pay: u64,
    /// Paid slots (`Paid` or `Compensated`).
    pub paid: u8,
    /// Slashed slots.
    pub slashed: u8,
    /// Slashed collateral (`slashed × collateral`): moved into the vault, burned at close.
    pub burn_due: u64,
    /// Fees (`paid × fee`): stay in the vault for the fee vault.
    pub treasury_due: u64,
    /// Everything else the escrow holds.
    pub buyer_refund: u64,
}

impl Payout {
    /// The split of `job`'s escrow for `outcomes` (one per filled slot). `None` on overflow,
    /// or if the escrow cannot cover the payments. Conservation (the slashed collateral comes
    /// in on top of the deposit and stays to be burned):
    /// `escrow_owed == buyer_refund + paid × provider_pay + treasury_due`.
    pub fn of(job: &Job, outcomes: &[SlotOutcome]) -> Option<Payout> {
        let count = |f: fn(SlotOutcome) -> bool| outcomes.iter().filter(|o| f(**o)).count() as u8;
        let paid = count(SlotOutcome::is_paid);
        let slashed = count(|o| o == SlotOutcome::Slashed);
        let provider_pay = job.price_per_replica.checked_sub(job.fee_per_replica)?;
        let treasury_due = job.fee_per_replica.checked_mul(u64::from(paid))?;
        let buyer_refund = job
            .escrow_owed
            .checked_sub(job.price_per_replica.checked_mul(u64::from(paid))?)?;
        let burn_due = job.collateral_per_replica.checked_mul(u64::from(slashed))?;
        Some(Payout {
            provider_pay,
            paid,
            slashed,
            burn_due,
            treasury_due,
            buyer_refund,
        })
    }
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
    fn a_no_show_is_slashed_only_when_a_quorum_formed() {
        let quorum = [revealed(1), revealed(1), with_status(SlotStatus::Committed)];
        let w = winning_hash(&quorum, 2);
        assert_eq!(slot_outcome(&quorum[2], w), SlotOutcome::Slashed);
        for no_show in [SlotStatus::Claimed, SlotStatus::Committed] {
            let slots = [revealed(1), revealed(2), with_status(no_show)];
            let w = winning_hash(&slots, 2);
            assert_eq!(w, None);
            let outcomes: Vec<_> = slots.iter().map(|s| slot_outcome(s, w)).collect();
            assert_eq!(outcomes, [SlotOutcome::Unpaid; 3], "{no_show:?}");
        }
    }

    #[test]
    fn the_payout_conserves_the_deposit_and_credits_no_slash() {
        let job = Job {
            escrow_owed: 300,
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
        let none = Payout::of(&job, &[SlotOutcome::Unpaid; 3]).unwrap();
        assert_eq!(
            (none.buyer_refund, none.burn_due, none.treasury_due),
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
