//! Finding work: jobs held on chain without a journal record (adopted), and the discovery pass
//! that lists open jobs, applies the claim rules and the operator's, asks the draw whether
//! this provider was drawn (`DrawView::turn`, the program's own rule), and starts a claim task
//! for each job it takes; a job whose draw round had its take window gets a new round
//! (`redraw`, sent in a task of its own, half a take window after the first slot's holder
//! would have sent it from its job task), so offline providers never stall it. Tasks are
//! spawned through [`Tasks`], one per job.
use std::sync::Arc;
use std::time::{Duration, Instant};

use concord_sdk::chain::{ix, ChainError, DrawView, Job, JobFilter, JobState, Turn};
use solana_sdk::pubkey::Pubkey;
use tokio::task::JoinSet;
use tracing::warn;

use crate::context::{redraw_due, Agent};
use crate::eligibility::{refusal, Offer};
use crate::fetch::Prepared;
use crate::journal::Entry;
use crate::journal::JournalError;
use crate::lifecycle;

/// Why looking for work failed (the supervisor logs it and tries again).
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error(transparent)]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// Starts a task driving `job` (resumed from the journal) unless one is running already.
pub fn spawn_job(
    agent: &Arc<Agent>,
    tasks: &mut JoinSet<()>,
    job: Pubkey,
    prepared: Option<Prepared>,
) {
    spawn_task(agent, tasks, job, move |agent| async move {
        lifecycle::drive(&agent, job, prepared, None).await
    });
}

/// Runs `work` for `job` in a task unless one is running for it already.
fn spawn_task<F, Fut>(agent: &Arc<Agent>, tasks: &mut JoinSet<()>, job: Pubkey, work: F)
where
    F: FnOnce(Arc<Agent>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if !agent.active.lock().expect("lock").insert(job) {
        return;
    }
    let agent = agent.clone();
    tasks.spawn(async move {
        work(agent.clone()).await;
        agent.active.lock().expect("lock").remove(&job);
        agent.watch.forget(&job);
    });
}

/// Jobs on chain where we hold a slot but the journal has no record (a lost journal, or a
/// crash between a claim landing and its record): adopted as claimed, so they are re-run
/// (the salt is derived from the key, so even a commitment made before can be revealed).
pub async fn adopt_orphans(agent: &Agent) -> Result<Vec<Pubkey>, DiscoveryError> {
    let mut adopted = Vec::new();
    for state in [JobState::Open, JobState::Running] {
        let filter = JobFilter {
            state: Some(state),
            buyer: None,
        };
        let jobs = agent
            .retry("list jobs", || agent.chain.jobs(filter))
            .await?;
        for (address, job) in jobs {
            let ours = job.slot_index_of(&agent.me).is_some();
            if ours && agent.journal.get(&address).ok().flatten().is_none() {
                warn!(job = %address, "holding a slot with no journal record; adopting it");
                agent.journal.put(&Entry::claimed(&address))?;
                adopted.push(address);
            }
        }
    }
    Ok(adopted)
}

