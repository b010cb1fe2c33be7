//! The draw: which providers may take a job's slots, decided by chance weighted by stake, never
//! by the buyer or the providers. One definition for the program (`claim_slot` checks the
//! claimer against it), the SDK and the agent (who was drawn) and the Monte-Carlo simulation.
//!
//! - **Weights** live in a Fenwick tree ([`fenwick`]) per draw epoch in the `DrawSet` account:
//!   a draw seeded in epoch `e` uses the weights as they stood when `e` began, so stake that
//!   counts was in place before the seed existed.
//! - **Seed** of a job's draw round: [`round_seed`] = `SHA-256("concord-draw-v1" ‖ job ‖ round
//!   ‖ slot ‖ bank hash)`, where `(slot, bank hash)` is the first produced slot at or after the
//!   round's seed slot ([`seed_entry`], read from the SlotHashes sysvar). The seed slot lies
//!   after the transaction that fixes it, so nobody knows the seed when the round begins.
//! - **Candidates** ([`candidates`]): step `j` maps `u128(SHA-256(seed ‖ j)[..16]) mod total`
//!   through the tree to the provider whose weight interval holds it, with the offset inside
//!   that interval; repeated and skipped providers are passed over. At most [`MAX_DRAW_STEPS`]
//!   steps, so the work is bounded whatever the weights.
use solana_sha256_hasher::hashv;

/// Domain separator of a round's seed.
pub const DRAW_DOMAIN: &[u8] = b"concord-draw-v1";
/// Most hash steps one draw takes (each: one SHA-256, one tree descent of at most
/// log2(`MAX_DRAW_PROVIDERS`) steps, a comparison with at most `MAX_SLOTS` earlier picks).
pub const MAX_DRAW_STEPS: u16 = 64;
/// Slots between the transaction that starts a draw round and the slot whose bank hash seeds
/// it (a later leader rotation than the creating transaction's: 4 slots per leader).
pub const SEED_DELAY_SLOTS: u64 = 4;
/// Entries the SlotHashes sysvar keeps (about 3.4 minutes of slots).
pub const SLOT_HASHES_ENTRIES: usize = 512;

/// Why a round's seed cannot be read yet, or any more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedError {
    /// No slot at or after the seed slot has been produced yet.
    NotReady,
    /// The seed slot has left the SlotHashes window: the round can only be redrawn.
    Expired,
    /// The account data is not a SlotHashes sysvar.
    Malformed,
}

/// One drawn provider: its index in the draw set, the step that first picked it, and where in
/// its weight interval that step landed (a claim needs `offset` below the provider's current
/// weight: stake that left since the epoch began no longer counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub index: u32,
    pub step: u16,
    pub offset: u64,
}

/// The seed of draw round `round` of `job`, from the bank hash of `slot`.
pub fn round_seed(job: &[u8; 32], round: u16, slot: u64, bank_hash: &[u8; 32]) -> [u8; 32] {
    hashv(&[
        DRAW_DOMAIN,
        job,
        &round.to_le_bytes(),
        &slot.to_le_bytes(),
        bank_hash,
    ])
    .to_bytes()
}

/// Domain separator of a job's audit roll.
pub const AUDIT_DOMAIN: &[u8] = b"concord-audit-v1";

/// A job's audit roll, uniform in `0..10_000` (basis points): from the bank hash of its audit
/// seed slot, produced after every replica committed. The job is audited when the roll is
/// below its `audit_bps`. One SHA-256.
pub fn audit_roll(job: &[u8; 32], slot: u64, bank_hash: &[u8; 32]) -> u16 {
    let h = hashv(&[AUDIT_DOMAIN, job, &slot.to_le_bytes(), bank_hash]).to_bytes();
    let mut first = [0u8; 8];
    first.copy_from_slice(&h[..8]);
    (u64::from_le_bytes(first) % 10_000) as u16
}

