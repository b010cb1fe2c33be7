//! One job's life on this provider, as a loop over (journal stage, job on chain): the provider
//! engine's steps (`concord-provider`: execute, record — here in the journal —, commit, reveal,
//! publish the outputs), then settle if nobody else has, and record the outcome. Each pass takes at most one step, so the agent
//! can stop between any two and resume from the journal; during shutdown a task ends as soon
//! as its next step would be a wait.
use std::time::{Duration, Instant};

use concord_compute::executor::Execution;
use concord_protocol::Hash32;
use concord_provider::{self as engine, Chaos, Executed};
use concord_sdk::chain::{ix, ChainError, Job, JobState, SettleStep, SlotOutcome, SlotStatus};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signature;
use tracing::{debug, error, info, warn};

use crate::context::redraw_due;
use crate::context::Agent;
use crate::fetch::{open_job_store, FetchError, Prepared};
use crate::journal::{Entry, Stage};

/// How often a waiting job re-reads the chain without job notifications.
const WATCH_INTERVAL: Duration = Duration::from_millis(1_000);
/// How often it re-reads while notifications arrive: every change wakes it at once, so the
/// re-read only catches what no account change announces (a deadline passing, a turn coming),
/// and each re-read of every held job by every agent is load on the RPC node.
const WATCH_INTERVAL_SUBSCRIBED: Duration = Duration::from_millis(3_000);
/// How long each slot holder leaves the one before it to send `audit`: longer than that
/// transaction takes to confirm (a few slots), so the next holder sees the audit decided.
const AUDIT_TURN: Duration = Duration::from_secs(3);
/// Passes that try to publish a paid job's outputs before the agent gives up on the store.
const UPLOAD_ATTEMPTS: u32 = 10;

/// What ended a task early.
#[derive(Debug)]
enum Stop {
    /// Shutdown began while waiting; the journal resumes it.
    Shutdown,
    Failed(String),
}

impl From<ChainError> for Stop {
    fn from(e: ChainError) -> Self {
        Stop::Failed(e.to_string())
    }
}

impl From<crate::journal::JournalError> for Stop {
    fn from(e: crate::journal::JournalError) -> Self {
        Stop::Failed(e.to_string())
    }
}

/// Fetches an open job's content, runs it, then claims a slot and commits in one transaction
/// (the market takes commitments while the replicas' slots fill): one confirmation between the
/// job's content and its commitment instead of two. The draw keeps the slot for this provider
/// until the round's take window passes (`round_ends`); a run still going at half of what is
/// left of it sends the claim alone, and commits when the run ends. A referee's or auditor's
/// slot is claimed alone at once (no early commitment there). Content that cannot be fetched,
/// and a job that cannot run here (found before any claim), are never claimed.
pub async fn claim_and_drive(agent: &Agent, address: Pubkey, job: Job, round_ends: Instant) {
    let prepared = match agent.fetch(&job).await {
        Ok(p) => p,
        Err(e) => {
            warn!(job = %address, reason = %e, "not claiming: its content cannot be fetched");
            agent.passed_over.lock().expect("lock").insert(address);
            return;
        }
    };
    let fetched_at = Instant::now();
    // Recorded before the run and the claim, so a crash right after the claim never loses the
    // slot (on restart, a record without a slot is forgotten).
    let entry = Entry::claimed(&address);
    if let Err(e) = agent.journal.put(&entry) {
        warn!(error = %e, "cannot write the journal; not claiming");
        return;
    }
    let mut task = Task::new(agent, address, Some(prepared), Some(fetched_at));
    // A referee's or an auditor's slot takes no commitment before its draw fills: it is
    // claimed at once, and committed once the job runs.
    let budget = if job.filling() {
        round_ends.saturating_duration_since(Instant::now()) / 2
    } else {
        Duration::ZERO
    };
    let ran = {
        let run = task.execute(entry, &job);
        tokio::pin!(run);
        tokio::select! {
            ran = &mut run => Run::Before(ran),
            () = tokio::time::sleep(budget) => {
                info!(job = %address, budget_ms = budget.as_millis() as u64, "claiming while the run goes on");
                let (claimed, ran) = tokio::join!(send_claim(agent, &address, &job, &[]), &mut run);
                Run::During(claimed.is_some(), ran)
            }
        }
    };
    let claimed = match ran {
        Run::Before(Err(stop)) | Run::During(_, Err(stop)) => {
            task.report(stop);
            return;
        }
        Run::During(claimed, Ok(_)) => {
            if !claimed {
                // The run wrote its record after the refused claim dropped it.
                let _ = agent.journal.remove(&address);
            }
            claimed
        }
        Run::Before(Ok(_)) => {
            let entry = match agent.journal.get(&address) {
                Ok(Some(entry)) => entry,
                other => {
                    warn!(job = %address, read = ?other.map(|_| ()), "the journal lost the run");
                    return;
                }
            };
            if entry.stage != Stage::Executed {
                // It cannot run here: nothing was claimed, nobody waits for us.
                let _ = agent.journal.remove(&address);
                agent.passed_over.lock().expect("lock").insert(address);
                return;
            }
            let commit = match task.recorded(&entry, &job) {
                Ok(result) => {
                    agent
                        .identity
                        .commit_instruction(&address, job.created_slot, &result)
                }
                Err(stop) => return task.report(stop),
            };
            let Some(landed) = send_claim(agent, &address, &job, &[commit]).await else {
                return;
            };
            let mut entry = entry;
            task.committed(&mut entry, landed.as_ref());
            if let Err(e) = agent.journal.put(&entry) {
                return task.report(e.into());
            }
            true
        }
    };
    if !claimed {
        return;
    }
    agent.metrics.jobs_claimed.inc();
    task.drive().await;
}

