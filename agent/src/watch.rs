//! What the job subscription (`concord_sdk::chain::watch_jobs`) tells the agent: it wakes the
//! discovery loop when a job opens or begins a new draw round (other providers' claims do not
//! wake it: they cannot draw this one), and the task driving a job when that job changes, and it keeps the open jobs it has seen, so that while the subscription holds
//! discovery reads them here instead of listing every open job each pass. Polling stays the
//! fallback: while the subscription is down, once after every (re)subscription, and every
//! [`RESCAN`] as a safety net, discovery lists the open jobs from the chain; job tasks still
//! re-read their job at least once a second, since deadlines and turns pass without any
//! account changing.
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use concord_sdk::chain::{watch_jobs, Job, JobEvent, JobState};
use solana_commitment_config::CommitmentConfig;
use solana_sdk::pubkey::Pubkey;
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::metrics::Metrics;

/// How long a listing of open jobs is trusted while notifications keep it current.
pub const RESCAN: Duration = Duration::from_secs(30);

/// The open jobs the subscription keeps current, and when they were last listed in full.
struct OpenJobs {
    jobs: HashMap<Pubkey, Job>,
    listed_at: Instant,
}

/// Wake-ups and the open-job view fed by the subscription (inert when there is none).
#[derive(Default)]
pub struct Watch {
    discovery: Notify,
    jobs: Mutex<HashMap<Pubkey, Arc<Notify>>>,
    subscribed: AtomicBool,
    /// Subscriptions made so far (a listing is trusted only within the one it began in).
    generation: AtomicU64,
    /// `None` until a listing made while subscribed, and again after each drop.
    open: Mutex<Option<OpenJobs>>,
}

impl Watch {
    /// Subscribes to job notifications at `pubsub_url` (none: polling only) and feeds them in.
    pub fn start(
        pubsub_url: Option<String>,
        commitment: CommitmentConfig,
        metrics: Arc<Metrics>,
    ) -> Arc<Watch> {
        let watch = Arc::new(Watch::default());
        let Some(url) = pubsub_url else {
            info!("job notifications off (pubsub_url = \"off\"): polling only");
            return watch;
        };
        let mut events = watch_jobs(url.clone(), commitment);
        let fed = watch.clone();
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                fed.on(event, &url, &metrics);
            }
        });
        watch
    }

    fn on(&self, event: JobEvent, url: &str, metrics: &Metrics) {
        match event {
            JobEvent::Subscribed => {
                metrics.job_subscriptions.inc();
                *self.open.lock().expect("lock") = None;
                let again = self.generation.fetch_add(1, Ordering::SeqCst) > 0;
                self.subscribed.store(true, Ordering::SeqCst);
                if again {
                    info!(url, "resubscribed to job notifications");
                } else {
                    info!(url, "subscribed to job notifications");
                }
                // Whatever changed while it was down: look now (and every job task too).
                self.discovery.notify_one();
                for n in self.jobs.lock().expect("lock").values() {
                    n.notify_one();
                }
            }
            JobEvent::Changed(address, job) => {
                metrics.job_notifications.inc();
                let open = job.state == JobState::Open;
                let round = job.draw_round;
                let news = match self.open.lock().expect("lock").as_mut() {
                    // Before a listing, any open job may be news.
                    None => open,
                    Some(view) if open => view
                        .jobs
                        .insert(address, *job)
                        .is_none_or(|before| before.draw_round != round),
                    Some(view) => {
                        view.jobs.remove(&address);
                        false
                    }
                };
                if let Some(n) = self.jobs.lock().expect("lock").get(&address) {
                    n.notify_one();
                }
                if news {
                    self.discovery.notify_one();
                }
            }
            JobEvent::Dropped(reason) => {
                metrics.job_subscription_drops.inc();
                self.subscribed.store(false, Ordering::SeqCst);
                *self.open.lock().expect("lock") = None;
                warn!(reason, "job notifications down; polling until resubscribed");
            }
        }
    }

    /// Whether notifications are arriving now.
    pub fn subscribed(&self) -> bool {
        self.subscribed.load(Ordering::SeqCst)
    }

    /// The current subscription, while there is one (read before listing open jobs, for
    /// [`Watch::listed`]).
    pub fn subscription(&self) -> Option<u64> {
        self.subscribed()
            .then(|| self.generation.load(Ordering::SeqCst))
    }

    /// The open jobs as notifications keep them, oldest first, while that view is current;
    /// `None` when discovery must list them from the chain.
    pub fn open_jobs(&self) -> Option<Vec<(Pubkey, Job)>> {
        if !self.subscribed() {
            return None;
        }
        let open = self.open.lock().expect("lock");
        let view = open.as_ref().filter(|v| v.listed_at.elapsed() < RESCAN)?;
        let mut jobs: Vec<_> = view.jobs.iter().map(|(k, j)| (*k, j.clone())).collect();
        jobs.sort_by_key(|(_, j)| (j.created_at, j.job_id));
        Some(jobs)
    }

    /// A listing of the open jobs that began within subscription `began_in`
    /// ([`Watch::subscription`]): notifications keep it current from here, unless the
    /// subscription dropped meanwhile (changes may have been missed).
    pub fn listed(&self, began_in: Option<u64>, jobs: &[(Pubkey, Job)]) {
        if began_in.is_none() || began_in != self.subscription() {
            return;
        }
        *self.open.lock().expect("lock") = Some(OpenJobs {
            jobs: jobs.iter().cloned().collect(),
            listed_at: Instant::now(),
        });
    }

    /// Waits until a job opens or begins a draw round, or `d` passes.
    pub async fn discovery_wakeup(&self, d: Duration) {
        notified_or(&self.discovery, d).await
    }

    /// Waits until `job` changes, or `d` passes (a change seen while its task was busy wakes
    /// the next wait at once).
    pub async fn job_wakeup(&self, job: &Pubkey, d: Duration) {
        let notify = self
            .jobs
            .lock()
            .expect("lock")
            .entry(*job)
            .or_default()
            .clone();
        notified_or(&notify, d).await
    }

    /// Stops tracking `job` (its task ended).
    pub fn forget(&self, job: &Pubkey) {
        self.jobs.lock().expect("lock").remove(job);
    }
}

/// Waits for `notify` (a permit stored while nobody waited counts), or `d`.
async fn notified_or(notify: &Notify, d: Duration) {
    tokio::select! {
        _ = notify.notified() => {}
        _ = tokio::time::sleep(d) => {}
    }
}