/// The first produced slot at or after `seed_slot` and its bank hash, from the raw data of the
/// SlotHashes sysvar (a u64 count, then `(slot u64, hash [u8; 32])` entries, newest first).
/// Expired when even the oldest entry kept is after `seed_slot` (the slot may have aged out).
/// Binary search: at most log2(512) + 1 entry reads.
pub fn seed_entry(data: &[u8], seed_slot: u64) -> Result<(u64, [u8; 32]), SeedError> {
    const ENTRY: usize = 40;
    let count = data
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        .ok_or(SeedError::Malformed)?;
    let count = usize::try_from(count).map_err(|_| SeedError::Malformed)?;
    if count > SLOT_HASHES_ENTRIES || data.len() < 8 + count * ENTRY {
        return Err(SeedError::Malformed);
    }
    let entry = |i: usize| -> (u64, [u8; 32]) {
        let at = 8 + i * ENTRY;
        let slot = u64::from_le_bytes(data[at..at + 8].try_into().expect("8 bytes"));
        let hash: [u8; 32] = data[at + 8..at + ENTRY].try_into().expect("32 bytes");
        (slot, hash)
    };
    if count == 0 || entry(0).0 < seed_slot {
        return Err(SeedError::NotReady);
    }
    if entry(count - 1).0 > seed_slot {
        return Err(SeedError::Expired);
    }
    // Newest first: find the last index whose slot is still >= seed_slot.
    let (mut lo, mut hi) = (0usize, count - 1);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if entry(mid).0 >= seed_slot {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(entry(lo))
}

/// The point step `step` of a draw lands on, before reduction by the total weight.
fn point(seed: &[u8; 32], step: u16) -> u128 {
    let h = hashv(&[seed, &step.to_le_bytes()]).to_bytes();
    u128::from_le_bytes(h[..16].try_into().expect("16 bytes"))
}

/// The first `wanted` distinct providers the seed draws from `tree`, passing over those `skip`
/// names (the buyer, providers already holding a slot of the job). Fewer when the weights run
/// out or [`MAX_DRAW_STEPS`] steps did not find that many.
pub fn candidates(
    seed: &[u8; 32],
    tree: &[u64],
    wanted: usize,
    skip: impl Fn(u32) -> bool,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::with_capacity(wanted);
    let total = fenwick::total(tree);
    if total == 0 {
        return out;
    }
    for step in 0..MAX_DRAW_STEPS {
        if out.len() >= wanted {
            break;
        }
        let target = (point(seed, step) % u128::from(total)) as u64;
        let Some((index, offset)) = fenwick::find(tree, target) else {
            break;
        };
        let index = index as u32;
        if skip(index) || out.iter().any(|c| c.index == index) {
            continue;
        }
        out.push(Candidate {
            index,
            step,
            offset,
        });
    }
    out
}

/// A Fenwick (binary indexed) tree of u64 weights in a fixed array: element `i` (0-based) is
/// stored at 1-based position `i + 1`. Every operation takes at most log2(len) + 1 steps.
pub mod fenwick {
    /// Adds `delta` to element `index`; `None` on overflow (nothing is changed then, since the
    /// root sums every element and is checked first).
    pub fn add(tree: &mut [u64], index: usize, delta: u64) -> Option<()> {
        total(tree).checked_add(delta)?;
        let mut pos = index + 1;
        while pos <= tree.len() {
            tree[pos - 1] = tree[pos - 1].checked_add(delta)?;
            pos += pos & pos.wrapping_neg();
        }
        Some(())
    }

    /// Subtracts `delta` from element `index`; `None` if it holds less.
    pub fn sub(tree: &mut [u64], index: usize, delta: u64) -> Option<()> {
        if get(tree, index) < delta {
            return None;
        }
        let mut pos = index + 1;
        while pos <= tree.len() {
            tree[pos - 1] -= delta;
            pos += pos & pos.wrapping_neg();
        }
        Some(())
    }

    /// Sets element `index` to `weight`; `None` on overflow.
    pub fn set(tree: &mut [u64], index: usize, weight: u64) -> Option<()> {
        let old = get(tree, index);
        if weight >= old {
            add(tree, index, weight - old)
        } else {
            sub(tree, index, old - weight)
        }
    }

    /// The sum of the first `count` elements.
    pub fn prefix(tree: &[u64], count: usize) -> u64 {
        let mut pos = count.min(tree.len());
        let mut sum = 0u64;
        while pos > 0 {
            sum = sum.wrapping_add(tree[pos - 1]);
            pos &= pos - 1;
        }
        sum
    }

    /// Element `index`.
    pub fn get(tree: &[u64], index: usize) -> u64 {
        prefix(tree, index + 1).wrapping_sub(prefix(tree, index))
    }

    /// The sum of every element.
    pub fn total(tree: &[u64]) -> u64 {
        prefix(tree, tree.len())
    }

    /// The element whose interval `[prefix(i), prefix(i + 1))` holds `target`, and `target`'s
    /// offset inside it; `None` when `target` is not below the total.
    pub fn find(tree: &[u64], mut target: u64) -> Option<(usize, u64)> {
        let n = tree.len();
        if n == 0 {
            return None;
        }
        let mut pos = 0usize;
        let mut step = 1usize << (usize::BITS - 1 - n.leading_zeros());
        while step > 0 {
            let next = pos + step;
            if next <= n && tree[next - 1] <= target {
                pos = next;
                target -= tree[next - 1];
            }
            step >>= 1;
        }
        (pos < n).then_some((pos, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_of(weights: &[u64]) -> Vec<u64> {
        let mut t = vec![0; weights.len()];
        for (i, w) in weights.iter().enumerate() {
            fenwick::add(&mut t, i, *w).unwrap();
        }
        t
    }

    #[test]
    fn the_tree_maps_every_unit_to_its_owner() {
        let weights = [3u64, 0, 5, 1, 0, 0, 7, 2, 0, 4];
        let t = tree_of(&weights);
        assert_eq!(fenwick::total(&t), 22);
        let mut expected = Vec::new();
        for (i, w) in weights.iter().enumerate() {
            assert_eq!(fenwick::get(&t, i), *w);
            for o in 0..*w {
                expected.push((i, o));
            }
        }
        let found: Vec<_> = (0..22).map(|u| fenwick::find(&t, u).unwrap()).collect();
        assert_eq!(found, expected);
        assert_eq!(fenwick::find(&t, 22), None);
    }

    #[test]
    fn set_and_overflow_leave_the_tree_consistent() {
        let mut t = tree_of(&[1, 2, 3, 4]);
        fenwick::set(&mut t, 2, 10).unwrap();
        fenwick::set(&mut t, 0, 0).unwrap();
        assert_eq!(
            (0..4).map(|i| fenwick::get(&t, i)).collect::<Vec<_>>(),
            [0, 2, 10, 4]
        );
        assert_eq!(fenwick::add(&mut t, 1, u64::MAX), None);
        assert_eq!(fenwick::sub(&mut t, 1, 3), None);
        assert_eq!(fenwick::total(&t), 16);
    }

    fn slot_hashes(entries: &[(u64, u8)]) -> Vec<u8> {
        let mut d = (entries.len() as u64).to_le_bytes().to_vec();
        for (slot, h) in entries {
            d.extend_from_slice(&slot.to_le_bytes());
            d.extend_from_slice(&[*h; 32]);
        }
        d
    }

    #[test]
    fn the_seed_is_the_first_produced_slot_at_or_after_the_seed_slot() {
        // Slots 14 and 12 were skipped.
        let d = slot_hashes(&[(16, 6), (15, 5), (13, 3), (11, 1), (10, 0)]);
        assert_eq!(seed_entry(&d, 12), Ok((13, [3; 32])));
        assert_eq!(seed_entry(&d, 13), Ok((13, [3; 32])));
        assert_eq!(seed_entry(&d, 10), Ok((10, [0; 32])));
        assert_eq!(seed_entry(&d, 16), Ok((16, [6; 32])));
        assert_eq!(seed_entry(&d, 17), Err(SeedError::NotReady));
        assert_eq!(seed_entry(&d, 9), Err(SeedError::Expired));
        assert_eq!(seed_entry(&d[..20], 9), Err(SeedError::Malformed));
    }

    #[test]
    fn candidates_are_distinct_skip_whom_they_must_and_follow_the_weights() {
        let t = tree_of(&[100, 0, 300, 600]);
        let picks = candidates(&[7; 32], &t, 3, |_| false);
        let mut idx: Vec<u32> = picks.iter().map(|c| c.index).collect();
        idx.sort();
        assert_eq!(idx, [0, 2, 3], "the zero weight is never drawn");
        let none_of_3 = candidates(&[7; 32], &t, 3, |i| i == 3);
        assert_eq!(none_of_3.len(), 2);
        assert!(none_of_3.iter().all(|c| c.index != 3));
        // Over many seeds the first pick follows the weights.
        let mut hits = [0u32; 4];
        for s in 0..4000u32 {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&s.to_le_bytes());
            let c = candidates(&seed, &t, 1, |_| false)[0];
            assert!(c.offset < [100, 0, 300, 600][c.index as usize]);
            hits[c.index as usize] += 1;
        }
        assert_eq!(hits[1], 0);
        assert!((300..500).contains(&hits[0]), "{hits:?}");
        assert!((2200..2600).contains(&hits[3]), "{hits:?}");
    }
}
