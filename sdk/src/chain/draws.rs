//! The draws as a client sees them: the draw set decoded from its account, the SlotHashes
//! sysvar read through RPC, and [`DrawView`], which tells a provider whether the current round
//! of a job drew it: the program's own rule (`Job::drawn`), run off chain.
use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use concord_market::draw::Candidate;
use concord_market::errors::MarketError;
use concord_market::{DrawEntry, DrawSet, Job};

use super::accounts::Chain;
use super::errors::ChainError;
use super::{ix, pda};

/// Decodes a draw set from its account data (discriminator first), boxed: it is 56 KiB.
pub fn decode_draw_set(address: &Pubkey, data: &[u8]) -> Result<Box<DrawSet>, ChainError> {
    let wrong = |reason: &str| ChainError::WrongAccount {
        address: *address,
        reason: reason.to_string(),
    };
    let body = data
        .strip_prefix(DrawSet::DISCRIMINATOR)
        .ok_or_else(|| wrong("not a draw set (discriminator)"))?;
    let size = std::mem::size_of::<DrawSet>();
    if body.len() < size {
        return Err(wrong("a draw set account too short"));
    }
    let mut set: Box<DrawSet> = bytemuck::zeroed_box();
    bytemuck::bytes_of_mut(&mut *set).copy_from_slice(&body[..size]);
    Ok(set)
}

/// What the current round of a job means for one provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Turn {
    /// Drawn: it may claim a slot now.
    Drawn(Candidate),
    /// Not drawn in this round (another round may draw it).
    NotDrawn,
    /// The round's seed slot has not been produced yet.
    Wait,
    /// The round can no longer be read: only a new round (`redraw`) can fill the job.
    Expired,
}

/// A provider's view of the draws at one moment: the draw set, the SlotHashes sysvar, and
/// the provider's own place and weight.
pub struct DrawView {
    pub set: Box<DrawSet>,
    pub slot_hashes: Vec<u8>,
    /// The provider's index in the draw set (none before it joined).
    pub index: Option<u32>,
    /// The provider's draw weight now (`Provider::draw_weight`).
    pub weight: u64,
}

impl DrawView {
    /// What `job`'s current round means for this provider: `Job::drawn`, as `claim_slot` runs it.
    pub fn turn(&self, address: &Pubkey, job: &Job) -> Turn {
        match job.drawn(address, &self.set, &self.slot_hashes) {
            Ok(drawn) => match drawn.iter().find(|c| Some(c.index) == self.index) {
                Some(c) if c.offset < self.weight => Turn::Drawn(*c),
                _ => Turn::NotDrawn,
            },
            Err(e) if is(&e, MarketError::DrawNotReady) => Turn::Wait,
            Err(_) => Turn::Expired,
        }
    }

    /// Whether this provider's live weight in the draw set differs from its stake's draw weight
    /// (after a slash, an unbonding request, a deposit): then `sync_draw_weight` is due.
    pub fn weight_drifted(&self) -> bool {
        self.index.is_some_and(|i| {
            concord_market::draw::fenwick::get(&self.set.live, i as usize) != self.weight
        })
    }

