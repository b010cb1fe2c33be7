//! `concord-bench`: executor benchmarks. For every library kernel (test and bench sizes) on each local
//! adapter: throughput from the GPU time (submit to readback) against the CPU reference in
//! the same run, outputs checked against the reference; the cost of gas metering (every
//! kernel run metered and unmetered, alternately, in the same run); and result hashing
//! against plain single-core blake3. Writes a markdown report (min / median / max over
//! repeats). `--meter-only --meter-size test` is a quick run of the metering part alone.

use concord_compute::executor::{AdapterSelector, Backend, GpuDevice};
use concord_compute::kernels::{library, KernelCase, Size};
use concord_protocol::result_hash;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

struct Stats {
    min: f64,
    median: f64,
    max: f64,
}

/// Throughput stats (units per second) from durations.
fn rate(units: f64, times: &[Duration]) -> Stats {
    let mut r: Vec<f64> = times.iter().map(|t| units / t.as_secs_f64()).collect();
    r.sort_by(|a, b| a.total_cmp(b));
    Stats {
        min: r[0],
        median: r[r.len() / 2],
        max: r[r.len() - 1],
    }
}

fn fmt(s: &Stats) -> String {
    format!("{:.3} / {:.3} / {:.3}", s.min, s.median, s.max)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|kb| format!("{:.0} GiB", kb as f64 / 1048576.0))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores available, {mem} RAM")
}

