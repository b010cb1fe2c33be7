//! The executor: runs a [`Job`] on a chosen wgpu adapter in a `concord-worker` child process
//! with a hard timeout, and turns the result into an [`Outcome`]. The worker persists between
//! jobs (the device stays open); a worker that overruns is killed and the next job starts a
//! fresh one; a worker that dies during a job (killed, or crashed) gets the job once more on
//! a fresh one.
//!
//! Static checks (manifest limits, WGSL parse/validation, entry points, bindings, sizes) run
//! in the caller's process first; an invalid job never reaches a GPU and yields the canonical
//! error outcome. The worker runs the metered modules (`crate::meter`): a job that runs out
//! of its gas budget ends in the canonical [`ErrorCode::OutOfBudget`](concord_protocol::ErrorCode)
//! outcome on every backend, so the wall-clock timeout is only the provider's own safety
//! net. The GPU work runs in the worker because a runaway shader cannot be
//! interrupted inside a process (the GL backend blocks inside `submit`): on timeout the
//! worker is killed and the caller gets [`ExecError::Timeout`].

pub mod gpu;
pub mod worker;

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use gpu::{
    list_adapters, AdapterSelector, AdapterSummary, Backend, DeviceError, GpuDevice, RunError,
    RunOutput,
};
pub use worker::worker_main;

use crate::meter::GasReport;

use concord_protocol::job::{InvalidJob, Job};
use concord_protocol::Hash32;
use concord_protocol::{verify_outputs, Outcome};
use worker::{WorkerRequest, WorkerResponse, TAG_RESPONSE, TAG_STARTED};

/// What running a job produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Execution {
    /// The job ran; `outputs` are the output buffers in buffer order.
    Completed {
        outputs: Vec<Vec<u8>>,
        result_hash: Hash32,
        gpu_time: Duration,
        adapter: AdapterSummary,
    },
    /// The job is invalid; every honest provider reaches the same code.
    Invalid(InvalidJob),
}

impl Execution {
    /// The outcome to commit.
    pub fn outcome(&self) -> Outcome {
        match self {
            Execution::Completed { result_hash, .. } => Outcome::Success {
                result_hash: *result_hash,
            },
            Execution::Invalid(e) => e.outcome(),
        }
    }
}

/// An execution with the meters read back: `gas` is `None` when the job never ran (invalid
/// before any GPU work).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metered {
    pub execution: Execution,
    pub gas: Option<GasReport>,
}

/// The executor could not produce an outcome (provider-side; nothing to commit).
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("the job ran longer than its limit of {limit_ms} ms and was stopped")]
    Timeout { limit_ms: u64 },
    #[error("the worker did not start the job within {0:?} and was stopped")]
    SetupTimeout(Duration),
    #[error("{0}")]
    Device(#[from] DeviceError),
    #[error("the worker program {path} could not be started: {reason}")]
    WorkerMissing { path: String, reason: String },
    #[error("the worker stopped without an answer ({0})")]
    WorkerCrashed(String),
}

/// Runs jobs in a worker process, kept between jobs. Clones share the worker.
#[derive(Clone, Debug)]
pub struct Executor {
    worker: PathBuf,
    worker_args: Vec<String>,
    selector: AdapterSelector,
    setup_timeout: Duration,
    max_runtime: Option<Duration>,
    idle: IdleWorker,
}

/// The worker waiting for the next job, if any (a job takes it out while it runs).
#[derive(Clone, Default)]
struct IdleWorker(Arc<Mutex<Option<WorkerProcess>>>);

impl std::fmt::Debug for IdleWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdleWorker")
    }
}

impl IdleWorker {
    /// The idle worker, if it is still alive.
    fn take(&self) -> Option<WorkerProcess> {
        let mut w = self.0.lock().ok()?.take()?;
        matches!(w.child.try_wait(), Ok(None)).then_some(w)
    }

    /// Keeps `w` for the next job (a worker already idle, from a concurrent job, stays).
    fn put(&self, w: WorkerProcess) {
        if let Ok(mut slot) = self.0.lock() {
            if slot.is_none() {
                *slot = Some(w);
            }
        }
    }
}

