//! `concord-model-bench`: the embedding model and its GEMM, measured side by side in one run.
//!
//! 1. Sentences per second of the all-MiniLM-L6-v2 job (one job for the whole batch, metered as
//!    providers run it, on the chosen adapter) against candle's BERT on the CPU (f32, the same
//!    token ids, one sentence at a time as the fidelity test runs it), on the same cores.
//! 2. GFLOP/s of the tiled, fenced `linear` operator (the model's feed-forward shape) against
//!    the `matrixmultiply` crate's sgemm on the same shape, and against this CPU's non-fused
//!    f32 peak (cores × clock × SIMD lanes × 2 ports: a multiply and an add a cycle each, no FMA,
//!    since bit-exact f32 cannot fuse).
//!
//! Usage: concord-model-bench [--sentences N] [--tokens M] [--backend vulkan|gl]
//!        [--adapter NAME] [--repeats R] [--out FILE]. On a machine with a GPU, `--adapter`
//!        picks it (scripts/model_bench.sh passes what it is given).

use std::fmt::Write as _;
use std::time::Instant;

use concord_compute::executor::{AdapterSelector, Backend, GpuDevice};
use concord_compute::kernels::transformer::{Params, LINEAR};
use concord_compute::kernels::{f32_bytes, SplitMix64};
use concord_model::candle_reference::CandleBert;
use concord_model::Model;
use concord_protocol::job::JobBuilder;

