//! Bad inputs: each one yields a typed error with a plain message, invalid jobs yield the
//! canonical error outcome, and the calling process survives all of them (the runaway shader
//! is killed in its worker process, and the same executor runs a good job afterwards).

use concord_compute::executor::{AdapterSelector, Backend, ExecError, Execution, Executor};
use concord_compute::kernels;
use concord_protocol::job::{Job, JobBuilder};
use concord_protocol::manifest::Buffer;
use concord_protocol::{error_outcome_hash, ErrorCode, Hash32, Outcome};
use concord_sdk::store::{BlobStore, StoreError};
use concord_sdk::testing::{closed_port, runtime, start_http_server};

const COPY: &str = "@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    dst[g.x] = src[g.x] * 3u;
}
";

fn executor(backend: Backend) -> Executor {
    std::env::set_var("XDG_RUNTIME_DIR", "/tmp");
    Executor::new(
        env!("CARGO_BIN_EXE_concord-worker"),
        AdapterSelector::backend(backend),
    )
}

/// A good job: 64 words in, 64 words out.
fn copy_job() -> JobBuilder {
    let mut jb = JobBuilder::new();
    let i = jb.input((0..256u32).map(|x| x as u8).collect());
    let o = jb.output(256);
    jb.pass(COPY, "main", [1, 1, 1], &[(0, i), (1, o)]);
    jb
}

/// Run on both backends; both must report the same invalid-job code; returns the message.
fn expect_invalid(job: &Job, code: ErrorCode) -> String {
    let mut message = String::new();
    for backend in Backend::ALL {
        match executor(backend).execute(job) {
            Ok(e @ Execution::Invalid(_)) => {
                assert_eq!(e.outcome(), Outcome::Invalid { code });
                assert_eq!(e.outcome().hash(), error_outcome_hash(code));
                let Execution::Invalid(inv) = e else {
                    unreachable!()
                };
                message = inv.to_string();
            }
            other => panic!("expected {code:?} on {backend:?}, got {other:?}"),
        }
    }
    eprintln!("{code:?}: {message}");
    message
}

#[test]
fn good_job_runs() {
    let Execution::Completed { outputs, .. } = executor(Backend::Vulkan)
        .execute(&copy_job().build())
        .unwrap()
    else {
        panic!()
    };
    let want: Vec<u8> = (0..64u32)
        .flat_map(|i| {
            let w = u32::from_le_bytes([
                (4 * i) as u8,
                (4 * i + 1) as u8,
                (4 * i + 2) as u8,
                (4 * i + 3) as u8,
            ]);
            w.wrapping_mul(3).to_le_bytes()
        })
        .collect();
    assert_eq!(outputs, vec![want]);
}

#[test]
fn malformed_wgsl_reports_line_and_column() {
    let mut jb = JobBuilder::new();
    let o = jb.output(16);
    jb.pass(
        "@compute @workgroup_size(1)\nfn main() {\n    let x = 1u +;\n}\n",
        "main",
        [1, 1, 1],
        &[(0, o)],
    );
    let msg = expect_invalid(&jb.build(), ErrorCode::WgslParse);
    assert!(
        msg.starts_with("invalid job (wgsl_parse): pass 0 at line 3, column 17:"),
        "{msg}"
    );
}

#[test]
fn missing_entry_point() {
    let mut job = copy_job().build();
    job.manifest.passes[0].entry_point = "mian".into();
    let msg = expect_invalid(&job, ErrorCode::MissingEntryPoint);
    assert!(
        msg.contains("asks for compute entry point `mian`, but the module has `main`"),
        "{msg}"
    );
}

#[test]
fn binding_type_mismatch() {
    let mut job = copy_job().build();
    // Bind the input blob where the shader writes.
    job.manifest.passes[0].bindings[1].buffer = 0;
    job.manifest.passes[0].bindings[0].buffer = 1;
    let msg = expect_invalid(&job, ErrorCode::BindingMismatch);
    assert!(
        msg.contains(
            "`dst` at @binding(1) must be declared `var<storage, read>` to match buffer 0"
        ),
        "{msg}"
    );
    assert!(msg.contains("line 2, column 23"), "{msg}");
    // A binding the shader uses but the pass does not provide.
    let mut job = copy_job().build();
    job.manifest.passes[0].bindings.pop();
    let msg = expect_invalid(&job, ErrorCode::BindingMismatch);
    assert!(
        msg.contains("`dst` uses @binding(1), but pass 0 binds no buffer there"),
        "{msg}"
    );
}

