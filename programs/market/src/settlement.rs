//! Pure settlement rules (no accounts, no CPI): which hash won, and what each slot's outcome is.
//! Quorum is more than half the replicas, so at most one hash can reach it.
use crate::state::{Slot, SlotOutcome, SlotStatus};

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
        (SlotStatus::Revealed, Some(_)) => SlotOutcome::Slashed,
        (SlotStatus::Revealed, None) => SlotOutcome::Unpaid,
        _ => SlotOutcome::Slashed,
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
    fn no_quorum_leaves_revealers_unpaid_and_slashes_no_shows() {
        let committed_only = Slot {
            status: SlotStatus::Committed,
            ..Slot::default()
        };
        let slots = [revealed(1), revealed(2), committed_only];
        let w = winning_hash(&slots, 2);
        assert_eq!(w, None);
        let outcomes: Vec<_> = slots.iter().map(|s| slot_outcome(s, w)).collect();
        assert_eq!(
            outcomes,
            [
                SlotOutcome::Unpaid,
                SlotOutcome::Unpaid,
                SlotOutcome::Slashed
            ]
        );
    }

    #[test]
    fn unrevealed_slots_never_count_towards_quorum() {
        let mut hidden = revealed(1);
        hidden.status = SlotStatus::Committed;
        assert_eq!(winning_hash(&[revealed(1), hidden], 2), None);
    }
}