/// A running worker: its stdin for requests, its stdout as events, its stderr's last line.
struct WorkerProcess {
    child: Child,
    stdin: ChildStdin,
    events: mpsc::Receiver<WorkerEvent>,
    last_stderr_line: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Executor {
    /// An executor using the worker program at `worker`.
    pub fn new(worker: impl Into<PathBuf>, selector: AdapterSelector) -> Self {
        Executor {
            worker: worker.into(),
            worker_args: Vec::new(),
            selector,
            setup_timeout: Duration::from_secs(120),
            max_runtime: None,
            idle: IdleWorker::default(),
        }
    }

    /// An executor using [`default_worker_path`].
    pub fn with_default_worker(selector: AdapterSelector) -> Self {
        Executor::new(default_worker_path(), selector)
    }

    /// An executor whose worker is this very program started as `<this program> worker`
    /// (the agent and the CLI are their own workers, so one binary is installed). The
    /// program must call [`worker_main`] when its first argument is `worker`.
    /// `$CONCORD_WORKER` names another worker program instead.
    pub fn self_hosted(selector: AdapterSelector) -> std::io::Result<Self> {
        if let Some(p) = std::env::var_os("CONCORD_WORKER") {
            return Ok(Executor::new(p, selector));
        }
        Ok(Executor::new(std::env::current_exe()?, selector).worker_args(["worker"]))
    }

    /// Arguments for the worker program. A daemon can serve as its own worker: point
    /// [`Executor::new`] at `std::env::current_exe()`, pass e.g. `["worker"]` here, and call
    /// [`worker_main`] when started with that argument.
    pub fn worker_args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.worker_args = args.into_iter().map(Into::into).collect();
        self
    }

    /// How long the worker may take to open the device and compile pipelines.
    pub fn setup_timeout(mut self, t: Duration) -> Self {
        self.setup_timeout = t;
        self
    }

    /// A local cap on the runtime, below the manifest's own limit.
    pub fn max_runtime(mut self, t: Duration) -> Self {
        self.max_runtime = Some(t);
        self
    }

    pub fn selector(&self) -> &AdapterSelector {
        &self.selector
    }

    /// The process id of the worker kept for the next job, if one is running idle.
    pub fn idle_worker_pid(&self) -> Option<u32> {
        let slot = self.idle.0.lock().ok()?;
        slot.as_ref().map(|w| w.child.id())
    }

    /// Starts a worker process.
    fn spawn(&self) -> Result<WorkerProcess, ExecError> {
        let mut child = Command::new(&self.worker)
            .args(&self.worker_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| ExecError::WorkerMissing {
                path: self.worker.display().to_string(),
                reason: e.to_string(),
            })?;
        let stdin = child.stdin.take().expect("piped");
        let mut stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        let last_stderr_line = Arc::new(Mutex::new(String::new()));
        let last = last_stderr_line.clone();
        let stderr_reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if !line.trim().is_empty() {
                    if let Ok(mut l) = last.lock() {
                        *l = line.trim().chars().take(4096).collect();
                    }
                }
            }
        });
        let (tx, events) = mpsc::channel::<WorkerEvent>();
        std::thread::spawn(move || read_worker_stdout(&mut stdout, tx));
        Ok(WorkerProcess {
            child,
            stdin,
            events,
            last_stderr_line,
            stderr_reader: Some(stderr_reader),
        })
    }

    /// Sends `request` (a frame) to `w` and waits for its answer: `setup_timeout` until the
    /// GPU work starts, then `runtime`. A worker that overruns is killed; one that ends
    /// without an answer is reported with its exit status and last stderr line.
    fn attempt(
        &self,
        mut w: WorkerProcess,
        request: &[u8],
        runtime: Duration,
    ) -> Result<(WorkerProcess, WorkerResponse), ExecError> {
        if w.stdin
            .write_all(request)
            .and_then(|_| w.stdin.flush())
            .is_err()
        {
            return Err(crashed(w));
        }
        let mut deadline = Instant::now() + self.setup_timeout;
        let mut started = false;
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match w.events.recv_timeout(wait) {
                Ok(WorkerEvent::Started) => {
                    started = true;
                    deadline = Instant::now() + runtime;
                }
                Ok(WorkerEvent::Response(r)) => return Ok((w, r)),
                Ok(WorkerEvent::Eof) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(crashed(w));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    drop(w); // Killed.
                    return Err(if started {
                        ExecError::Timeout {
                            limit_ms: u64::try_from(runtime.as_millis()).unwrap_or(u64::MAX),
                        }
                    } else {
                        ExecError::SetupTimeout(self.setup_timeout)
                    });
                }
            }
        }
    }

    /// Validate and run `job` (metered).
    pub fn execute(&self, job: &Job) -> Result<Execution, ExecError> {
        self.execute_metered(job).map(|m| m.execution)
    }

    /// Validate and run `job`, and return the gas meters with the execution.
    pub fn execute_metered(&self, job: &Job) -> Result<Metered, ExecError> {
        if let Err(e) = crate::wgsl::check_job(job, &job.manifest.limits()) {
            return Ok(Metered {
                execution: Execution::Invalid(e),
                gas: None,
            });
        }
        let mut runtime = Duration::from_millis(job.manifest.max_runtime_ms);
        if let Some(cap) = self.max_runtime {
            runtime = runtime.min(cap);
        }
        let request = worker::frame(
            &borsh::to_vec(&WorkerRequest {
                selector: self.selector.clone(),
                job: job.clone(),
            })
            .expect("borsh into a Vec cannot fail"),
        );
        // The idle worker if there is one, else a fresh one. A worker that dies during the
        // job (killed while idle or running, or crashed by it) gets it once more on a fresh
        // worker: a second death is the answer.
        let first = match self.idle.take() {
            Some(w) => self.attempt(w, &request, runtime),
            None => self
                .spawn()
                .and_then(|w| self.attempt(w, &request, runtime)),
        };
        let (w, response) = match first {
            Err(ExecError::WorkerCrashed(_)) => self.attempt(self.spawn()?, &request, runtime)?,
            other => other?,
        };
        if !matches!(response, WorkerResponse::Device(_)) {
            self.idle.put(w);
        }
        match response {
            WorkerResponse::Done {
                outputs,
                gpu_time_ns,
                adapter,
                gas,
            } => {
                let result_hash = verify_outputs(&job.manifest, &outputs, None).map_err(|e| {
                    ExecError::WorkerCrashed(format!("the worker returned a malformed result: {e}"))
                })?;
                Ok(Metered {
                    execution: Execution::Completed {
                        outputs,
                        result_hash,
                        gpu_time: Duration::from_nanos(gpu_time_ns),
                        adapter,
                    },
                    gas,
                })
            }
            WorkerResponse::Invalid { error, gas, .. } => Ok(Metered {
                execution: Execution::Invalid(error),
                gas,
            }),
            WorkerResponse::Device(e) => Err(ExecError::Device(e)),
        }
    }
}

