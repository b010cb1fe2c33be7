//! Supervision: resumes every unfinished job of the journal, runs discovery until shutdown,
//! then drains (no new claims; in-flight steps reach a durable point within
//! [`SHUTDOWN_GRACE`]) while `/health` says "draining"; the metrics server goes down last.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::context::Agent;
use crate::discovery::{adopt_orphans, discover, spawn_job};
use crate::startup::StartError;

/// The least time between two discovery passes.
const MIN_PASS_SPACING: Duration = Duration::from_millis(100);

/// How long in-flight steps may run after a shutdown signal before the agent exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(60);

/// Runs until shutdown: serves `/metrics` and `/health` on `metrics_addr` (if any), resumes
/// the journal's unfinished jobs, then discovers and claims; on shutdown drains and stops the
/// metrics server last.
pub async fn run(agent: Arc<Agent>, metrics_addr: Option<SocketAddr>) -> Result<(), StartError> {
    let server = match metrics_addr {
        Some(addr) => {
            let server = crate::metrics::serve(agent.metrics.clone(), addr)
                .await
                .map_err(|e| StartError::Config(format!("cannot serve metrics on {addr}: {e}")))?;
            info!(address = %server.address, "serving /metrics and /health");
            Some(server)
        }
        None => None,
    };
    let result = supervise(&agent).await;
    if let Some(server) = server {
        server.stop().await;
    }
    result
}

async fn supervise(agent: &Arc<Agent>) -> Result<(), StartError> {
    let agent = agent.clone();
    let mut tasks = JoinSet::new();
    let unfinished = agent.journal.unfinished()?;
    let totals = agent.journal.entries()?;
    info!(
        provider = %agent.me,
        adapter = %agent.adapter,
        resuming = unfinished.len(),
        earned = %agent.mint.format(totals.iter().map(|e| e.earned).sum()),
        slashed = %agent.mint.format(totals.iter().map(|e| e.slashed).sum()),
        "agent started"
    );
    for entry in unfinished {
        info!(job = %entry.job, stage = ?entry.stage, "resuming");
        spawn_job(&agent, &mut tasks, entry.job_key(), None);
    }
    match adopt_orphans(&agent).await {
        Ok(adopted) => {
            for job in adopted {
                spawn_job(&agent, &mut tasks, job, None);
            }
        }
        Err(e) => warn!(error = %e, "could not look for jobs held without a record"),
    }

    let poll = Duration::from_millis(agent.config.poll_interval_ms);
    while !agent.shutting_down() {
        while tasks.try_join_next().is_some() {}
        if let Err(e) = discover(&agent, &mut tasks).await {
            agent.metrics.rpc_errors.inc();
            warn!(error = %e, "job discovery failed");
        } else {
            agent.metrics.poll_succeeded();
        }
        // A notification wakes the next pass early, but passes stay at least
        // `MIN_PASS_SPACING` apart however busy the market is.
        agent.pause(MIN_PASS_SPACING).await;
        agent
            .pause_until(
                agent
                    .watch
                    .discovery_wakeup(poll.saturating_sub(MIN_PASS_SPACING)),
            )
            .await;
    }

    agent.metrics.set_draining();
    info!(
        in_flight = tasks.len(),
        "shutting down: no new claims; letting in-flight steps finish"
    );
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!(
            left = tasks.len(),
            "steps still running after the grace period; stopping them (the journal resumes them)"
        );
        tasks.abort_all();
    }
    let left = agent.journal.unfinished()?.len();
    info!(
        unfinished = left,
        "stopped; unfinished jobs resume on the next start"
    );
    Ok(())
}