#[test]
fn buffer_over_the_limit() {
    let mut job = copy_job().build();
    job.manifest.buffers[1] = Buffer::Output {
        size: (128 << 20) + 4,
    };
    let msg = expect_invalid(&job, ErrorCode::BufferTooLarge);
    assert!(
        msg.contains("buffer 1 is 134217732 bytes; the limit is 134217728 bytes"),
        "{msg}"
    );
}

#[test]
fn dispatch_over_the_limit() {
    let mut job = copy_job().build();
    job.manifest.passes[0].dispatch = [65_536, 1, 1];
    let msg = expect_invalid(&job, ErrorCode::DispatchTooLarge);
    assert!(
        msg.contains(
            "pass 0 dispatches [65536, 1, 1] workgroups; each dimension must be 1..=65535"
        ),
        "{msg}"
    );
}

#[test]
fn too_many_passes() {
    let mut job = copy_job().build();
    let pass = job.manifest.passes[0].clone();
    job.manifest.passes = vec![pass; 17];
    let msg = expect_invalid(&job, ErrorCode::TooManyPasses);
    assert!(
        msg.contains("the manifest has 17 passes; at most 16 are allowed"),
        "{msg}"
    );
}

#[test]
fn wrong_output_size() {
    let mut job = copy_job().build();
    job.manifest.buffers[1] = Buffer::Output { size: 16 };
    let msg = expect_invalid(&job, ErrorCode::OutputSizeMismatch);
    assert!(
        msg.contains("buffer 1 is 16 bytes, but `dst` needs at least 256"),
        "{msg}"
    );
    job.manifest.buffers[1] = Buffer::Output { size: 18 };
    expect_invalid(&job, ErrorCode::BadBufferSize);
}

#[test]
fn declared_input_size_differs_from_blob() {
    let mut job = copy_job().build();
    if let Buffer::Input(r) = &mut job.manifest.buffers[0] {
        r.size += 4;
    }
    let msg = expect_invalid(&job, ErrorCode::InputSizeMismatch);
    assert!(
        msg.contains("buffer 0 declares 260 bytes but its blob has 256"),
        "{msg}"
    );
}

#[test]
fn float_atomics_and_big_workgroups_are_invalid_everywhere() {
    let mut jb = JobBuilder::new();
    let o = jb.output(4);
    jb.pass("@group(0) @binding(0) var<storage, read_write> acc: atomic<f32>;\n@compute @workgroup_size(1) fn main() { atomicAdd(&acc, 1.0); }\n", "main", [1, 1, 1], &[(0, o)]);
    expect_invalid(&jb.build(), ErrorCode::WgslValidation);
    let mut jb = JobBuilder::new();
    let o = jb.output(4);
    jb.pass("@group(0) @binding(0) var<storage, read_write> o: array<u32>;\n@compute @workgroup_size(512) fn main() { o[0] = 1u; }\n", "main", [1, 1, 1], &[(0, o)]);
    let msg = expect_invalid(&jb.build(), ErrorCode::WgslValidation);
    assert!(msg.contains("exceeds the WebGPU limits"), "{msg}");
}

/// A job that passes the static checks but that wgpu rejects (one buffer bound read-only and
/// read-write in the same dispatch): caught by the worker's error scopes, no panic, and the
/// same canonical outcome on both backends.
#[test]
fn device_validation_errors_are_caught_by_error_scopes() {
    const ALIAS: &str = "@group(0) @binding(0) var<storage, read> a: array<u32, 4>;
@group(0) @binding(1) var<storage, read_write> b: array<u32, 4>;
@compute @workgroup_size(1)
fn main() {
    b[0] = a[1];
}
";
    let mut jb = JobBuilder::new();
    let o = jb.output(16);
    jb.pass(ALIAS, "main", [1, 1, 1], &[(0, o), (1, o)]);
    let msg = expect_invalid(&jb.build(), ErrorCode::DeviceValidation);
    assert!(
        msg.starts_with("invalid job (device_validation): "),
        "{msg}"
    );
}

const RUNAWAY: &str = "@group(0) @binding(0) var<storage, read_write> o: array<u32>;
@group(0) @binding(1) var<uniform> step: vec4<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
    var x = g.x;
    for (var i = 0u; i < step.y; i = i + 1u) {
        x = x * step.x + 1u;
    }
    o[g.x % 4u] = x;
}
";

fn runaway(dispatch: [u32; 3], gas: u32) -> Job {
    let mut jb = JobBuilder::new();
    let o = jb.output(16);
    let u = jb.uniform(
        [3u32, 59_000, 0, 0]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect(),
    );
    jb.pass(RUNAWAY, "main", dispatch, &[(0, o), (1, u)]);
    jb.gas_per_invocation(gas);
    jb.max_runtime_ms(1500);
    jb.build()
}

