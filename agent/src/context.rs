//! What every part of a running agent shares: its config, keys, chain client and sender,
//! payment mint, journal, metrics, executor and adapter, the GPU permit, the shutdown signal,
//! and the bookkeeping of which jobs have a task; with the retrying chain call, the job
//! content fetch, the shared clock and the redraw (when it is due, and sending it) that all
//! parts use.
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use concord_compute::executor::{AdapterSummary, Executor};
use concord_sdk::blob_cache::BlobCache;
use concord_sdk::chain::{Chain, ChainError, HardwareProfile, Job, Mint, Sender};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;
use tokio::sync::{watch, Semaphore};
use tracing::warn;

use crate::config::Config;
use crate::fetch::{open_job_store, prepare, FetchError, Prepared};
use crate::journal::Journal;
use crate::metrics::Metrics;
use crate::watch::Watch;

/// Everything a job task needs, shared.
pub struct Agent {
    pub config: Config,
    pub me: Pubkey,
    pub keypair: Arc<Keypair>,
    /// Commitments and salts (the provider engine's view of the key).
    pub identity: concord_provider::Identity,
    pub chain: Chain,
    pub sender: Sender,
    /// The market's draw set (from its config).
    pub draw_set: Pubkey,
    /// The market's take window, in seconds: a draw round older than this may be redrawn.
    pub take_window: i64,
    /// This provider's index in the draw set, known once it joined (at start).
    pub draw_index: std::sync::OnceLock<u32>,
    pub mint: Mint,
    pub journal: Journal,
    pub metrics: Arc<Metrics>,
    pub executor: Executor,
    pub adapter: AdapterSummary,
    pub hardware: HardwareProfile,
    /// `jobs.price_floor` in base units.
    pub price_floor: u64,
    /// `jobs.buyers`: serve only these buyers; anyone when empty.
    pub buyers: Vec<Pubkey>,
    /// One job on the GPU at a time.
    pub gpu: Semaphore,
    pub shutdown: watch::Receiver<bool>,
    /// Jobs with a running task.
    pub active: Mutex<HashSet<Pubkey>>,
    /// Open jobs decided against for good (refused, unfetchable, claim refused).
    pub passed_over: Mutex<HashSet<Pubkey>>,
    /// Draw rounds this agent is sending `redraw` for (job, round), while the send lasts.
    pub redrawing: Mutex<HashSet<(Pubkey, u16)>>,
    /// Job notifications: wake-ups and the open jobs they keep current.
    pub watch: Arc<Watch>,
    /// Blobs kept between jobs (none when `store.cache_max_bytes` is 0).
    pub blob_cache: Option<BlobCache>,
    /// The cache's hits and misses already counted in the metrics.
    pub cache_counted: Mutex<(u64, u64)>,
    /// The chain's clock as last read, and when ([`Agent::clock`]).
    pub clock_read: tokio::sync::Mutex<Option<(i64, Instant)>>,
}

/// How long one reading of the chain's clock serves every task: its seconds advance once a
/// slot at most, and hundreds of held jobs each reading it would be load on the node.
const CLOCK_FRESH: Duration = Duration::from_millis(400);

impl Agent {
    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Sleeps `d`, or less if shutdown begins.
    pub async fn pause(&self, d: Duration) {
        self.pause_until(tokio::time::sleep(d)).await
    }

    /// Waits for `wake` (a [`Watch`] wake-up), or less if shutdown begins.
    pub async fn pause_until(&self, wake: impl std::future::Future<Output = ()>) {
        let mut rx = self.shutdown.clone();
        tokio::select! {
            _ = wake => {}
            _ = rx.wait_for(|s| *s) => {}
        }
    }

    /// The chain's clock (unix seconds), read from the node at most once per [`CLOCK_FRESH`]
    /// for all tasks (those that ask meanwhile wait for the one read).
    pub async fn clock(&self) -> Result<i64, ChainError> {
        let mut last = self.clock_read.lock().await;
        if let Some((now, at)) = *last {
            if at.elapsed() < CLOCK_FRESH {
                return Ok(now);
            }
        }
        let now = self.chain.unix_timestamp().await?;
        *last = Some((now, Instant::now()));
        Ok(now)
    }