/// One discovery pass: list open jobs and start a claim for each we can serve (claims go out
/// concurrently, each in its own task).
pub async fn discover(agent: &Arc<Agent>, tasks: &mut JoinSet<()>) -> Result<(), ChainError> {
    let held = agent.active.lock().expect("lock").len();
    if held >= agent.config.jobs.max_concurrent {
        return Ok(());
    }
    let now = agent.clock().await?;
    // Jobs whose current round did not draw us are not drawn again on every pass; those of them
    // whose round lapsed are redrawn.
    let mut lapsed = Vec::new();
    let viewed = {
        let passed_over = agent.passed_over.lock().expect("lock");
        let active = agent.active.lock().expect("lock");
        agent.watch.open_jobs(|address, job, judged| {
            if passed_over.contains(address) || active.contains(address) {
                return false;
            }
            if judged && redraw_due(job, now, agent.take_window, false) {
                lapsed.push((*address, job.draw_round));
            }
            !judged
        })
    };
    for (address, round) in lapsed {
        spawn_redraw(agent, address, round);
    }
    let mut candidates: Vec<_> = match viewed {
        Some(candidates) => candidates,
        None => {
            let subscription = agent.watch.subscription();
            let open = agent
                .chain
                .jobs(JobFilter {
                    state: Some(JobState::Open),
                    buyer: None,
                })
                .await?;
            agent.watch.listed(subscription, &open);
            let passed_over = agent.passed_over.lock().expect("lock");
            let active = agent.active.lock().expect("lock");
            open.into_iter()
                .filter(|(a, _)| !passed_over.contains(a) && !active.contains(a))
                .collect()
        }
    };
    if candidates.is_empty() {
        return Ok(());
    }
    let provider = agent.chain.provider(&agent.me).await?;
    // The draw set and SlotHashes; this provider's place (fixed since it joined) and weight
    // (from the provider account just read) complete its view.
    let view = DrawView {
        index: agent.draw_index.get().copied(),
        weight: provider.draw_weight(),
        ..agent.chain.draws(&agent.draw_set).await?
    };
    sync_own_weight(agent, &view).await;
    let mut free_stake = provider.staked.saturating_sub(provider.locked);
    // Best paid first.
    candidates.sort_by_key(|(_, j)| {
        std::cmp::Reverse(j.price_per_replica.saturating_sub(j.fee_per_replica))
    });
    let mut in_flight = held;
    for (address, job) in candidates {
        if in_flight >= agent.config.jobs.max_concurrent || agent.shutting_down() {
            break;
        }
        let offer = Offer {
            me: agent.me,
            hardware: &agent.hardware,
            price_floor: agent.price_floor,
            buyers: &agent.buyers,
            free_stake,
            now,
        };
        if let Some(reason) = refusal(&job, &offer) {
            tracing::debug!(job = %address, %reason, "passing over");
            if reason.is_final() {
                agent.passed_over.lock().expect("lock").insert(address);
            }
            continue;
        }
        if !drawn(agent, &view, &address, &job, now) {
            continue;
        }
        free_stake = free_stake.saturating_sub(job.collateral_per_replica);
        in_flight += 1;
        // The draw keeps the slot for us until the round's take window passes.
        let left = job
            .round_started_at
            .saturating_add(agent.take_window)
            .saturating_sub(now)
            .max(0);
        let round_ends = Instant::now() + Duration::from_secs(left as u64);
        spawn_task(agent, tasks, address, move |agent| async move {
            lifecycle::claim_and_drive(&agent, address, job, round_ends).await
        });
    }
    Ok(())
}

/// Whether the current draw round of `job` drew this provider. A round that did not is
/// remembered as such while it lasts (`Watch::not_drawn`; a weight changed within the round
/// counts from the next one); when it has had its take window without filling the job (or
/// can no longer be read), a new one begins ([`redraw_due`]).
fn drawn(agent: &Arc<Agent>, view: &DrawView, address: &Pubkey, job: &Job, now: i64) -> bool {
    let turn = view.turn(address, job);
    if let Turn::Drawn(c) = turn {
        tracing::debug!(job = %address, round = job.draw_round, step = c.step, "drawn");
        return true;
    }
    if turn != Turn::Wait {
        agent.watch.not_drawn(address, job.draw_round);
        if redraw_due(job, now, agent.take_window, false) {
            spawn_redraw(agent, *address, job.draw_round);
        }
    }
    false
}

/// Sends `redraw` for `job`'s round `round` in a task of its own (unless one is on its way): a
/// pass never waits for a confirmation, so that a busy market's lapsed rounds do not hold
/// back the draws this provider must answer in time.
fn spawn_redraw(agent: &Arc<Agent>, job: Pubkey, round: u16) {
    let key = (job, round);
    if !agent.redrawing.lock().expect("lock").insert(key) {
        return;
    }
    let agent = agent.clone();
    tokio::spawn(async move {
        agent.redraw(&job, round).await;
        agent.redrawing.lock().expect("lock").remove(&key);
    });
}

/// Brings this provider's draw weight up to its stake when they differ (after a slash, an
/// unbonding request, a deposit by hand): a weight above the stake wastes the draws that land
/// beyond it (each costs the job a take window), one below it loses draws.
async fn sync_own_weight(agent: &Agent, view: &DrawView) {
    if !view.weight_drifted() {
        return;
    }
    match agent
        .sender
        .send(&[ix::sync_draw_weight(&agent.me, &agent.draw_set)], &[])
        .await
    {
        Ok(sig) => {
            tracing::info!(to = view.weight, signature = %sig, "synced the draw weight")
        }
        Err(e) => tracing::warn!(error = %e, "could not sync the draw weight"),
    }
}
