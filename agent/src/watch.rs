//! What the job subscription (`concord_sdk::chain::watch_jobs`) tells the agent: it wakes the
//! discovery loop when a job opens or begins a new draw round (other providers' claims do not
//! wake it: they cannot draw this one), and the task driving a job when that job changes; it
//! keeps the open jobs it has seen, so that while the subscription holds discovery reads them
//! here instead of listing every open job each pass, and the newest state of each job a task
//! drives ([`Watch::current`]), so that a task woken by a change, or by its timer, reads the
//! job here instead of from the node. Polling stays the fallback: while the subscription is
//! down, once after every (re)subscription, and every [`RESCAN`] as a safety net, discovery
//! lists the open jobs from the chain, and job tasks read their job from the node on every
//! pass (then at least once a second, since deadlines and turns pass without any account
//! changing).
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
    jobs: HashMap<Pubkey, OpenJob>,
    listed_at: Instant,
}

/// An open job, and the draw round found not to draw this provider, if it was: a verdict that
/// holds for the whole round, so discovery need not draw it again on every pass.
struct OpenJob {
    job: Job,
    not_drawn_in: Option<u16>,
}

impl OpenJob {
    fn judged(&self) -> bool {
        self.not_drawn_in == Some(self.job.draw_round)
    }
}

/// A job a task drives: its wake-up, and its newest state known (notified, or read while
/// subscribed).
#[derive(Default)]
struct Held {
    wake: Arc<Notify>,
    newest: Option<Kept>,
}

/// A job's state, the slot it is as of, and the subscription that vouches for it: only the
/// current one does (a state kept under an earlier one may have been overtaken while
/// notifications were down), so nothing needs forgetting when a subscription ends.
struct Kept {
    subscription: u64,
    slot: u64,
    job: Box<Job>,
}

impl Held {
    /// Keeps `job` as of `slot` in `subscription` unless that subscription keeps one as new
    /// or newer.
    fn keep(&mut self, subscription: u64, slot: u64, job: Box<Job>) {
        let older = |k: &Kept| k.subscription != subscription || slot >= k.slot;
        if self.newest.as_ref().is_none_or(older) {
            self.newest = Some(Kept {
                subscription,
                slot,
                job,
            });
        }
    }
}