/// A job whose static work bound is unbounded in practice (65535 × 65535 workgroups of a
/// long loop) is invalid before any GPU work: gas per invocation × invocations is too large.
#[test]
fn unbounded_work_is_a_bad_gas_budget() {
    let msg = expect_invalid(
        &runaway([65_535, 65_535, 1], 60_000),
        ErrorCode::BadGasBudget,
    );
    assert_eq!(
        msg,
        "invalid job (bad_gas_budget): the job may run 16492171104000000 loop iterations in total (invocations × gas per invocation, summed over passes); the limit is 1099511627776"
    );
}

/// The wall clock stays the provider's own safety net: a valid job within its gas budget
/// (about 6·10^10 loop iterations) that this machine cannot finish in 1.5 s is stopped,
/// and the caller survives.
#[test]
fn runaway_loop_is_stopped_and_the_caller_survives() {
    for backend in Backend::ALL {
        let exec = executor(backend);
        let job = runaway([16_384, 1, 1], 60_000);
        assert_eq!(
            concord_compute::wgsl::check_job(&job, &concord_protocol::Limits::V1).map(|_| ()),
            Ok(())
        );
        // A worker kept from an earlier job is the one the runaway runs on, and is killed.
        assert!(matches!(
            exec.execute(&copy_job().build()),
            Ok(Execution::Completed { .. })
        ));
        let before = exec.idle_worker_pid().expect("a worker kept between jobs");
        let t0 = std::time::Instant::now();
        let err = exec.execute(&job).unwrap_err();
        assert_eq!(
            exec.idle_worker_pid(),
            None,
            "the overrunning worker is gone"
        );
        assert!(!process_alive(before), "worker {before} was killed");
        assert!(
            matches!(err, ExecError::Timeout { limit_ms: 1500 }),
            "{backend:?}: {err}"
        );
        assert_eq!(
            err.to_string(),
            "the job ran longer than its limit of 1500 ms and was stopped"
        );
        assert!(t0.elapsed().as_secs() < 60);
        eprintln!("runaway on {backend:?}: {err} (after {:?})", t0.elapsed());
        // The same executor still works, on a fresh worker.
        assert!(matches!(
            exec.execute(&copy_job().build()),
            Ok(Execution::Completed { .. })
        ));
        assert_ne!(exec.idle_worker_pid(), Some(before));
    }
}

/// A worker killed while it runs a job (as an OOM killer or a driver crash would): the job
/// runs again on a fresh worker, here until its time limit, so the answer is the timeout, not
/// the crash.
#[test]
fn a_worker_killed_during_a_job_is_replaced_and_the_job_runs_again() {
    let exec = executor(Backend::Vulkan);
    assert!(matches!(
        exec.execute(&copy_job().build()),
        Ok(Execution::Completed { .. })
    ));
    let running = exec.idle_worker_pid().expect("a worker kept between jobs");
    let killer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(400));
        std::process::Command::new("kill")
            .args(["-9", &running.to_string()])
            .status()
            .expect("kill")
            .success()
    });
    let t0 = std::time::Instant::now();
    let err = exec.execute(&runaway([16_384, 1, 1], 60_000)).unwrap_err();
    assert!(
        killer.join().unwrap(),
        "the worker was running the job when killed"
    );
    assert!(
        matches!(err, ExecError::Timeout { limit_ms: 1500 }),
        "ran again on a fresh worker: {err}"
    );
    assert!(
        t0.elapsed() >= std::time::Duration::from_millis(1900),
        "{:?}",
        t0.elapsed()
    );
    assert!(matches!(
        exec.execute(&copy_job().build()),
        Ok(Execution::Completed { .. })
    ));
}