fn main() {
    let mut repeats = 5usize;
    let mut out_path: Option<String> = None;
    let mut backends: Vec<Backend> = Backend::ALL.to_vec();
    let mut hash_mib = 64usize;
    let mut meter_only = false;
    let mut meter_size = Size::Bench;
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--repeats" => repeats = value.parse().unwrap_or(5).max(1),
            "--out" => out_path = Some(value),
            "--backend" => backends = vec![value.parse().unwrap_or_else(|e: String| fail(&e))],
            "--hash-mib" => hash_mib = value.parse().unwrap_or(64).max(1),
            "--meter-only" => {
                meter_only = true;
                i += 1;
                continue;
            }
            "--meter-size" => {
                meter_size = match value.as_str() {
                    "test" => Size::Test,
                    "bench" => Size::Bench,
                    other => fail(&format!("--meter-size {other}: use test or bench")),
                }
            }
            other => fail(&format!("unknown argument `{other}` (use --repeats N, --out FILE, --backend vulkan|gl, --hash-mib N, --meter-only, --meter-size test|bench)")),
        }
        i += 2;
    }
    let command = std::env::var("CONCORD_BENCH_COMMAND").unwrap_or_else(|_| args.join(" "));
    let mut md = String::new();
    let date = std::process::Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    writeln!(md, "# Executor benchmarks\n").unwrap();
    writeln!(md, "Produced by `{command}` on {date}.\n").unwrap();
    writeln!(md, "- machine: {}", machine()).unwrap();
    writeln!(
        md,
        "- build: release, `concord-bench` (bench/src/bin/concord-bench.rs)"
    )
    .unwrap();
    writeln!(
        md,
        "- repeats: {repeats} per figure after one warm-up run; figures are min / median / max"
    )
    .unwrap();
    writeln!(md, "- GPU figures use the GPU time of one run (queue submit until every output and the gas meters are read back; shader compilation and upload excluded); runs are metered, as the protocol runs them. The CPU reference is the plain single-threaded Rust reference of each kernel, in the same process. Every GPU run's outputs are compared with the reference and must be identical.\n").unwrap();
    if meter_only {
        metering(&mut md, &backends, meter_size, repeats);
        write_out(out_path, &md);
        return;
    }

    // Every kernel at both library sizes: the small test size and the bench size.
    let cases: Vec<(&str, concord_compute::kernels::KernelCase)> = library(Size::Test)
        .into_iter()
        .map(|c| ("test", c))
        .chain(library(Size::Bench).into_iter().map(|c| ("bench", c)))
        .collect();
    eprintln!("computing CPU references ...");
    let mut cpu_rows = Vec::new();
    let mut references = Vec::new();
    for (_, case) in &cases {
        let reference = case.cpu_reference();
        let mut times = Vec::new();
        for _ in 0..repeats {
            let t0 = Instant::now();
            let r = case.cpu_reference();
            times.push(t0.elapsed());
            assert!(
                r == reference,
                "the CPU reference of {} is not deterministic",
                case.name
            );
        }
        cpu_rows.push(rate(case.ops as f64 / 1e9, &times));
        references.push(reference);
    }

    for &backend in &backends {
        let device = match GpuDevice::open(&AdapterSelector::backend(backend)) {
            Ok(d) => d,
            Err(e) => {
                writeln!(md, "## {}\n\nnot available: {e}\n", backend.name()).unwrap();
                continue;
            }
        };
        let a = device.adapter();
        writeln!(
            md,
            "## {} — {} ({}, {})\n",
            backend.name(),
            a.name,
            a.device_type,
            a.driver
        )
        .unwrap();
        writeln!(md, "| kernel | work per run | GPU G/s (min / median / max) | CPU reference G/s (min / median / max) | GPU ÷ CPU (median) | outputs equal |").unwrap();
        writeln!(md, "|---|---|---|---|---|---|").unwrap();
        for (((size, case), cpu), reference) in cases.iter().zip(&cpu_rows).zip(&references) {
            eprintln!("{} on {} ...", case.name, backend.name());
            let mut times = Vec::new();
            let mut equal = true;
            for run in 0..=repeats {
                match device.run(&case.job, &mut || {}) {
                    Ok(out) => {
                        equal &= out.outputs == *reference;
                        if run > 0 {
                            times.push(out.gpu_time);
                        }
                    }
                    Err(e) => fail(&format!("{} on {}: {e}", case.name, backend.name())),
                }
            }
            let gpu = rate(case.ops as f64 / 1e9, &times);
            let unit = if case.op_unit == "FLOP" {
                "GFLOP"
            } else {
                "Gop"
            };
            writeln!(
                md,
                "| {} ({size}) | {:.3} M{} | {} {unit}/s | {} {unit}/s | {:.2} | {} |",
                case.name,
                case.ops as f64 / 1e6,
                case.op_unit,
                fmt(&gpu),
                fmt(cpu),
                gpu.median / cpu.median,
                if equal { "yes" } else { "**NO**" }
            )
            .unwrap();
        }
        writeln!(md).unwrap();
    }

    metering(&mut md, &backends, meter_size, repeats);

    eprintln!("hashing ...");
    let buf: Vec<u8> = (0..hash_mib << 20)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761) as u8)
        .collect();
    let gb = buf.len() as f64 / 1e9;
    let (mut ours, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..=repeats {
        let t0 = Instant::now();
        std::hint::black_box(result_hash(&[&buf[..]]));
        ours.push(t0.elapsed());
        let t0 = Instant::now();
        std::hint::black_box(blake3::hash(&buf));
        plain.push(t0.elapsed());
    }
    let (ours, plain) = (rate(gb, &ours[1..]), rate(gb, &plain[1..]));
    writeln!(md, "## Result hashing\n").unwrap();
    writeln!(md, "One {hash_mib} MiB output buffer, single core (blake3 without rayon; SIMD as detected at run time).\n").unwrap();
    writeln!(md, "| hash | GB/s (min / median / max) |\n|---|---|").unwrap();
    writeln!(
        md,
        "| `result_hash` (derive-key mode, index and length prefixes) | {} |",
        fmt(&ours)
    )
    .unwrap();
    writeln!(md, "| plain `blake3::hash` | {} |", fmt(&plain)).unwrap();
    let ratio = ours.median / plain.median;
    let verdict = if ours.min <= plain.max && plain.min <= ours.max {
        " The min–max ranges overlap: the framing (16 bytes per buffer) and key derivation cost nothing measurable.".to_string()
    } else {
        format!(
            " The ranges do not overlap: `result_hash` is {:.1}% {} than plain blake3 in this run.",
            (1.0 - ratio).abs() * 100.0,
            if ratio < 1.0 { "slower" } else { "faster" }
        )
    };
    writeln!(
        md,
        "\nRatio `result_hash` ÷ plain (median): {ratio:.3}.{verdict}"
    )
    .unwrap();
    writeln!(md, "\n## Notes\n").unwrap();
    writeln!(md, "- Without a GPU the \"GPU\" is Mesa's software rasteriser (lavapipe for Vulkan, llvmpipe for GL) on the same CPU cores as the reference, so the ratios compare LLVM-compiled WGSL on all cores against scalar Rust on one core, not a GPU against a CPU.").unwrap();
    writeln!(md, "- The GEMMs are the plain reproducible kernels (one invocation per output element, fixed k order, no tiling); the f32 GEMM also pays for its contraction fences.").unwrap();
    writeln!(md, "- The machine may be shared with other work (builds) while the benchmark runs; min–max spreads include that noise, medians are the figures to compare.").unwrap();
    writeln!(md, "- `reduce_f32` has a fixed shape (at most 256 × 256 elements in two passes); its run is dominated by submit and readback latency, not arithmetic.").unwrap();

    write_out(out_path, &md);
}