/// How the run before the claim went: done in time (the claim carries the commitment), or
/// still going when the claim went alone (whether the claim landed).
enum Run<T> {
    Before(T),
    During(bool, T),
}

/// Sends this provider's claim on `address`, followed by `then` in the same transaction (the
/// commitment). `Some` once it landed, with its signature when this send confirmed it (a lost
/// response can hide it). `None` if it did not land: the journal record is dropped, and the job
/// passed over unless a new draw round began (a later round may draw us again).
async fn send_claim(
    agent: &Agent,
    address: &Pubkey,
    job: &Job,
    then: &[Instruction],
) -> Option<Option<Signature>> {
    // No wait for the job's creation slot to pass: being drawn means its seed slot, later
    // still, is in SlotHashes.
    let mut ixs = vec![ix::claim_slot(&agent.me, address, &agent.draw_set)];
    ixs.extend_from_slice(then);
    match agent.sender.send(&ixs, &[]).await {
        Ok(sig) => {
            info!(job = %address, signature = %sig, price = %agent.mint.format(job.price_per_replica), committed = !then.is_empty(), "claimed a slot");
            Some(Some(sig))
        }
        Err(e) => {
            // It may have landed before the error (a lost response).
            let landed = agent
                .chain
                .job(address)
                .await
                .map(|j| j.slots.iter().any(|s| s.provider == agent.me))
                .unwrap_or(false);
            if landed {
                return Some(None);
            }
            let _ = agent.journal.remove(address);
            let draw_moved = matches!(
                e.program_error_name(),
                Some("NotDrawn" | "DrawExpired" | "DrawNotReady")
            );
            if !draw_moved {
                agent.passed_over.lock().expect("lock").insert(*address);
            }
            info!(job = %address, error = %e, "claim refused");
            None
        }
    }
}

/// Drives `address` until it is finished, shutdown begins, or something fails for good.
/// `fetched_at` is when its content was fetched (for the overhead figures in the log).
pub async fn drive(
    agent: &Agent,
    address: Pubkey,
    prepared: Option<Prepared>,
    fetched_at: Option<Instant>,
) {
    Task::new(agent, address, prepared, fetched_at)
        .drive()
        .await
}