    /// Begins `job`'s draw round after `round` (`redraw`), logging what came of it; whether it
    /// landed (refused: someone else was first, or the round is not due).
    pub async fn redraw(&self, job: &Pubkey, round: u16) -> bool {
        let redraw = concord_sdk::chain::ix::redraw(job, &self.draw_set);
        match self.sender.send(&[redraw], &[]).await {
            Ok(sig) => {
                tracing::info!(job = %job, round = round + 1, signature = %sig, "began a new draw round");
                true
            }
            Err(e) => {
                tracing::debug!(job = %job, error = %e, "redraw refused");
                false
            }
        }
    }

    /// Runs a chain call, retrying RPC failures and timeouts with backoff (up to 15 s apart)
    /// until it succeeds, the program refuses, or shutdown begins.
    pub async fn retry<T, F, Fut>(&self, what: &str, mut call: F) -> Result<T, ChainError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ChainError>>,
    {
        let mut delay = Duration::from_millis(250);
        loop {
            match call().await {
                Err(e @ (ChainError::Rpc(_) | ChainError::Timeout(_))) => {
                    self.metrics.rpc_errors.inc();
                    warn!(what, error = %e, retry_in_ms = delay.as_millis() as u64, "RPC call failed");
                    if self.shutting_down() {
                        return Err(e);
                    }
                    self.pause(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(15));
                }
                other => return other,
            }
        }
    }

    /// Opens the job's store under our policy and fetches its content.
    pub async fn fetch(&self, job: &concord_sdk::chain::Job) -> Result<Prepared, FetchError> {
        let store = open_job_store(
            &job.manifest_uri,
            &self.config.store,
            self.config.jobs.max_job_bytes,
        )
        .await?;
        let prepared = prepare(
            &store,
            &job.manifest_hash,
            self.config.jobs.max_job_bytes,
            self.blob_cache.as_ref(),
        )
        .await;
        self.count_cache_use();
        prepared
    }

    /// Adds the blob cache's hits and misses since the last call to the metrics.
    fn count_cache_use(&self) {
        let Some(cache) = &self.blob_cache else {
            return;
        };
        let mut counted = self.cache_counted.lock().unwrap_or_else(|e| e.into_inner());
        let (hits, misses) = (cache.hits(), cache.misses());
        self.metrics.blob_cache_hits.inc_by(hits - counted.0);
        self.metrics.blob_cache_misses.inc_by(misses - counted.1);
        *counted = (hits, misses);
    }
}

/// Whether this provider should begin `job`'s next draw round at `now`: once the round has had
/// its take window if it holds the first slot (`first_holder`, from its job task) or nobody
/// holds a slot, and half a take window later otherwise (the fallback, should the first holder
/// not), so that one transaction, not one from every agent watching, moves the job on.
pub fn redraw_due(job: &Job, now: i64, take_window: i64, first_holder: bool) -> bool {
    let grace = if first_holder || job.filled_slots().is_empty() {
        0
    } else {
        take_window / 2
    };
    job.check_redraw(now, take_window).is_ok()
        && now
            >= job
                .round_started_at
                .saturating_add(take_window)
                .saturating_add(grace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_sdk::chain::JobState;

    /// A lapsed round is redrawn by its first slot's holder, or by anyone when nobody holds a
    /// slot, once its take window passed; others wait half a window more; and never before
    /// the window, or once the job is not open.
    #[test]
    fn others_redraw_at_once_only_when_nobody_holds_a_slot() {
        let take = 8;
        let mut job = Job {
            state: JobState::Open,
            round_started_at: 1_000,
            claim_deadline: 10_000,
            ..Job::default()
        };
        let others = |job: &Job, now| redraw_due(job, now, take, false);
        let first = |job: &Job, now| redraw_due(job, now, take, true);
        assert!(!others(&job, 1_007), "before the take window");
        assert!(!first(&job, 1_007), "before the take window");
        assert!(others(&job, 1_008), "nobody holds a slot");
        job.filled = 1;
        assert!(first(&job, 1_008), "the first holder at once");
        assert!(!others(&job, 1_008), "the holder's turn first");
        assert!(!others(&job, 1_011));
        assert!(others(&job, 1_012), "half a window later");
        job.state = JobState::Running;
        assert!(!others(&job, 1_012), "not open");
        assert!(!first(&job, 1_012), "not open");
    }
}
