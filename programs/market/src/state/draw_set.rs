//! The draw set: every provider that joined the draws, with its draw weight (bonded stake while
//! accepting jobs) in three Fenwick trees: `live` (edited now), `snapshot` (as the set's epoch
//! began) and `previous` (as the epoch before began). A draw seeded in epoch `e` reads the
//! weights as `e` began ([`DrawSet::weights_at`]): edits in `e` count from `e + 1` on, so
//! nobody can add stake once a seed is known. Zero-copy, created by the admin at its full
//! size (over the 10 KiB an instruction may allocate) and handed to `initialize_market`.
//!
//! Worst-case work: an edit rolls the epochs (two 8 KiB copies) and walks one tree
//! (log2(1024) + 1 steps); reads never write, so claims take no write lock on it.
use anchor_lang::prelude::*;

use crate::draw::fenwick;
use crate::errors::MarketError;

/// Most providers the draw set holds (its size is fixed at creation).
pub const MAX_DRAW_PROVIDERS: usize = 1024;
/// Slots per draw epoch that `concord market init` proposes (about a minute at 400 ms a
/// slot): stake takes at most this long to count in the draws.
pub const DEFAULT_DRAW_EPOCH_SLOTS: u64 = 150;
/// Seed of a provider's draw entry PDA: `[DRAW_ENTRY_SEED, provider authority]`.
pub const DRAW_ENTRY_SEED: &[u8] = b"draw-entry";

#[account(zero_copy)]
pub struct DrawSet {
    /// Slots per draw epoch.
    pub epoch_slots: u64,
    /// The epoch of the last edit: `snapshot` holds the weights as it began, `previous` as the
    /// epoch before began.
    pub epoch: u64,
    /// Providers joined so far (indices `0..len` are in use; an index is never reused).
    pub len: u32,
    pub padding: u32,
    /// Each index's provider authority (wallet).
    pub authorities: [Pubkey; MAX_DRAW_PROVIDERS],
    pub live: [u64; MAX_DRAW_PROVIDERS],
    pub snapshot: [u64; MAX_DRAW_PROVIDERS],
    pub previous: [u64; MAX_DRAW_PROVIDERS],
}

impl DrawSet {
    /// Account size, discriminator included.
    pub const SPACE: usize = 8 + std::mem::size_of::<DrawSet>();

    /// The draw epoch of `slot`.
    pub fn epoch_of(&self, slot: u64) -> u64 {
        slot / self.epoch_slots.max(1)
    }

    /// Brings the snapshots up to `slot`'s epoch; called before every edit, so a snapshot is
    /// always the live weights as its epoch began.
    pub fn roll(&mut self, slot: u64) {
        let now = self.epoch_of(slot);
        if now <= self.epoch {
            return;
        }
        if now == self.epoch + 1 {
            self.previous.copy_from_slice(&self.snapshot);
        } else {
            self.previous.copy_from_slice(&self.live);
        }
        self.snapshot.copy_from_slice(&self.live);
        self.epoch = now;
    }

    /// The weights as `epoch` began, if the set still knows them: the live tree when nothing
    /// was edited since, a snapshot for the last two epochs edited, none for older epochs.
    pub fn weights_at(&self, epoch: u64) -> Option<&[u64; MAX_DRAW_PROVIDERS]> {
        if self.epoch < epoch {
            Some(&self.live)
        } else if self.epoch == epoch {
            Some(&self.snapshot)
        } else if self.epoch == epoch + 1 {
            Some(&self.previous)
        } else {
            None
        }
    }

    /// Appends `authority`, returning its index.
    pub fn push(&mut self, authority: Pubkey) -> Result<u32> {
        let index = self.len;
        require!(
            (index as usize) < MAX_DRAW_PROVIDERS,
            MarketError::DrawSetFull
        );
        self.authorities[index as usize] = authority;
        self.len += 1;
        Ok(index)
    }

    /// Sets `index`'s live weight at `slot` (it counts for draws seeded from the next epoch).
    pub fn set_weight(&mut self, index: u32, weight: u64, slot: u64) -> Result<()> {
        require!(index < self.len, MarketError::DrawSetMismatch);
        self.roll(slot);
        fenwick::set(&mut self.live, index as usize, weight).ok_or(MarketError::MathOverflow)?;
        Ok(())
    }

    /// What every edit leaves true: the index count is within the capacity, and no weight sits
    /// past it.
    pub fn invariant(&self) -> Result<()> {
        let len = self.len as usize;
        let ok = len <= MAX_DRAW_PROVIDERS
            && self.epoch_slots > 0
            && fenwick::prefix(&self.live, len) == fenwick::total(&self.live);
        require!(ok, MarketError::InvariantViolated);
        Ok(())
    }
}

/// A provider's place in the draw set (one per provider authority, so nobody joins twice).
#[account]
#[derive(InitSpace, Debug)]
pub struct DrawEntry {
    pub authority: Pubkey,
    pub index: u32,
    pub bump: u8,
}