fn write_out(out_path: Option<String>, md: &str) {
    match out_path {
        Some(p) => {
            std::fs::write(&p, md).unwrap_or_else(|e| fail(&format!("cannot write {p}: {e}")))
        }
        None => print!("{md}"),
    }
}

/// GPU time of the median run.
fn median(times: &[Duration]) -> Duration {
    let mut t = times.to_vec();
    t.sort();
    t[t.len() / 2]
}

fn ms(times: &[Duration]) -> String {
    let mut t: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    t.sort_by(|a, b| a.total_cmp(b));
    format!(
        "{:.2} / {:.2} / {:.2}",
        t[0],
        t[t.len() / 2],
        t[t.len() - 1]
    )
}

/// The metering section: every library kernel at `size`, metered and unmetered runs
/// alternating on the same device (so drift and machine noise hit both alike).
fn metering(md: &mut String, backends: &[Backend], size: Size, repeats: usize) {
    let size_name = match size {
        Size::Test => "test",
        Size::Bench => "bench",
    };
    let cases: Vec<KernelCase> = library(size);
    let references: Vec<Vec<Vec<u8>>> = cases.iter().map(KernelCase::cpu_reference).collect();
    writeln!(md, "## Gas metering overhead ({size_name} size)\n").unwrap();
    writeln!(md, "Each kernel's GPU time unmetered (the validated module as naga IR) and metered (the same IR with the gas counter, loop checks and meter readback, `compute/src/meter.rs`), {repeats} runs of each after a warm-up, alternating in one process. Overhead = metered median ÷ unmetered median − 1. Budgets are the library manifests' (exactly what each kernel uses).\n").unwrap();
    for &backend in backends {
        let device = match GpuDevice::open(&AdapterSelector::backend(backend)) {
            Ok(d) => d,
            Err(e) => {
                writeln!(md, "#### {}\n\nnot available: {e}\n", backend.name()).unwrap();
                continue;
            }
        };
        let a = device.adapter();
        writeln!(md, "#### {} — {} ({})\n", backend.name(), a.name, a.driver).unwrap();
        writeln!(md, "| kernel | gas budget | max gas used | unmetered GPU ms (min / median / max) | metered GPU ms (min / median / max) | overhead (median) | outputs equal |").unwrap();
        writeln!(md, "|---|---|---|---|---|---|---|").unwrap();
        let mut overheads = Vec::new();
        for (case, reference) in cases.iter().zip(&references) {
            eprintln!("metering {} on {} ...", case.name, backend.name());
            let (mut plain, mut metered) = (Vec::new(), Vec::new());
            let mut equal = true;
            let mut used = 0;
            for run in 0..=repeats {
                let u = device
                    .run_unmetered(&case.job, &mut || {})
                    .unwrap_or_else(|e| fail(&format!("{} unmetered: {e}", case.name)));
                let m = device
                    .run(&case.job, &mut || {})
                    .unwrap_or_else(|e| fail(&format!("{} metered: {e}", case.name)));
                equal &= u.outputs == *reference && m.outputs == *reference;
                used = m.gas.as_ref().map_or(0, |g| {
                    g.passes.iter().map(|p| p.max_used).max().unwrap_or(0)
                });
                if run > 0 {
                    plain.push(u.gpu_time);
                    metered.push(m.gpu_time);
                }
            }
            let overhead = median(&metered).as_secs_f64() / median(&plain).as_secs_f64() - 1.0;
            overheads.push(overhead);
            writeln!(
                md,
                "| {} | {} | {used} | {} | {} | {:+.1}% | {} |",
                case.name,
                case.job.manifest.gas_per_invocation,
                ms(&plain),
                ms(&metered),
                overhead * 100.0,
                if equal { "yes" } else { "**NO**" }
            )
            .unwrap();
        }
        overheads.sort_by(|a, b| a.total_cmp(b));
        let mid = overheads[overheads.len() / 2];
        writeln!(
            md,
            "\nMedian overhead over the kernels: {:+.1}% (goal ≤ 10%: {}).\n",
            mid * 100.0,
            if mid <= 0.10 { "met" } else { "**not met**" }
        )
        .unwrap();
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(2)
}