fn fail(msg: &str) -> ! {
    eprintln!("concord-model-bench: {msg}");
    std::process::exit(2)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// This CPU's non-fused f32 peak in GFLOP/s, and how it was computed.
fn cpu_peak() -> (f64, String) {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let mhz = info
        .lines()
        .filter_map(|l| {
            l.strip_prefix("cpu MHz")?
                .split(':')
                .nth(1)?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .fold(0.0, f64::max);
    let flags = info.lines().find(|l| l.starts_with("flags")).unwrap_or("");
    let lanes = if flags.contains(" avx512f") {
        16.0
    } else if flags.contains(" avx") {
        8.0
    } else {
        4.0
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let peak = cores * mhz / 1000.0 * lanes * 2.0;
    (
        peak,
        format!("{cores} cores × {:.2} GHz × {lanes} f32 lanes × 2 (one multiply and one add port, no FMA)", mhz / 1000.0),
    )
}

fn main() {
    let fixture = include_str!("../../../model/tests/data/sentences.txt");
    // Default: the whole fidelity set (202 sentences, short to 115 tokens, 15 languages).
    let mut sentences_n = fixture.lines().count();
    let mut tokens_m = 512u32;
    let mut repeats = 3usize;
    let mut selector = AdapterSelector::backend(Backend::Vulkan);
    let mut out: Option<String> = None;
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--sentences" => sentences_n = value.parse().unwrap_or_else(|_| fail("--sentences N")),
            "--tokens" => tokens_m = value.parse().unwrap_or_else(|_| fail("--tokens M")),
            "--repeats" => repeats = value.parse().unwrap_or(3).max(1),
            "--backend" => {
                selector.backend = Some(value.parse().unwrap_or_else(|e: String| fail(&e)))
            }
            "--adapter" => selector.name_contains = Some(value),
            "--out" => out = Some(value),
            other => fail(&format!(
                "unknown argument `{other}` (--sentences N, --tokens M, --backend vulkan|gl, --adapter NAME, --repeats R, --out FILE)"
            )),
        }
        i += 2;
    }
    let model = Model::load(&Model::default_dir())
        .unwrap_or_else(|e| fail(&format!("{e} (scripts/setup.sh downloads the model)")));
    let device = GpuDevice::open(&selector).unwrap_or_else(|e| fail(&e.to_string()));
    let sentences: Vec<&str> = fixture.lines().cycle().take(sentences_n).collect();
    let tokens = model
        .tokenize(&sentences)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let job = model
        .job(&tokens, 600_000)
        .unwrap_or_else(|e| fail(&e.to_string()));

    // 1. Sentences per second: the job against candle, alternating, `repeats` times each.
    let bert = CandleBert::load(&model).unwrap_or_else(|e| fail(&e.to_string()));
    let candle = |tokens: &[(Vec<u32>, Vec<u32>)]| {
        bert.embed(tokens).unwrap_or_else(|e| fail(&e.to_string()));
    };
    let (mut ours, mut ours_gpu, mut theirs) = (vec![], vec![], vec![]);
    for r in 0..repeats {
        eprintln!("embedding run {} of {repeats}", r + 1);
        let t = Instant::now();
        let run = device
            .run_metered(&job, &mut || {})
            .unwrap_or_else(|e| fail(&e.to_string()));
        ours.push(t.elapsed().as_secs_f64());
        ours_gpu.push(run.gpu_time.as_secs_f64());
        let t = Instant::now();
        candle(&tokens.sentences);
        theirs.push(t.elapsed().as_secs_f64());
    }
    let (ours, ours_gpu, theirs) = (median(ours), median(ours_gpu), median(theirs));
    let n = sentences.len() as f64;
    let count = tokens.count();
    let model_flop = model.shape.flops(count) as f64;

    // 2. GEMM: the feed-forward shape (tokens × intermediate × hidden).
    let (m, nn, k) = (tokens_m, model.shape.intermediate, model.shape.hidden);
    let mut rng = SplitMix64(5);
    let a: Vec<f32> = (0..m * k).map(|_| rng.next_f32()).collect();
    let w: Vec<f32> = (0..nn * k + nn).map(|_| rng.next_f32() * 0.1).collect();
    let p = Params {
        rows: m,
        n: nn,
        k,
        w: 0,
        b: nn * k,
        ..Params::default()
    };
    let mut jb = JobBuilder::new();
    let iw = jb.input(f32_bytes(&w));
    let ia = jb.input(f32_bytes(&a));
    let io = jb.output(u64::from(m * nn * 4));
    let iu = jb.uniform(p.bytes());
    jb.gas_per_invocation(concord_compute::kernels::transformer::linear_gas(k));
    jb.pass(
        LINEAR,
        "main",
        [nn / 16, m.div_ceil(16), 1],
        &[(0, iw), (1, ia), (2, io), (3, ia), (4, iu)],
    );
    let gemm_job = jb.build();
    let flop = 2.0 * f64::from(m) * f64::from(nn) * f64::from(k);
    let mut gpu_times = vec![];
    let mut cpu_times = vec![];
    let mut c = vec![0f32; (m * nn) as usize];
    for _ in 0..repeats.max(3) {
        let run = device
            .run_metered(&gemm_job, &mut || {})
            .unwrap_or_else(|e| fail(&e.to_string()));
        gpu_times.push(run.gpu_time.as_secs_f64());
        let t = Instant::now();
        // SAFETY: the slices hold m×k, k×n (W read transposed through its strides) and m×n.
        unsafe {
            matrixmultiply::sgemm(
                m as usize,
                k as usize,
                nn as usize,
                1.0,
                a.as_ptr(),
                k as isize,
                1,
                w.as_ptr(),
                1,
                k as isize,
                0.0,
                c.as_mut_ptr(),
                nn as isize,
                1,
            );
        }
        cpu_times.push(t.elapsed().as_secs_f64());
    }
    let gpu_gflops = flop / median(gpu_times) / 1e9;
    let cpu_gflops = flop / median(cpu_times) / 1e9;
    let (peak, peak_how) = cpu_peak();

    let mut md = String::new();
    let adapter = device.adapter().clone();
    writeln!(md, "## Embedding model (all-MiniLM-L6-v2)\n").unwrap();
    writeln!(
        md,
        "Measured by `concord-model-bench` (release build) on {}, adapter {adapter}; medians of {repeats} runs, \
         alternating. {sentences_n} sentences of the fidelity set ({count} tokens, longest {}); the model does \
         {:.1} GFLOP for them (matrix products only).\n",
        date(),
        tokens.longest(),
        model_flop / 1e9
    )
    .unwrap();
    writeln!(md, "| | seconds | sentences/s | tokens/s | GFLOP/s |").unwrap();
    writeln!(md, "|---|---|---|---|---|").unwrap();
    for (label, secs) in [
        ("Concord job (wall, one job)", ours),
        ("Concord job (GPU time)", ours_gpu),
        ("candle BERT, CPU f32", theirs),
    ] {
        writeln!(
            md,
            "| {label} | {secs:.2} | {:.1} | {:.0} | {:.2} |",
            n / secs,
            f64::from(count) / secs,
            model_flop / secs / 1e9
        )
        .unwrap();
    }
    writeln!(md, "\nConcord / candle: {:.2}× (wall).\n", theirs / ours).unwrap();
    writeln!(
        md,
        "GEMM, {m} × {nn} × {k} (the feed-forward layer's shape):\n"
    )
    .unwrap();
    writeln!(md, "| | GFLOP/s | of the non-fused peak |").unwrap();
    writeln!(md, "|---|---|---|").unwrap();
    writeln!(
        md,
        "| `linear` operator (16×16 outputs, k tiles of 64, fenced), GPU time | {gpu_gflops:.2} | {:.1} % |",
        100.0 * gpu_gflops / peak
    )
    .unwrap();
    writeln!(
        md,
        "| `matrixmultiply` sgemm, CPU | {cpu_gflops:.2} | {:.1} % |",
        100.0 * cpu_gflops / peak
    )
    .unwrap();
    writeln!(
        md,
        "| non-fused f32 peak of this CPU | {peak:.1} | 100 % |\n"
    )
    .unwrap();
    writeln!(md, "Peak: {peak_how}.\n").unwrap();
    writeln!(
        md,
        "What a GPU should reach (an estimate, not measured here): the fenced `linear` does one \
         multiply and one add per product (no FMA, no tensor cores), so its ceiling is half a GPU's \
         FP32 FMA peak: 33 TFLOP/s on an H100 SXM (67 TFLOP/s FP32). A plain 16 × 16 tiled kernel \
         commonly reaches 10–30 % of that, 3–10 TFLOP/s: at {:.1} MFLOP a token for this model, \
         150,000–500,000 tokens/s, about 10,000–30,000 sentences/s of 15 tokens, where lavapipe does \
         {:.0} tokens/s. On such a machine: `scripts/model_bench.sh --adapter NVIDIA --sentences 4096`.",
        model_flop / f64::from(count) / 1e6,
        f64::from(count) / ours
    )
    .unwrap();
    match out {
        Some(path) => std::fs::write(&path, &md).unwrap_or_else(|e| fail(&format!("{path}: {e}"))),
        None => print!("{md}"),
    }
}

fn date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