fn process_alive(pid: u32) -> bool {
    // A killed worker is reaped by the executor, so its /proc entry is gone.
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// One worker serves job after job with its device kept open, and its results are the same
/// bits a fresh worker gives; a worker that dies while idle is replaced by the next job.
#[test]
fn the_worker_persists_between_jobs_and_a_dead_one_is_replaced() {
    let exec = executor(Backend::Vulkan);
    let case = kernels::find_by_name("mix_u32").expect("library kernel");
    let jobs = [copy_job().build(), case.job.clone(), copy_job().build()];
    let mut pids = Vec::new();
    let mut hashes = Vec::new();
    for job in &jobs {
        let out = exec.execute(job).expect("runs");
        hashes.push(out.outcome());
        pids.push(exec.idle_worker_pid().expect("kept"));
    }
    assert!(pids.iter().all(|p| *p == pids[0]), "one worker: {pids:?}");
    assert_eq!(hashes[0], hashes[2]);
    for (job, hash) in jobs.iter().zip(&hashes) {
        let fresh = executor(Backend::Vulkan);
        assert_eq!(fresh.execute(job).expect("runs").outcome(), *hash);
    }
    // Killed while idle (an OOM killer, an operator): the next job starts a new worker.
    let idle = pids[0];
    assert!(std::process::Command::new("kill")
        .args(["-9", &idle.to_string()])
        .status()
        .expect("kill")
        .success());
    assert_eq!(exec.execute(&jobs[1]).expect("runs").outcome(), hashes[1]);
    let replaced = exec.idle_worker_pid().expect("kept");
    assert_ne!(replaced, idle);
}

#[test]
fn a_worker_that_answers_nothing_is_reported() {
    let exec = Executor::new("/bin/true", AdapterSelector::default());
    let err = exec.execute(&copy_job().build()).unwrap_err();
    assert!(matches!(err, ExecError::WorkerCrashed(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("the worker stopped without an answer (exit status: 0"),
        "{err}"
    );
}

#[test]
fn missing_worker_is_a_plain_error() {
    let exec = Executor::new("/nonexistent/concord-worker", AdapterSelector::default());
    let err = exec.execute(&copy_job().build()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the worker program /nonexistent/concord-worker could not be started:"),
        "{err}"
    );
}

/// Put every blob of `job` into `dir` (the directory the HTTP server serves).
fn publish(job: &Job, dir: &std::path::Path) {
    let rt = runtime();
    let store = BlobStore::local(dir).unwrap();
    for m in job.modules.values() {
        rt.block_on(store.put(m.as_bytes())).unwrap();
    }
    for b in job.blobs.values() {
        rt.block_on(store.put(b)).unwrap();
    }
}

#[test]
fn jobs_fetched_over_http_run_and_bad_blobs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_http_server(dir.path().to_path_buf());
    let store = BlobStore::open(&format!("http://{addr}")).unwrap();
    let rt = runtime();
    let case = kernels::find_by_name("gemm_u32").unwrap();
    publish(&case.job, dir.path());

    // Good: fetch over HTTP, run, equal to the CPU reference.
    let job = rt
        .block_on(store.fetch_job(case.job.manifest.clone()))
        .unwrap()
        .unwrap();
    assert_eq!(job, case.job);
    let exec = executor(Backend::Vulkan);
    let Execution::Completed { outputs, .. } = exec.execute(&job).unwrap() else {
        panic!()
    };
    assert_eq!(outputs, case.cpu_reference());

    // Blob hash mismatch: the server's copy of input 0 is corrupted.
    let Buffer::Input(a) = case.job.manifest.buffers[0] else {
        panic!()
    };
    let path = dir.path().join(a.hash.to_hex());
    let original = std::fs::read(&path).unwrap();
    let mut corrupted = original.clone();
    corrupted[0] ^= 1;
    std::fs::write(&path, &corrupted).unwrap();
    let err = rt
        .block_on(store.fetch_job(case.job.manifest.clone()))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::HashMismatch { expected, .. } if expected == a.hash),
        "{err}"
    );
    eprintln!("hash mismatch: {err}");

    // Missing blob.
    std::fs::remove_file(&path).unwrap();
    let err = rt
        .block_on(store.fetch_job(case.job.manifest.clone()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("blob {} is not in the store at http://{addr}", a.hash)
    );
    eprintln!("missing: {err}");

    // Oversize blob: the manifest says 16 bytes, the store holds more; refused before download.
    std::fs::write(&path, &original).unwrap();
    let mut small = case.job.manifest.clone();
    small.buffers[0] = Buffer::Input(concord_protocol::BlobRef {
        hash: a.hash,
        size: 16,
    });
    let err = rt.block_on(store.fetch_job(small)).unwrap_err();
    assert_eq!(
        err,
        StoreError::TooLarge {
            hash: a.hash,
            size: a.size,
            limit: 16
        }
    );
    eprintln!("oversize: {err}");

    // Unreachable store.
    let dead = BlobStore::open(&format!("http://127.0.0.1:{}", closed_port())).unwrap();
    let err = rt
        .block_on(dead.fetch_job(case.job.manifest.clone()))
        .unwrap_err();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err}");
    eprintln!("unreachable: {err}");

    // An invalid manifest is answered without touching the store.
    let mut bad = case.job.manifest.clone();
    bad.passes[0].dispatch = [0, 1, 1];
    let inv = rt.block_on(dead.fetch_job(bad)).unwrap().unwrap_err();
    assert_eq!(inv.code, ErrorCode::DispatchTooLarge);
    let _ = Hash32::of(b"");
}
