//! `concord kernel ...`: `check` runs a kernel on every local backend (Vulkan, GL) and the
//! CPU reference where one exists, prints per-backend hash and time, each pass's gas use
//! (the most loop iterations one invocation ran, against the budget) and the lint findings,
//! and fails when the backends disagree; `adapters` lists GPUs; `list` lists library kernels.

use clap::{Args, Subcommand};
use std::path::Path;
use std::time::Instant;

use super::{exit, CliError, OutputFormat, Status};
use concord_compute::executor::{list_adapters, AdapterSelector, Backend, ExecError, Execution};
use concord_compute::kernels::{self, KernelCase};
use concord_compute::lint::{lint_wgsl, Finding};
use concord_compute::meter::GasReport;
use concord_protocol::job::Job;
use concord_protocol::{result_hash, Outcome};
use concord_protocol::{Hash32, Manifest};
use concord_sdk::store::BlobStore;

#[derive(Subcommand, Debug)]
pub enum KernelCommand {
    /// Run a kernel on every local backend and compare result hashes.
    Check(CheckArgs),
    /// List the GPU adapters wgpu finds (Vulkan and GL).
    Adapters,
    /// List the reproducible kernels of the library.
    List,
    /// Write library kernels as one JSON document for other clients (the web app's kernel
    /// picker): each kernel's manifest (JSON) and identity, WGSL sources, input blobs (hex)
    /// and the result hash of its CPU reference.
    Export(ExportArgs),
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Kernels to export (default: every kernel of the library).
    pub names: Vec<String>,
    /// Where to write the JSON (default: standard output).
    #[arg(long, short)]
    pub out: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// A WGSL file, a manifest (JSON), or the name of a library kernel.
    pub target: Option<String>,
    /// Check every kernel of the library.
    #[arg(long, conflicts_with = "target")]
    pub library: bool,
    /// Check the embedding model's job (all-MiniLM-L6-v2 on three sample sentences, from the
    /// model directory `scripts/setup.sh` fills; `CONCORD_MODEL_DIR` overrides) against its
    /// CPU reference; with `--library`, after the library.
    #[arg(long, conflicts_with = "target")]
    pub model: bool,
    /// Where a manifest's blobs are (directory, http(s)://, s3://bucket); default: the manifest's directory.
    #[arg(long)]
    pub store: Option<String>,
    /// Entry point of a bare WGSL file (default: the first compute entry point).
    #[arg(long)]
    pub entry: Option<String>,
    /// Workgroups to dispatch for a bare WGSL file, as x,y,z.
    #[arg(long, default_value = "1,1,1")]
    pub dispatch: String,
    /// Gas budget per invocation (loop-body entries) for a bare WGSL file; default: the
    /// manifest default (4096).
    #[arg(long, value_name = "N")]
    pub gas: Option<u32>,
    /// Print a markdown table instead of the plain report.
    #[arg(long)]
    pub markdown: bool,
    /// Also fail when the lint finds something.
    #[arg(long)]
    pub deny_lint: bool,
    /// A result hash obtained elsewhere (another machine or provider) that every backend must match.
    #[arg(long, value_name = "HASH")]
    pub expect: Option<String>,
    /// Runtime limit per backend in milliseconds (caps the manifest's own limit).
    #[arg(long)]
    pub timeout_ms: Option<u64>,
}

pub fn run(cmd: KernelCommand, output: OutputFormat) -> Result<Status, CliError> {
    match cmd {
        KernelCommand::Check(args) => check(&args, output),
        KernelCommand::Adapters => {
            let adapters = list_adapters();
            if adapters.is_empty() {
                println!("no Vulkan or GL adapters found");
            }
            for a in adapters {
                println!("{a}");
            }
            Ok(Status::Ok)
        }
        KernelCommand::List => {
            for case in kernels::library(kernels::Size::Test) {
                println!("{:<12} {} {}", case.name, case.ops, case.op_unit);
            }
            Ok(Status::Ok)
        }
        KernelCommand::Export(args) => export(&args),
    }
}

