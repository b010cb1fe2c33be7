//! Which open jobs this provider may and wants to claim: the chain's own rules checked early
//! (open, before the claim deadline, a free slot, not the buyer, not already held, hardware
//! requirements) and the operator's (price floor, buyer allowlist, free collateral).
use concord_client::chain::{HardwareProfile, Job, JobState};
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

/// Why `job` is not for us, or `None` if we should claim it.
pub fn refusal(job: &Job, offer: &Offer) -> Option<String> {
    let slots = &job.slots[..usize::from(job.filled)];
    let reason = if job.state != JobState::Open {
        "not open".to_string()
    } else if offer.now > job.claim_deadline {
        "claim deadline passed".into()
    } else if job.filled >= job.replicas {
        "no free slot".into()
    } else if job.buyer == offer.me {
        "our own job".into()
    } else if slots.iter().any(|s| s.provider == offer.me) {
        "already holding a slot".into()
    } else if !job.requirements.accepts(offer.hardware) {
        "hardware does not meet the requirements".into()
    } else if job.price_per_replica.saturating_sub(job.fee_per_replica) < offer.price_floor {
        "price below the floor".into()
    } else if !offer.buyers.is_empty() && !offer.buyers.contains(&job.buyer) {
        "buyer not in jobs.buyers".into()
    } else if job.collateral_per_replica > offer.free_stake {
        "not enough free stake for the collateral".into()
    } else {
        return None;
    };
    Some(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|j| j.state = JobState::Running), "not open"),
            (Box::new(|j| j.claim_deadline = 499), "deadline"),
            (Box::new(|j| j.filled = 3), "no free slot"),
            (Box::new(move |j| j.buyer = me), "own job"),
            (
                Box::new(move |j| {
                    j.filled = 1;
                    j.slots[0].provider = me;
                }),
                "already holding",
            ),
            (
                Box::new(|j| j.requirements.min_memory_mib = 8192),
                "hardware",
            ),
            (Box::new(|j| j.fee_per_replica = 20), "floor"),
            (Box::new(|j| j.collateral_per_replica = 61), "free stake"),
        ];
        for (change, reason) in cases {
            let mut j = job();
            change(&mut j);
            let got = refusal(&j, &offer).unwrap_or_default();
            assert!(got.contains(reason), "expected `{reason}`, got `{got}`");
        }
        let only = [Pubkey::new_unique()];
        let picky = Offer {
            buyers: &only,
            ..offer
        };
        assert!(refusal(&job(), &picky).unwrap().contains("jobs.buyers"));
    }
}