struct Task<'a> {
    agent: &'a Agent,
    address: Pubkey,
    prepared: Option<Prepared>,
    /// When the job was first seen settleable (to give others a moment first).
    settleable_since: Option<Instant>,
    /// When this job's audit was first seen ready to decide (its seed slot produced, or an
    /// unserved audit past its deadline): slot holders take their turns from then.
    audit_ready_since: Option<Instant>,
    /// When the content was fetched, and the GPU time of the run (for overhead figures).
    fetched_at: Option<Instant>,
    kernel: Duration,
    /// Time spent waiting for the GPU behind other jobs.
    gpu_wait: Duration,
    /// Failed attempts to publish the outputs of a paid job.
    upload_failures: u32,
}

/// What one pass decided.
enum Next {
    Continue,
    Wait,
    Done,
}

impl<'a> Task<'a> {
    fn new(
        agent: &'a Agent,
        address: Pubkey,
        prepared: Option<Prepared>,
        fetched_at: Option<Instant>,
    ) -> Task<'a> {
        Task {
            agent,
            address,
            prepared,
            settleable_since: None,
            audit_ready_since: None,
            fetched_at,
            kernel: Duration::ZERO,
            gpu_wait: Duration::ZERO,
            upload_failures: 0,
        }
    }

    /// Runs the job's loop to its end (counted in flight meanwhile).
    async fn drive(mut self) {
        self.agent.metrics.jobs_in_flight.inc();
        let result = self.run().await;
        if let Err(stop) = result {
            self.report(stop);
        }
        self.agent.metrics.jobs_in_flight.dec();
    }

    /// Logs why the task stopped early (a shutdown is no failure).
    fn report(&self, stop: Stop) {
        if let Stop::Failed(reason) = stop {
            error!(job = %self.address, reason, "stopped working on the job; it resumes on restart")
        }
    }
}

