//! Which open jobs this provider may and wants to claim: the program's own claim rules
//! (`Job::claimable_by`, the code `claim_slot` runs) checked early, then the operator's
//! (price floor, buyer allowlist, free collateral).
use concord_market::errors::MarketError;
use concord_sdk::chain::{HardwareProfile, Job};
use solana_sdk::pubkey::Pubkey;

/// The provider's side of the match.
pub struct Offer<'a> {
    pub me: Pubkey,
    pub hardware: &'a HardwareProfile,
    pub price_floor: u64,
    /// Serve only these buyers; anyone when empty.
    pub buyers: &'a [Pubkey],
    /// Collateral not locked by other jobs.
    pub free_stake: u64,
    /// The chain clock.
    pub now: i64,
}

/// Why a job is not for us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    NotOpen,
    ClaimDeadlinePassed,
    NoFreeSlot,
    OwnJob,
    AlreadyHeld,
    Hardware,
    BelowPriceFloor,
    BuyerNotAllowed,
    NotEnoughFreeStake,
    /// Another of the program's rules.
    Chain(MarketError),
}

impl From<MarketError> for Refusal {
    fn from(e: MarketError) -> Self {
        match e {
            MarketError::JobNotOpen => Refusal::NotOpen,
            MarketError::ClaimDeadlinePassed => Refusal::ClaimDeadlinePassed,
            MarketError::NoFreeSlot => Refusal::NoFreeSlot,
            MarketError::BuyerCannotServe => Refusal::OwnJob,
            MarketError::AlreadyClaimed => Refusal::AlreadyHeld,
            MarketError::RequirementsNotMet => Refusal::Hardware,
            other => Refusal::Chain(other),
        }
    }
}

impl Refusal {
    /// Whether the job can never become claimable for us (free stake can come back).
    pub fn is_final(self) -> bool {
        self != Refusal::NotEnoughFreeStake
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::NotOpen => "not open",
            Refusal::ClaimDeadlinePassed => "claim deadline passed",
            Refusal::NoFreeSlot => "no free slot",
            Refusal::OwnJob => "our own job",
            Refusal::AlreadyHeld => "already holding a slot",
            Refusal::Hardware => "hardware does not meet the requirements",
            Refusal::BelowPriceFloor => "price below the floor",
            Refusal::BuyerNotAllowed => "buyer not in jobs.buyers",
            Refusal::NotEnoughFreeStake => "not enough free stake for the collateral",
            Refusal::Chain(e) => return write!(f, "refused by the program: {e}"),
        })
    }
}

/// Why `job` is not for us, or `None` if we should claim it: first the program's own claim
/// rules ([`Job::claimable_by`]), then the operator's.
pub fn refusal(job: &Job, offer: &Offer) -> Option<Refusal> {
    if let Err(e) = job.claimable_by(&offer.me, offer.hardware, offer.now) {
        return Some(Refusal::from(e));
    }
    Some(
        if job.price_per_replica.saturating_sub(job.fee_per_replica) < offer.price_floor {
            Refusal::BelowPriceFloor
        } else if !offer.buyers.is_empty() && !offer.buyers.contains(&job.buyer) {
            Refusal::BuyerNotAllowed
        } else if job.collateral_per_replica > offer.free_stake {
            Refusal::NotEnoughFreeStake
        } else {
            return None;
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_sdk::chain::JobState;

    fn job() -> Job {
        let mut j: Job = unsafe_default();
        j.state = JobState::Open;
        j.replicas = 3;
        j.quorum = 2;
        j.price_per_replica = 100;
        j.fee_per_replica = 5;
        j.collateral_per_replica = 50;
        j.claim_deadline = 1_000;
        j.buyer = Pubkey::new_unique();
        j
    }

    /// A job with every field zero (all of them have zero defaults).
    fn unsafe_default() -> Job {
        use anchor_lang::{AccountDeserialize, Discriminator, Space};
        let mut data = Job::DISCRIMINATOR.to_vec();
        data.resize(8 + Job::INIT_SPACE, 0);
        Job::try_deserialize(&mut data.as_slice()).expect("a zeroed job decodes")
    }

    #[test]
    fn each_rule_refuses_with_its_reason() {
        let me = Pubkey::new_unique();
        let hw = HardwareProfile {
            memory_mib: 4096,
            backend: concord_staking::backend::VULKAN,
            ..HardwareProfile::default()
        };
        let offer = Offer {
            me,
            hardware: &hw,
            price_floor: 90,
            buyers: &[],
            free_stake: 60,
            now: 500,
        };
        assert_eq!(refusal(&job(), &offer), None);
        type Change = Box<dyn Fn(&mut Job)>;
        let cases: Vec<(Change, Refusal)> = vec![
            (Box::new(|j| j.state = JobState::Running), Refusal::NotOpen),
            (
                Box::new(|j| j.claim_deadline = 499),
                Refusal::ClaimDeadlinePassed,
            ),
            (Box::new(|j| j.filled = 3), Refusal::NoFreeSlot),
            (Box::new(move |j| j.buyer = me), Refusal::OwnJob),
            (
                Box::new(move |j| {
                    j.filled = 1;
                    j.slots[0].provider = me;
                }),
                Refusal::AlreadyHeld,
            ),
            (
                Box::new(|j| j.requirements.min_memory_mib = 8192),
                Refusal::Hardware,
            ),
            (
                Box::new(|j| j.fee_per_replica = 20),
                Refusal::BelowPriceFloor,
            ),
            (
                Box::new(|j| j.collateral_per_replica = 61),
                Refusal::NotEnoughFreeStake,
            ),
        ];
        for (change, reason) in cases {
            let mut j = job();
            change(&mut j);
            assert_eq!(refusal(&j, &offer), Some(reason));
            assert_eq!(reason.is_final(), reason != Refusal::NotEnoughFreeStake);
        }
        let only = [Pubkey::new_unique()];
        let picky = Offer {
            buyers: &only,
            ..offer
        };
        assert_eq!(refusal(&job(), &picky), Some(Refusal::BuyerNotAllowed));
    }
}
