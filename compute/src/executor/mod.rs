//! The executor: runs a [`Job`] on a chosen wgpu adapter in a `concord-worker` child process
//! with a hard timeout, and turns the result into an [`Outcome`].
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

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use gpu::{
    list_adapters, AdapterSelector, AdapterSummary, Backend, DeviceError, GpuDevice, RunError,
    RunOutput,
};
pub use worker::worker_main;

use crate::meter::GasReport;

use concord_protocol::job::{InvalidJob, Job};
use concord_protocol::{verify_outputs, Outcome};
use concord_protocol::{Hash32, Limits};
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

/// Runs jobs in worker processes.
#[derive(Clone, Debug)]
pub struct Executor {
    worker: PathBuf,
    worker_args: Vec<String>,
    selector: AdapterSelector,
    setup_timeout: Duration,
    max_runtime: Option<Duration>,
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

    /// Validate and run `job` (metered).
    pub fn execute(&self, job: &Job) -> Result<Execution, ExecError> {
        self.execute_metered(job).map(|m| m.execution)
    }

    /// Validate and run `job`, and return the gas meters with the execution.
    pub fn execute_metered(&self, job: &Job) -> Result<Metered, ExecError> {
        if let Err(e) = crate::wgsl::check_job(job, &Limits::V1) {
            return Ok(Metered {
                execution: Execution::Invalid(e),
                gas: None,
            });
        }
        let mut runtime = Duration::from_millis(job.manifest.max_runtime_ms);
        if let Some(cap) = self.max_runtime {
            runtime = runtime.min(cap);
        }
        let request = borsh::to_vec(&WorkerRequest {
            selector: self.selector.clone(),
            job: job.clone(),
        })
        .expect("borsh into a Vec cannot fail");
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
        let mut stdin = child.stdin.take().expect("piped");
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        std::thread::spawn(move || {
            let _ = stdin.write_all(&request);
        });
        let err_reader = std::thread::spawn(move || {
            let mut s = Vec::new();
            let _ = (&mut stderr).take(1 << 20).read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        });
        let (tx, rx) = mpsc::channel::<WorkerEvent>();
        std::thread::spawn(move || read_worker_stdout(&mut stdout, tx));

        let mut deadline = Instant::now() + self.setup_timeout;
        let mut started = false;
        let response = loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(wait) {
                Ok(WorkerEvent::Started) => {
                    started = true;
                    deadline = Instant::now() + runtime;
                }
                Ok(WorkerEvent::Response(r)) => break Some(r),
                Ok(WorkerEvent::Eof) | Err(mpsc::RecvTimeoutError::Disconnected) => break None,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(if started {
                        ExecError::Timeout {
                            limit_ms: u64::try_from(runtime.as_millis()).unwrap_or(u64::MAX),
                        }
                    } else {
                        ExecError::SetupTimeout(self.setup_timeout)
                    });
                }
            }
        };
        let status = child.wait();
        let Some(response) = response else {
            let stderr_text = err_reader.join().unwrap_or_default();
            let last = stderr_text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message")
                .trim()
                .to_string();
            let status = status
                .map(|s| s.to_string())
                .unwrap_or_else(|e| e.to_string());
            return Err(ExecError::WorkerCrashed(format!("{status}: {last}")));
        };
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
                let _ = tx.send(event);
                return;
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