impl Task<'_> {
    async fn run(&mut self) -> Result<(), Stop> {
        self.agent.watch.track(&self.address);
        // The slot of the newest job state acted on, and whether the next pass must read the
        // job from the node: after a step that sent something, whose effect the kept state
        // may not show yet. A wait's pass reads the state the subscription keeps.
        let mut seen = 0;
        let mut read = true;
        loop {
            let entry = self
                .agent
                .journal
                .get(&self.address)?
                .ok_or_else(|| Stop::Failed("no journal record".into()))?;
            if entry.is_finished() {
                return Ok(());
            }
            let kept = (!read)
                .then(|| self.agent.watch.current(&self.address, seen))
                .flatten();
            let (job, slot) = match kept {
                Some(kept) => kept,
                None => self.read_job().await?,
            };
            seen = seen.max(slot);
            read = false;
            match self.step(entry, &job).await? {
                Next::Continue => read = true,
                Next::Done => return Ok(()),
                Next::Wait => {
                    if self.agent.shutting_down() {
                        return Err(Stop::Shutdown);
                    }
                    let interval = if self.agent.watch.subscribed() {
                        WATCH_INTERVAL_SUBSCRIBED
                    } else {
                        WATCH_INTERVAL
                    };
                    let wake = self.agent.watch.job_wakeup(&self.address, interval);
                    self.agent.pause_until(wake).await;
                }
            }
        }
    }

    /// Reads the job from the node (with retries), and hands it to the watch to keep current.
    async fn read_job(&self) -> Result<(Job, u64), Stop> {
        let watch = &self.agent.watch;
        let began_in = watch.subscription();
        let (job, slot) = self
            .agent
            .retry("read job", || self.agent.chain.job_at(&self.address))
            .await
            .map_err(|e| self.stop_for(e))?;
        watch.read(&self.address, began_in, slot, &job);
        Ok((job, slot))
    }

    /// Whether the cluster is past `slot` (a failed read counts as not yet).
    async fn past_slot(&self, slot: u64) -> bool {
        self.agent.chain.slot().await.is_ok_and(|now| now > slot)
    }

    /// The chain clock (read only by the steps that compare with a deadline), with retries.
    async fn now(&self) -> Result<i64, Stop> {
        self.agent
            .retry("read the clock", || self.agent.clock())
            .await
            .map_err(|e| self.stop_for(e))
    }

    /// A chain error that outlived the retries: a stop for shutdown, or a failure.
    fn stop_for(&self, e: ChainError) -> Stop {
        if self.agent.shutting_down() {
            Stop::Shutdown
        } else {
            e.into()
        }
    }

    fn slot_index(&self, job: &Job) -> Option<usize> {
        job.slot_index_of(&self.agent.me)
    }

    async fn step(&mut self, mut entry: Entry, job: &Job) -> Result<Next, Stop> {
        if job.state.is_terminal() {
            let paid = self
                .slot_index(job)
                .is_some_and(|i| job.slots[i].outcome == SlotOutcome::Paid);
            let pending = entry.has_outputs && !entry.outputs_uploaded;
            if paid && pending && !self.upload(&mut entry, job).await {
                return Ok(Next::Wait);
            }
            return self.finish(entry, job).map(|_| Next::Done);
        }
        let Some(slot) = self.slot_index(job) else {
            if matches!(entry.stage, Stage::Claimed | Stage::Executed) {
                // Our claim never landed (or a run before it was cut short).
                info!(job = %self.address, "no slot held; forgetting the job");
                self.agent.journal.remove(&self.address)?;
                return Ok(Next::Done);
            }
            return Err(Stop::Failed("the job does not list us in its slots".into()));
        };
        let status = job.slots[slot].status;
        match entry.stage {
            Stage::Claimed => self.execute(entry, job).await,
            Stage::Executed => {
                if status != SlotStatus::Claimed {
                    entry.stage = Stage::Committed;
                    self.agent.journal.put(&entry)?;
                    return Ok(Next::Continue);
                }
                if job.check_commit_open(self.now().await?).is_err() {
                    if job.state == JobState::Open {
                        // A late slot's draw: commits once it fills.
                        return self.keep_filling(job).await;
                    }
                    return self.give_up(entry, "the execution deadline passed before the commit");
                }
                self.commit(entry, job).await
            }
            Stage::Committed => {
                if status == SlotStatus::Revealed {
                    entry.stage = Stage::Revealed;
                    self.agent.journal.put(&entry)?;
                    return Ok(Next::Continue);
                }
                if job.filling() {
                    // Committed with the claim: the others still claim.
                    return self.keep_filling(job).await;
                }
                let now = self.now().await?;
                if now > job.reveal_deadline {
                    return self.give_up(entry, "the reveal deadline passed");
                }
                let unserved = job.awaits_auditor() && now > job.claim_deadline;
                if job.audit_pending() || unserved {
                    // `audit` is refused until the seed slot is in SlotHashes: one slot read
                    // a pass until the cluster is past it, rather than refused attempts.
                    if job.audit_pending() && !self.past_slot(job.audit_seed_slot).await {
                        return Ok(Next::Wait);
                    }
                    // Then slot holders take turns, so one `audit` lands.
                    if !turn_came(&mut self.audit_ready_since, AUDIT_TURN * slot as u32) {
                        return Ok(Next::Wait);
                    }
                    return self.decide_audit().await;
                }
                if job.check_reveal_open(now).is_err() {
                    return Ok(Next::Wait); // The reveal window has not opened.
                }
                self.reveal(entry, job).await
            }
            Stage::Revealed | Stage::Abandoned => {
                if job.check_settleable(self.now().await?).is_err() {
                    return Ok(Next::Wait);
                }
                // The first slot's holder settles at once; the others take turns after it.
                let delay = self.agent.config.jobs.settle_delay_secs * slot as u64;
                if !turn_came(&mut self.settleable_since, Duration::from_secs(delay)) {
                    return Ok(Next::Wait);
                }
                self.settle(job).await
            }
            Stage::Finished { .. } => Ok(Next::Done),
        }
    }

    /// Waits for the job's other slots to fill; the first slot's holder begins a new draw
    /// round once the current one is due for it (`redraw_due`: the providers it
    /// drew did not come).
    async fn keep_filling(&self, job: &Job) -> Result<Next, Stop> {
        let agent = self.agent;
        if self.slot_index(job) != Some(0) || !job.filling() {
            return Ok(Next::Wait);
        }
        if !redraw_due(job, self.now().await?, agent.take_window, true) {
            return Ok(Next::Wait);
        }
        if agent.redraw(&self.address, job.draw_round).await {
            Ok(Next::Continue)
        } else {
            Ok(Next::Wait)
        }
    }

    /// Runs the job (fetching it first after a restart) and records result and salt.
    async fn execute(&mut self, mut entry: Entry, job: &Job) -> Result<Next, Stop> {
        let agent = self.agent;
        let prepared = match self.prepared.take() {
            Some(p) => p,
            None => match agent.fetch(job).await {
                Ok(p) => {
                    self.fetched_at = Some(Instant::now());
                    p
                }
                Err(e) => {
                    warn!(job = %self.address, reason = %e, "cannot fetch the job; retrying");
                    return Ok(Next::Wait);
                }
            },
        };
        let runnable = prepared.is_ok();
        let queued = Instant::now();
        let _gpu = if runnable {
            Some(agent.gpu.acquire().await.expect("semaphore open"))
        } else {
            None
        };
        self.gpu_wait = queued.elapsed();
        let started = Instant::now();
        let execution = match engine::execute(&agent.executor, prepared).await {
            Ok(execution) => execution,
            Err(e) => {
                agent.metrics.exec_failures.inc();
                return self.give_up(entry, &format!("the job could not run here: {e}"));
            }
        }
        .tap_completed(|gpu| {
            self.kernel = gpu;
            agent.metrics.kernel_seconds.observe(gpu.as_secs_f64());
            info!(job = %self.address, gpu_ms = gpu.as_millis() as u64, wall_ms = started.elapsed().as_millis() as u64, "ran the job");
        });
        let chaos = agent.config.chaos.mode();
        let executed = Executed::from_execution(execution, chaos);
        if let Some(e) = &executed.invalid {
            agent.metrics.jobs_invalid.inc();
            info!(job = %self.address, error = %e, "the job is invalid; committing the canonical error outcome");
        } else if matches!(chaos, Chaos::CorruptResults(_)) {
            warn!(job = %self.address, "chaos.corrupt_results: committing a corrupted result");
        }
        if let Some(outputs) = &executed.outputs {
            agent.journal.save_outputs(&self.address, outputs)?;
        }
        let salt = agent.identity.salt(&self.address, job.created_slot);
        entry.stage = Stage::Executed;
        entry.result_hash = Some(executed.result.to_hex());
        entry.salt = Some(hex::encode(salt));
        entry.has_outputs = executed.outputs.is_some();
        // Durable before the commitment is sent.
        agent.journal.put(&entry)?;
        Ok(Next::Continue)
    }

    /// The result recorded before the commit; its salt must be the one this key derives for
    /// this incarnation of the job.
    fn recorded(&self, entry: &Entry, job: &Job) -> Result<Hash32, Stop> {
        let (Some(result), Some(salt)) = (entry.result_hash_bytes(), entry.salt_bytes()) else {
            return Err(Stop::Failed("the journal lost the result".into()));
        };
        if salt != self.agent.identity.salt(&self.address, job.created_slot) {
            return Err(Stop::Failed("the journal's salt is not this key's".into()));
        }
        Ok(Hash32(result))
    }

    async fn commit(&mut self, mut entry: Entry, job: &Job) -> Result<Next, Stop> {
        let agent = self.agent;
        let result = self.recorded(&entry, job)?;
        let ixs = [agent
            .identity
            .commit_instruction(&self.address, job.created_slot, &result)];
        let sent = agent.retry("commit", || agent.sender.send(&ixs, &[])).await;
        match sent {
            Ok(sig) => {
                self.committed(&mut entry, Some(&sig));
                agent.journal.put(&entry)?;
                Ok(Next::Continue)
            }
            // Landed earlier, or the window closed: the next pass reads the chain and decides.
            Err(e) => {
                warn!(job = %self.address, error = %e, "commit refused");
                Ok(Next::Wait)
            }
        }
    }

    /// Counts and logs a commitment that landed (with the figures of its way there), and moves
    /// `entry` to `Committed` (the caller writes it).
    fn committed(&self, entry: &mut Entry, sig: Option<&Signature>) {
        self.agent.metrics.jobs_committed.inc();
        // From content fetched to commitment confirmed: run, journal, claim and commit.
        let fetched_to_commit_ms = self.fetched_at.map(|t| t.elapsed().as_millis() as u64);
        info!(
            job = %self.address,
            signature = %sig.map(Signature::to_string).unwrap_or_default(),
            result = entry.result_hash.as_deref().unwrap_or_default(),
            fetched_to_commit_ms,
            kernel_ms = self.kernel.as_secs_f64() * 1e3,
            gpu_wait_ms = self.gpu_wait.as_secs_f64() * 1e3,
            "committed"
        );
        entry.stage = Stage::Committed;
    }

    async fn reveal(&mut self, mut entry: Entry, job: &Job) -> Result<Next, Stop> {
        let agent = self.agent;
        let result = self.recorded(&entry, job)?;
        let ixs = [agent
            .identity
            .reveal_instruction(&self.address, job.created_slot, &result)];
        let sent = agent.retry("reveal", || agent.sender.send(&ixs, &[])).await;
        match sent {
            Ok(sig) => {
                agent.metrics.jobs_revealed.inc();
                info!(job = %self.address, signature = %sig, "revealed");
                entry.stage = Stage::Revealed;
                agent.journal.put(&entry)?;
                Ok(Next::Continue)
            }
            Err(e) => {
                warn!(job = %self.address, error = %e, "reveal refused");
                Ok(Next::Wait)
            }
        }
    }

    /// Publishes the outputs to the job's store, only once the job settled with our slot paid
    /// (earlier, a buyer could force "no quorum" and keep outputs it never paid for). Returns
    /// whether the outputs are now published (or gone); a failure is logged and retried on
    /// the next pass, at most `UPLOAD_ATTEMPTS` times.
    async fn upload(&mut self, entry: &mut Entry, job: &Job) -> bool {
        let agent = self.agent;
        let outputs = match agent.journal.load_outputs(&self.address) {
            Ok(Some(o)) => o,
            Ok(None) => {
                entry.has_outputs = false;
                let _ = agent.journal.put(entry);
                return true;
            }
            Err(e) => {
                warn!(job = %self.address, error = %e, "cannot read the saved outputs");
                return false;
            }
        };
        let uploaded = async {
            let store = open_job_store(
                &job.manifest_uri,
                &agent.config.store,
                agent.config.jobs.max_job_bytes,
            )
            .await?;
            Ok::<_, FetchError>(engine::publish(&store, &outputs).await?)
        }
        .await;
        match uploaded {
            Ok(hash) => {
                info!(job = %self.address, result = %hash.to_hex(), "uploaded the outputs");
                entry.outputs_uploaded = true;
                agent.journal.put(entry).is_ok()
            }
            Err(e) => {
                self.upload_failures += 1;
                if self.upload_failures >= UPLOAD_ATTEMPTS {
                    error!(job = %self.address, error = %e, "output upload failed; giving up");
                    return true;
                }
                warn!(job = %self.address, error = %e, "output upload failed; retrying");
                false
            }
        }
    }

    /// Sends `audit` for the job (reveals wait on it): refused until the audit seed slot is
    /// produced, and after whoever's `audit` landed first. Decided: read the job again at once
    /// (to reveal); refused: the next pass tries again.
    async fn decide_audit(&mut self) -> Result<Next, Stop> {
        let agent = self.agent;
        let audit = [ix::audit(&self.address)];
        match agent.sender.send(&audit, &[]).await {
            Ok(sig) => {
                info!(job = %self.address, signature = %sig, "decided the job's audit");
                Ok(Next::Continue)
            }
            Err(e) => {
                debug!(job = %self.address, error = %e, "audit not decided yet");
                Ok(Next::Wait)
            }
        }
    }

    async fn settle(&mut self, job: &Job) -> Result<Next, Stop> {
        let agent = self.agent;
        // Payout accounts first (their own transaction; most exist already).
        let mut missing = Vec::new();
        for (slot, create) in job
            .filled_slots()
            .iter()
            .zip(agent.mint.payout_account_instructions(&agent.me, job))
        {
            let account = agent.mint.account_of(&slot.provider);
            if !agent
                .retry("read payout account", || agent.chain.exists(&account))
                .await?
            {
                missing.push(create);
            }
        }
        if !missing.is_empty() {
            if let Err(e) = agent
                .retry("create payout accounts", || {
                    agent.sender.send(&missing, &[])
                })
                .await
            {
                warn!(job = %self.address, error = %e, "cannot create the payout accounts");
                return Ok(Next::Wait);
            }
        }
        let settle = [agent.mint.settle_instruction(&self.address, job)];
        let step = SettleStep::of(job);
        match agent
            .retry("settle", || agent.sender.send(&settle, &[]))
            .await
        {
            Ok(sig) => {
                agent.metrics.jobs_settled_by_us.inc();
                info!(job = %self.address, signature = %sig, "{}", step.done());
            }
            Err(e) => warn!(job = %self.address, error = %e, "settle refused"),
        }
        Ok(Next::Continue)
    }

    /// Records the job's end and our slot's outcome.
    fn finish(&mut self, mut entry: Entry, job: &Job) -> Result<(), Stop> {
        let m = &self.agent.metrics;
        let index = self.slot_index(job);
        let outcome = index
            .map(|i| job.slots[i].outcome)
            .unwrap_or(SlotOutcome::Released);
        match outcome {
            SlotOutcome::Paid | SlotOutcome::Compensated => {
                entry.earned = index.map_or(0, |i| concord_market::settlement::slot_pay(job, i));
                m.jobs_paid.inc();
                m.earned_units.inc_by(entry.earned);
            }
            SlotOutcome::Slashed => {
                entry.slashed = job.collateral_per_replica;
                m.jobs_slashed.inc();
                m.slashed_units.inc_by(entry.slashed);
            }
            SlotOutcome::Unpaid => {
                m.jobs_unpaid.inc();
            }
            SlotOutcome::Released | SlotOutcome::Pending => {}
        }
        let name = outcome.name();
        info!(
            job = %self.address,
            outcome = name,
            earned = %self.agent.mint.format(entry.earned),
            slashed = %self.agent.mint.format(entry.slashed),
            agreed = %job.agreed_hash.map(|h| Hash32(h).to_hex()).unwrap_or_default(),
            "job finished"
        );
        entry.stage = Stage::Finished {
            outcome: name.into(),
        };
        self.agent.journal.put(&entry)?;
        self.agent.journal.drop_outputs(&self.address);
        Ok(())
    }

    /// Nothing more can be done for the job (we will be slashed as a no-show); keep watching
    /// it only to record the outcome.
    fn give_up(&mut self, mut entry: Entry, reason: &str) -> Result<Next, Stop> {
        error!(job = %self.address, reason, "giving up on the job");
        entry.note = Some(reason.to_string());
        entry.stage = Stage::Abandoned;
        entry.has_outputs = false;
        self.agent.journal.put(&entry)?;
        Ok(Next::Continue)
    }
}

/// Calls `f` with the GPU time of a completed execution.
trait TapCompleted {
    fn tap_completed(self, f: impl FnOnce(Duration)) -> Self;
}

impl TapCompleted for Execution {
    fn tap_completed(self, f: impl FnOnce(Duration)) -> Self {
        if let Execution::Completed { gpu_time, .. } = &self {
            f(*gpu_time);
        }
        self
    }
}

/// Whether `wait` has passed since the step was first seen ready (`since`, set now if unset):
/// how slot holders take turns on a step anyone may send.
fn turn_came(since: &mut Option<Instant>, wait: Duration) -> bool {
    since.get_or_insert_with(Instant::now).elapsed() >= wait
}