/// `kernel export`: the library as JSON, with identities a client recomputes to check its own
/// manifest encoding.
fn export(args: &ExportArgs) -> Result<Status, CliError> {
    let cases: Vec<KernelCase> = kernels::library(kernels::Size::Test)
        .into_iter()
        .filter(|c| args.names.is_empty() || args.names.iter().any(|n| n == c.name))
        .collect();
    if let Some(unknown) = args
        .names
        .iter()
        .find(|n| !cases.iter().any(|c| c.name == n.as_str()))
    {
        return Err(CliError::msg(format!(
            "no library kernel named `{unknown}` (see `concord kernel list`)"
        )));
    }
    let kernels: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| {
            let manifest: serde_json::Value =
                serde_json::from_str(&c.job.manifest.to_json()).expect("manifest JSON");
            serde_json::json!({
                "name": c.name,
                "ops": c.ops,
                "op_unit": c.op_unit,
                "manifest": manifest,
                "manifest_id": hex::encode(c.job.manifest.id()),
                "modules": c.job.modules.iter()
                    .map(|(h, src)| (h.to_hex(), serde_json::Value::from(src.as_str())))
                    .collect::<serde_json::Map<_, _>>(),
                "blobs": c.job.blobs.iter()
                    .map(|(h, bytes)| (h.to_hex(), serde_json::Value::from(hex::encode(bytes))))
                    .collect::<serde_json::Map<_, _>>(),
                "reference_result": result_hash(&c.cpu_reference()).to_hex(),
            })
        })
        .collect();
    let text = serde_json::to_string(&serde_json::json!({ "version": 1, "kernels": kernels }))
        .expect("JSON");
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| CliError::msg(format!("cannot write {}: {e}", path.display())))?,
        None => println!("{text}"),
    }
    Ok(Status::Ok)
}

/// One kernel to check.
struct Target {
    name: String,
    job: Job,
    reference: Option<KernelCase>,
    findings: Vec<Finding>,
}

/// One row of the report.
struct Row {
    label: String,
    adapter: String,
    /// Why the job is invalid, for people (never hashed).
    note: Option<String>,
    /// The gas meters of a run (none for the CPU, `--expect`, or a job invalid before running).
    gas: Option<GasReport>,
    result: Result<(Outcome, Option<f64>, f64), String>,
}

fn parse_dispatch(s: &str) -> Result<[u32; 3], CliError> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let bad = || {
        CliError::msg(format!(
            "`{s}` is not a dispatch size; write x,y,z (for example 4,4,1)"
        ))
    };
    if parts.len() != 3 {
        return Err(bad());
    }
    let mut out = [0u32; 3];
    for (o, p) in out.iter_mut().zip(parts) {
        *o = p.parse().map_err(|_| bad())?;
    }
    Ok(out)
}

fn lint_job(job: &Job) -> Vec<Finding> {
    let mut out = Vec::new();
    for source in job.modules.values() {
        if let Ok(f) = lint_wgsl(source) {
            out.extend(f);
        }
    }
    out
}