    /// The authorities `job`'s current round drew, in draw order (empty when it cannot be read).
    pub fn drawn(&self, address: &Pubkey, job: &Job) -> Vec<Pubkey> {
        job.drawn(address, &self.set, &self.slot_hashes)
            .map(|cs| {
                cs.iter()
                    .map(|c| self.set.authorities[c.index as usize])
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn is(e: &anchor_lang::error::Error, code: MarketError) -> bool {
    matches!(e, anchor_lang::error::Error::AnchorError(a) if a.error_code_number == u32::from(code))
}

impl Chain {
    /// The market's draw set.
    pub async fn draw_set(&self, address: &Pubkey) -> Result<Box<DrawSet>, ChainError> {
        let data = self
            .account_data(address)
            .await?
            .0
            .ok_or_else(|| ChainError::NotFound(format!("the draw set {address}")))?;
        decode_draw_set(address, &data)
    }

    /// The SlotHashes sysvar's raw data.
    pub async fn slot_hashes(&self) -> Result<Vec<u8>, ChainError> {
        self.account_data(&ix::SLOT_HASHES)
            .await?
            .0
            .ok_or_else(|| ChainError::NotFound("the SlotHashes sysvar".into()))
    }

    /// Waits (polling every 200 ms, at most `limit`) until a draw epoch has begun since the
    /// draw set's last weight edit: a job created from then on draws with every weight set so
    /// far (joins and syncs count from the next epoch).
    pub async fn wait_for_draw_epoch(
        &self,
        draw_set: &Pubkey,
        limit: std::time::Duration,
    ) -> Result<(), ChainError> {
        let start = std::time::Instant::now();
        loop {
            let set = self.draw_set(draw_set).await?;
            let slot = self.slot().await?;
            if set.epoch_of(slot) > set.epoch {
                return Ok(());
            }
            if start.elapsed() > limit {
                return Err(ChainError::Timeout(format!(
                    "no new draw epoch within {} s (the draw set's epoch is {}, the cluster at slot {slot})",
                    limit.as_secs(),
                    set.epoch
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// `authority`'s draw entry, if it joined the draws.
    pub async fn draw_entry(&self, authority: &Pubkey) -> Result<Option<DrawEntry>, ChainError> {
        self.fetch(&pda::draw_entry(authority)).await
    }

    /// The draws as anyone sees them now (no provider of one's own: `index` none, `weight` 0):
    /// the draw set and SlotHashes, read concurrently.
    pub async fn draws(&self, draw_set: &Pubkey) -> Result<DrawView, ChainError> {
        let (set, slot_hashes) = tokio::try_join!(self.draw_set(draw_set), self.slot_hashes())?;
        Ok(DrawView {
            set,
            slot_hashes,
            index: None,
            weight: 0,
        })
    }

    /// The draws as `authority` sees them now: [`Chain::draws`] with its draw entry and its
    /// provider account, all four read concurrently.
    pub async fn draw_view(
        &self,
        draw_set: &Pubkey,
        authority: &Pubkey,
    ) -> Result<DrawView, ChainError> {
        let provider_address = pda::provider(authority);
        let (view, entry, provider) = tokio::try_join!(
            self.draws(draw_set),
            self.draw_entry(authority),
            self.fetch::<concord_staking::Provider>(&provider_address),
        )?;
        Ok(DrawView {
            index: entry.map(|e| e.index),
            weight: provider.map_or(0, |p| p.draw_weight()),
            ..view
        })
    }
}

/// Creates the draw set account (a fresh keypair, rent-exempt at the cluster's rate) and
/// initializes the market with it, in one transaction paid and signed by the sender's payer
/// as admin. Returns the signature and the draw set's address.
#[allow(clippy::too_many_arguments)]
pub async fn initialize_market(
    sender: &super::Sender,
    admin: &Pubkey,
    payment_mint: &Pubkey,
    token_program: &Pubkey,
    treasury: &Pubkey,
    params: concord_market::MarketParams,
    draw_epoch_slots: u64,
) -> Result<(solana_sdk::signature::Signature, Pubkey), ChainError> {
    use solana_sdk::signer::Signer;
    let draw_set = solana_sdk::signature::Keypair::new();
    let rent = sender
        .rpc
        .get_minimum_balance_for_rent_exemption(DrawSet::SPACE)
        .await
        .map_err(|e| super::RpcFailure::chain_error(&sender.rpc.url(), e))?;
    let ixs = [
        ix::create_draw_set(admin, &draw_set.pubkey(), rent),
        ix::initialize_market(
            admin,
            payment_mint,
            token_program,
            treasury,
            &draw_set.pubkey(),
            params,
            draw_epoch_slots,
        ),
    ];
    let sig = sender.send(&ixs, &[&draw_set]).await?;
    Ok((sig, draw_set.pubkey()))
}