/// The error for a worker that ended without an answer: its exit status and the last line
/// it wrote to stderr.
fn crashed(mut w: WorkerProcess) -> ExecError {
    let status = w
        .child
        .wait()
        .map(|s| s.to_string())
        .unwrap_or_else(|e| e.to_string());
    if let Some(reader) = w.stderr_reader.take() {
        let _ = reader.join();
    }
    let last = w
        .last_stderr_line
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    let last = if last.is_empty() {
        "no message".to_string()
    } else {
        last
    };
    ExecError::WorkerCrashed(format!("{status}: {last}"))
}

enum WorkerEvent {
    Started,
    Response(WorkerResponse),
    Eof,
}

fn read_worker_stdout(stdout: &mut impl Read, tx: mpsc::Sender<WorkerEvent>) {
    loop {
        let mut tag = [0u8; 1];
        if stdout.read_exact(&mut tag).is_err() {
            let _ = tx.send(WorkerEvent::Eof);
            return;
        }
        match tag[0] {
            TAG_STARTED => {
                let _ = tx.send(WorkerEvent::Started);
            }
            TAG_RESPONSE => {
                let mut len = [0u8; 8];
                let event = stdout
                    .read_exact(&mut len)
                    .ok()
                    .and_then(|_| usize::try_from(u64::from_le_bytes(len)).ok())
                    .and_then(|n| {
                        let mut body = Vec::new();
                        stdout.take(n as u64).read_to_end(&mut body).ok()?;
                        (body.len() == n).then_some(body)
                    })
                    .and_then(|body| borsh::from_slice::<WorkerResponse>(&body).ok())
                    .map_or(WorkerEvent::Eof, WorkerEvent::Response);
                let eof = matches!(event, WorkerEvent::Eof);
                if tx.send(event).is_err() || eof {
                    return;
                }
            }
            _ => {
                let _ = tx.send(WorkerEvent::Eof);
                return;
            }
        }
    }
}

/// Where the `concord-worker` program is: `$CONCORD_WORKER`, else next to the running
/// program, else one directory up (Cargo's `target/*/deps` layout for tests).
pub fn default_worker_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CONCORD_WORKER") {
        return PathBuf::from(p);
    }
    let name = format!("concord-worker{}", std::env::consts::EXE_SUFFIX);
    if let Ok(exe) = std::env::current_exe() {
        let dir = exe.parent().unwrap_or(Path::new("."));
        for candidate in [dir.join(&name), dir.join("..").join(&name)] {
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    PathBuf::from(name)
}