fn load_target(args: &CheckArgs, target: &str) -> Result<Target, CliError> {
    let path = Path::new(target);
    if !path.exists() {
        if let Some(case) = kernels::find_by_name(target) {
            return Ok(library_target(case));
        }
        return Err(CliError::msg(format!(
            "{target} is neither a file nor a library kernel (see `concord kernel list`)"
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::msg(format!("cannot read {target}: {e}")))?;
    if path.extension().is_some_and(|e| e == "json") {
        let manifest =
            Manifest::from_json(&text).map_err(|e| CliError::msg(format!("{target}: {e}")))?;
        let location = match &args.store {
            Some(s) => s.clone(),
            None => path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .display()
                .to_string(),
        };
        let store = BlobStore::open(&location)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::msg(format!("cannot start the async runtime: {e}")))?;
        // Every blob of a checked manifest is the user's own input: a missing or damaged one
        // is bad input (exit 2), whatever the store says.
        let fetched = rt
            .block_on(store.fetch_job(manifest))
            .map_err(|e| CliError::new(exit::INPUT, e.to_string()))?;
        let job = match fetched {
            Ok(job) => job,
            Err(invalid) => return Err(CliError::msg(format!("{target}: {invalid}"))),
        };
        let findings = lint_job(&job);
        let reference = job.manifest.passes.first().and_then(|_| {
            let case = kernels::find_by_source(job.module_source(0))?;
            (case.job == job).then_some(case)
        });
        return Ok(Target {
            name: target.to_string(),
            job,
            reference,
            findings,
        });
    }
    if let Some(case) = kernels::find_by_source(&text) {
        let mut t = library_target(case);
        t.name = format!("{target} (library kernel {})", t.name);
        return Ok(t);
    }
    let findings = match lint_wgsl(&text) {
        Ok(f) => f,
        Err(e) => return Err(CliError::msg(format!("{target}: {e}"))),
    };
    let dispatch = parse_dispatch(&args.dispatch)?;
    let job = match concord_compute::wgsl::synthesize_job(&text, args.entry.as_deref(), dispatch) {
        Ok(mut job) => {
            if let Some(gas) = args.gas {
                job.manifest.gas_per_invocation = gas;
            }
            job
        }
        Err(invalid) => {
            // Still show the lint: that is why the kernel cannot run.
            print_findings(target, &findings);
            return Err(CliError::msg(format!("{target}: {invalid}")));
        }
    };
    Ok(Target {
        name: target.to_string(),
        job,
        reference: None,
        findings,
    })
}

fn model_target() -> Result<Target, CliError> {
    let dir = concord_model::Model::default_dir();
    let case = concord_model::Model::load(&dir)
        .and_then(concord_model::Model::sample_case)
        .map_err(|e| CliError::msg(format!("the embedding model ({}): {e}", dir.display())))?;
    Ok(Target {
        name: case.name.to_string(),
        findings: lint_job(&case.job),
        job: case.job.clone(),
        reference: Some(case),
    })
}

fn library_target(case: KernelCase) -> Target {
    let findings = lint_wgsl(case.wgsl).unwrap_or_default();
    Target {
        name: case.name.to_string(),
        job: case.job.clone(),
        reference: Some(case),
        findings,
    }
}

fn print_findings(name: &str, findings: &[Finding]) {
    if findings.is_empty() {
        println!("lint: no reproducibility findings");
    }
    for f in findings {
        println!("lint: {name}:{f}");
    }
}

fn run_rows(
    target: &Target,
    timeout_ms: Option<u64>,
    expect: Option<Hash32>,
) -> Result<Vec<Row>, CliError> {
    let mut rows = Vec::new();
    if let Some(h) = expect {
        rows.push(Row {
            label: "expect".into(),
            adapter: "given with --expect".into(),
            note: None,
            gas: None,
            result: Ok((Outcome::Success { result_hash: h }, None, 0.0)),
        });
    }
    for backend in Backend::ALL {
        let mut exec = crate::self_hosted(AdapterSelector::backend(backend))?;
        if let Some(ms) = timeout_ms {
            exec = exec.max_runtime(std::time::Duration::from_millis(ms));
        }
        let t0 = Instant::now();
        let (result, gas) = match exec.execute_metered(&target.job) {
            Ok(m) => (Ok(m.execution), m.gas),
            Err(e) => (Err(e), None),
        };
        let wall = t0.elapsed().as_secs_f64() * 1e3;
        let mut note = None;
        let (adapter, result) = match result {
            Ok(Execution::Completed {
                result_hash,
                gpu_time,
                adapter,
                ..
            }) => (
                adapter.name.clone(),
                Ok((
                    Outcome::Success { result_hash },
                    Some(gpu_time.as_secs_f64() * 1e3),
                    wall,
                )),
            ),
            Ok(Execution::Invalid(e)) => {
                note = Some(e.to_string());
                ("-".to_string(), Ok((e.outcome(), None, wall)))
            }
            Err(ExecError::Device(e)) => ("-".to_string(), Err(format!("not available: {e}"))),
            Err(e) => ("-".to_string(), Err(e.to_string())),
        };
        rows.push(Row {
            label: backend.name().to_string(),
            adapter,
            note,
            gas,
            result,
        });
    }
    if let Some(case) = &target.reference {
        let t0 = Instant::now();
        let h = result_hash(&case.cpu_reference());
        let wall = t0.elapsed().as_secs_f64() * 1e3;
        rows.push(Row {
            label: "cpu".into(),
            adapter: "CPU reference (Rust)".into(),
            note: None,
            gas: None,
            result: Ok((Outcome::Success { result_hash: h }, None, wall)),
        });
    }
    Ok(rows)
}

/// Compare rows: `Some(true)` all that ran agree, `Some(false)` they disagree or one failed
/// to run the job, `None` nothing ran.
fn verdict(rows: &[Row]) -> (Option<bool>, usize) {
    let hashes: Vec<Hash32> = rows
        .iter()
        .filter_map(|r| r.result.as_ref().ok().map(|(o, _, _)| o.hash()))
        .collect();
    let failed = rows
        .iter()
        .any(|r| matches!(&r.result, Err(e) if !e.starts_with("not available")));
    if hashes.is_empty() {
        return (if failed { Some(false) } else { None }, 0);
    }
    (
        Some(!failed && hashes.iter().all(|h| *h == hashes[0])),
        hashes.len(),
    )
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Success { result_hash } => result_hash.to_hex(),
        Outcome::Invalid { code } => {
            format!("{} (invalid: {})", outcome.hash().to_hex(), code.name())
        }
    }
}

fn check(args: &CheckArgs, output: OutputFormat) -> Result<Status, CliError> {
    let text = !args.markdown && output == OutputFormat::Text;
    let mut targets: Vec<Target> = if args.library {
        kernels::library(kernels::Size::Test)
            .into_iter()
            .map(library_target)
            .collect()
    } else if args.model {
        vec![]
    } else {
        let Some(t) = &args.target else {
            return Err(CliError::msg(
                "give a WGSL file, a manifest or a kernel name, or --library or --model",
            ));
        };
        vec![load_target(args, t)?]
    };
    if args.model {
        targets.push(model_target()?);
    }
    let expect =
        match &args.expect {
            Some(h) => Some(Hash32::from_hex(h).map_err(|_| {
                CliError::msg(format!("--expect {h} is not a 64-character hex hash"))
            })?),
            None => None,
        };
    let mut status = Status::Ok;
    let mut table = Vec::new();
    for target in &targets {
        if text {
            println!(
                "kernel {}  (job {})",
                target.name,
                hex::encode(target.job.manifest.id())
            );
            print_findings(&target.name, &target.findings);
        }
        let rows = run_rows(target, args.timeout_ms, expect)?;
        let (agree, ran) = verdict(&rows);
        if text {
            println!(
                "{:<7} {:<36} {:<64} {:>9} {:>9}",
                "backend", "adapter", "result hash", "gpu ms", "wall ms"
            );
            for r in &rows {
                match &r.result {
                    Ok((o, gpu, wall)) => println!(
                        "{:<7} {:<36} {:<64} {:>9} {:>9.1}",
                        r.label,
                        truncate(&r.adapter, 36),
                        describe(o),
                        gpu.map_or("-".to_string(), |g| format!("{g:.2}")),
                        wall
                    ),
                    Err(e) => println!("{:<7} {e}", r.label),
                }
                if let Some(note) = &r.note {
                    println!("        {note}");
                }
                if let Some(gas) = &r.gas {
                    for line in gas_lines(gas) {
                        println!("        {line}");
                    }
                }
            }
            match agree {
                Some(true) => println!("ok: all {ran} results agree"),
                Some(false) => println!("FAIL: the backends disagree"),
                None => println!("FAIL: no backend could run the kernel"),
            }
            println!();
        }
        if agree != Some(true) || (args.deny_lint && !target.findings.is_empty()) {
            status = Status::CheckFailed;
        }
        table.push((target, rows, agree));
    }
    if output == OutputFormat::Json && !args.markdown {
        let kernels: Vec<serde_json::Value> = table
            .iter()
            .map(|(target, rows, agree)| {
                serde_json::json!({
                    "kernel": target.name,
                    "job": hex::encode(target.job.manifest.id()),
                    "lint": target.findings.iter().map(|f| serde_json::json!({
                        "line": f.line, "column": f.column, "kind": f.kind.name(), "message": f.message,
                    })).collect::<Vec<_>>(),
                    "results": rows.iter().map(|r| match &r.result {
                        Ok((o, gpu, wall)) => serde_json::json!({
                            "backend": r.label, "adapter": r.adapter, "hash": o.hash().to_hex(),
                            "invalid": match o { Outcome::Invalid { code } => Some(code.name()), _ => None },
                            "message": r.note, "gpu_ms": gpu, "wall_ms": wall,
                            "gas": r.gas.as_ref().map(|g| g.passes.iter().enumerate().map(|(p, pass)| serde_json::json!({
                                "pass": p, "max_used": pass.max_used, "budget": g.budget,
                                "out_of_budget": pass.out_of_budget,
                            })).collect::<Vec<_>>()),
                        }),
                        Err(e) => serde_json::json!({ "backend": r.label, "error": e }),
                    }).collect::<Vec<_>>(),
                    "agree": agree,
                })
            })
            .collect();
        println!("{}", serde_json::json!({ "kernels": kernels }));
    }
    if args.markdown {
        println!("| kernel | Vulkan (lavapipe) | GL (llvmpipe) | CPU reference | all equal |");
        println!("|---|---|---|---|---|");
        for (target, rows, agree) in &table {
            let cell = |label: &str| {
                rows.iter()
                    .find(|r| r.label == label)
                    .map_or("-".to_string(), |r| match &r.result {
                        Ok((o, _, _)) => format!("`{}`", o.hash().to_hex()),
                        Err(e) => e.clone(),
                    })
            };
            println!(
                "| {} | {} | {} | {} | {} |",
                target.name,
                cell("vulkan"),
                cell("gl"),
                cell("cpu"),
                if *agree == Some(true) {
                    "yes"
                } else {
                    "**no**"
                }
            );
        }
    }
    Ok(status)
}

/// One line per pass: the most gas one invocation used against the budget.
fn gas_lines(gas: &GasReport) -> Vec<String> {
    gas.passes
        .iter()
        .enumerate()
        .map(|(p, pass)| {
            if pass.out_of_budget {
                format!(
                    "gas: pass {p}: out of budget (an invocation needed more than {} loop iterations)",
                    gas.budget
                )
            } else {
                let share = if gas.budget == 0 {
                    100.0
                } else {
                    f64::from(pass.max_used) * 100.0 / f64::from(gas.budget)
                };
                format!(
                    "gas: pass {p}: at most {} of {} loop iterations per invocation ({share:.0}% of the budget)",
                    pass.max_used, gas.budget
                )
            }
        })
        .collect()
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}