/// Wake-ups and the job views fed by the subscription (inert when there is none).
#[derive(Default)]
pub struct Watch {
    discovery: Notify,
    jobs: Mutex<HashMap<Pubkey, Held>>,
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
                // Whatever changed while it was down: look now (and every job task too, which
                // reads its job from the node: what was kept is from an earlier subscription).
                self.discovery.notify_one();
                for held in self.jobs.lock().expect("lock").values() {
                    held.wake.notify_one();
                }
            }
            JobEvent::Changed { address, job, slot } => {
                metrics.job_notifications.inc();
                let open = job.state == JobState::Open;
                let round = job.draw_round;
                let news = match self.open.lock().expect("lock").as_mut() {
                    // Before a listing, any open job may be news.
                    None => open,
                    Some(view) if open => match view.jobs.get_mut(&address) {
                        Some(known) => {
                            let news = known.job.draw_round != round;
                            known.job = (*job).clone();
                            news
                        }
                        None => {
                            let job = OpenJob {
                                job: (*job).clone(),
                                not_drawn_in: None,
                            };
                            view.jobs.insert(address, job);
                            true
                        }
                    },
                    Some(view) => {
                        view.jobs.remove(&address);
                        false
                    }
                };
                if let Some(held) = self.jobs.lock().expect("lock").get_mut(&address) {
                    held.keep(self.generation.load(Ordering::SeqCst), slot, job);
                    held.wake.notify_one();
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

    /// The open jobs as notifications keep them that `pick` takes, oldest first, while that
    /// view is current; `None` when discovery must list them from the chain. `pick` sees every
    /// open job, and whether its current round was found not to draw this provider
    /// ([`Watch::not_drawn`]); only the jobs it takes are copied out.
    pub fn open_jobs(
        &self,
        mut pick: impl FnMut(&Pubkey, &Job, bool) -> bool,
    ) -> Option<Vec<(Pubkey, Job)>> {
        if !self.subscribed() {
            return None;
        }
        let open = self.open.lock().expect("lock");
        let view = open.as_ref().filter(|v| v.listed_at.elapsed() < RESCAN)?;
        let mut jobs: Vec<_> = view
            .jobs
            .iter()
            .filter(|(k, o)| pick(k, &o.job, o.judged()))
            .map(|(k, o)| (*k, o.job.clone()))
            .collect();
        jobs.sort_by_key(|(_, j)| (j.created_at, j.job_id));
        Some(jobs)
    }

    /// Records that `job`'s draw round `round` did not draw this provider (kept while the job
    /// stays in the view at that round).
    pub fn not_drawn(&self, job: &Pubkey, round: u16) {
        if let Some(view) = self.open.lock().expect("lock").as_mut() {
            if let Some(known) = view.jobs.get_mut(job) {
                if known.job.draw_round == round {
                    known.not_drawn_in = Some(round);
                }
            }
        }
    }

    /// A listing of the open jobs that began within subscription `began_in`
    /// ([`Watch::subscription`]): notifications keep it current from here, unless the
    /// subscription dropped meanwhile (changes may have been missed).
    pub fn listed(&self, began_in: Option<u64>, jobs: &[(Pubkey, Job)]) {
        if began_in.is_none() || began_in != self.subscription() {
            return;
        }
        let jobs = jobs
            .iter()
            .map(|(k, job)| {
                let job = OpenJob {
                    job: job.clone(),
                    not_drawn_in: None,
                };
                (*k, job)
            })
            .collect();
        *self.open.lock().expect("lock") = Some(OpenJobs {
            jobs,
            listed_at: Instant::now(),
        });
    }

    /// Waits until a job opens or begins a draw round, or `d` passes.
    pub async fn discovery_wakeup(&self, d: Duration) {
        notified_or(&self.discovery, d).await
    }

    /// Starts keeping `job`'s changes for its task (before its first read, so that no change
    /// after that read goes unseen).
    pub fn track(&self, job: &Pubkey) {
        self.jobs.lock().expect("lock").entry(*job).or_default();
    }

    /// `job` as read from the node at `slot`, the read having begun within subscription
    /// `began_in` ([`Watch::subscription`]): kept as its current state while that subscription
    /// lasts, since every change after it is notified.
    pub fn read(&self, job: &Pubkey, began_in: Option<u64>, slot: u64, state: &Job) {
        let Some(subscription) = began_in else {
            return;
        };
        if let Some(held) = self.jobs.lock().expect("lock").get_mut(job) {
            held.keep(subscription, slot, Box::new(state.clone()));
        }
    }

    /// `job`'s newest state and its slot, when the subscription vouches for it and it is as of
    /// `not_before` or later (a task passes the slot of the newest state it acted on, so that
    /// a notification older than a read never takes it back); `None`: read it from the node.
    pub fn current(&self, job: &Pubkey, not_before: u64) -> Option<(Job, u64)> {
        let subscription = self.subscription()?;
        let jobs = self.jobs.lock().expect("lock");
        let kept = jobs.get(job)?.newest.as_ref()?;
        (kept.subscription == subscription && kept.slot >= not_before)
            .then(|| ((*kept.job).clone(), kept.slot))
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
            .wake
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A watch fed by hand, as the subscription feeds it.
    struct Fed {
        watch: Watch,
        metrics: Arc<Metrics>,
    }

    impl Fed {
        fn new() -> Fed {
            let metrics = Metrics::new("test".into(), Duration::from_secs(1));
            Fed {
                watch: Watch::default(),
                metrics,
            }
        }

        fn on(&self, event: JobEvent) {
            self.watch.on(event, "ws://test", &self.metrics)
        }
    }

    fn open_job(round: u16) -> Job {
        Job {
            state: JobState::Open,
            draw_round: round,
            ..Job::default()
        }
    }

    fn changed(address: Pubkey, job: Job, slot: u64) -> JobEvent {
        JobEvent::Changed {
            address,
            job: Box::new(job),
            slot,
        }
    }

    fn round_of(watch: &Watch, address: &Pubkey, not_before: u64) -> Option<(u16, u64)> {
        watch
            .current(address, not_before)
            .map(|(j, slot)| (j.draw_round, slot))
    }

    /// A held job's newest state comes from notifications and reads made while subscribed;
    /// an older one never replaces a newer, and a drop or a resubscription forgets them all.
    #[test]
    fn a_held_job_is_kept_as_notified_only_while_the_subscription_vouches_for_it() {
        let fed = Fed::new();
        let (watch, on) = (&fed.watch, |e| fed.on(e));
        let (held, other) = (Pubkey::new_unique(), Pubkey::new_unique());
        watch.track(&held);

        // Before any subscription nothing is vouched for.
        on(changed(held, open_job(1), 10));
        assert_eq!(round_of(watch, &held, 0), None);

        on(JobEvent::Subscribed);
        assert_eq!(
            round_of(watch, &held, 0),
            None,
            "kept from before the subscription"
        );
        on(changed(held, open_job(2), 20));
        on(changed(other, open_job(9), 21));
        assert_eq!(round_of(watch, &held, 0), Some((2, 20)));
        assert_eq!(round_of(watch, &other, 0), None, "only held jobs are kept");
        // A task that acted on a state as of slot 25 does not go back to slot 20's.
        assert_eq!(round_of(watch, &held, 25), None);

        // A read within this subscription is kept; a late notification of an older slot is not.
        let began_in = watch.subscription();
        watch.read(&held, began_in, 30, &open_job(3));
        on(changed(held, open_job(2), 28));
        assert_eq!(round_of(watch, &held, 25), Some((3, 30)));
        on(changed(held, open_job(4), 31));
        assert_eq!(round_of(watch, &held, 30), Some((4, 31)));

        // A drop forgets, and a read begun before it is not kept after it.
        on(JobEvent::Dropped("closed".into()));
        assert_eq!(round_of(watch, &held, 0), None);
        on(JobEvent::Subscribed);
        watch.read(&held, began_in, 40, &open_job(5));
        assert_eq!(
            round_of(watch, &held, 0),
            None,
            "a read from the last subscription"
        );
        watch.read(&held, watch.subscription(), 41, &open_job(6));
        assert_eq!(round_of(watch, &held, 0), Some((6, 41)));
        // Resubscribing (a drop the listener never saw) forgets too.
        on(JobEvent::Subscribed);
        assert_eq!(round_of(watch, &held, 0), None);
        // And the earlier subscription's slot does not hold back this one's states.
        on(changed(held, open_job(8), 35));
        assert_eq!(round_of(watch, &held, 0), Some((8, 35)));

        watch.forget(&held);
        on(changed(held, open_job(7), 50));
        assert_eq!(
            round_of(watch, &held, 0),
            None,
            "a forgotten job is not kept"
        );
    }

    /// The open jobs discovery sees: a round found not to draw us stays judged through other
    /// changes of the job, until a new round begins; only the jobs `pick` takes are returned.
    #[test]
    fn a_round_that_did_not_draw_us_is_judged_until_the_next_one() {
        let fed = Fed::new();
        let (watch, on) = (&fed.watch, |e| fed.on(e));
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        let judged = |job: &Pubkey| {
            let mut seen = None;
            watch.open_jobs(|k, _, judged| {
                if k == job {
                    seen = Some(judged);
                }
                false
            });
            seen
        };
        assert!(watch.open_jobs(|_, _, _| true).is_none(), "not subscribed");
        on(JobEvent::Subscribed);
        assert!(watch.open_jobs(|_, _, _| true).is_none(), "not listed yet");
        watch.listed(watch.subscription(), &[(a, open_job(0)), (b, open_job(0))]);
        assert_eq!(judged(&a), Some(false));

        watch.not_drawn(&a, 1); // Not its round: ignored.
        assert_eq!(judged(&a), Some(false));
        watch.not_drawn(&a, 0);
        assert_eq!(judged(&a), Some(true));
        on(changed(a, open_job(0), 5));
        assert_eq!(
            judged(&a),
            Some(true),
            "another provider's claim, same round"
        );
        on(changed(a, open_job(1), 6));
        assert_eq!(judged(&a), Some(false), "a new round draws anew");

        let picked = watch.open_jobs(|k, _, _| *k == b).expect("a current view");
        assert_eq!(picked.len(), 1);
        assert_eq!(picked[0].0, b);
        let running = Job {
            state: JobState::Running,
            ..open_job(0)
        };
        on(changed(b, running, 7));
        assert_eq!(judged(&b), None, "no longer open");
    }
}
