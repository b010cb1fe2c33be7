//! Every library kernel on lavapipe (Vulkan) and llvmpipe (GL) equals its CPU reference
//! bit for bit, run through the real executor and worker process.

use concord_compute::executor::{AdapterSelector, Backend, Execution, Executor, GpuDevice};
use concord_compute::kernels::{library, Size};
use concord_protocol::result_hash;

fn executor(backend: Backend) -> Executor {
    std::env::set_var("XDG_RUNTIME_DIR", "/tmp");
    Executor::new(
        env!("CARGO_BIN_EXE_concord-worker"),
        AdapterSelector::backend(backend),
    )
}

fn check_backend(backend: Backend) {
    let exec = executor(backend);
    for case in library(Size::Test) {
        let expected = case.cpu_reference();
        match exec.execute(&case.job) {
            Ok(Execution::Completed {
                outputs,
                result_hash: h,
                adapter,
                ..
            }) => {
                assert_eq!(adapter.backend, backend);
                assert!(
                    outputs == expected,
                    "{} on {}: GPU output differs from the CPU reference",
                    case.name,
                    adapter
                );
                assert_eq!(h, result_hash(&expected));
            }
            other => panic!("{} on {:?}: {:?}", case.name, backend, other),
        }
    }
}

#[test]
fn library_kernels_match_cpu_reference_on_vulkan() {
    check_backend(Backend::Vulkan);
}

#[test]
fn library_kernels_match_cpu_reference_on_gl() {
    check_backend(Backend::Gl);
}

/// Mesa's software rasterisers (llvmpipe, lavapipe) stop every loop after 65535 iterations
/// in total per invocation (gallivm's loop limiter). Unmetered, a job that loops longer gets
/// different bits there than on a hardware GPU; docs/determinism.md warns about it. This
/// test pins the behaviour so that the documentation is revisited if Mesa changes. Metered
/// (the protocol's executor), the same loops end identically everywhere: within the largest
/// budget (60 000, below the limiter) they complete, beyond it they are out of budget.
#[test]
fn software_rasteriser_loop_limit_is_known() {
    use concord_protocol::job::JobBuilder;
    use concord_protocol::{ErrorCode, Outcome};
    const LOOP: &str = "@group(0) @binding(0) var<storage, read_write> o: array<u32>;
@group(0) @binding(1) var<uniform> n: vec4<u32>;

@compute @workgroup_size(1)
fn main() {
    var c = 0u;
    for (var i = 0u; i < n.x; i = i + 1u) {
        c = c + 1u;
    }
    o[0] = c;
}
";
    let job = |n: u32| {
        let mut jb = JobBuilder::new();
        let o = jb.output(4);
        let u = jb.uniform([n, 0, 0, 0].iter().flat_map(|w| w.to_le_bytes()).collect());
        jb.pass(LOOP, "main", [1, 1, 1], &[(0, o), (1, u)]);
        jb.gas_per_invocation(60_000);
        jb.build()
    };
    for backend in Backend::ALL {
        let device = GpuDevice::open(&AdapterSelector::backend(backend)).unwrap();
        let adapter = device.adapter().clone();
        for (n, software_expect) in [(60_000u32, 60_000u32), (100_000, 65_535)] {
            let out = device.run_unmetered(&job(n), &mut || {}).unwrap();
            assert_eq!(out.gas, None);
            let got = u32::from_le_bytes(out.outputs[0][..4].try_into().unwrap());
            let want = if adapter.name.contains("llvmpipe") {
                software_expect
            } else {
                n
            };
            assert_eq!(got, want, "{adapter}: unmetered loop of {n}");
        }
        // Metered: 59 999 iterations are 60 000 gas (complete, exact); 100 000 run out.
        let Ok(Execution::Completed { outputs, .. }) = executor(backend).execute(&job(59_999))
        else {
            panic!("{backend:?}")
        };
        assert_eq!(outputs[0], 59_999u32.to_le_bytes().to_vec(), "{adapter}");
        let e = executor(backend).execute(&job(100_000)).unwrap();
        assert_eq!(
            e.outcome(),
            Outcome::Invalid {
                code: ErrorCode::OutOfBudget
            },
            "{adapter}"
        );
    }
}

/// An output written by pass 0 is read by pass 1 through a `var<storage, read>` binding.
#[test]
fn a_later_pass_reads_an_earlier_output_read_only() {
    use concord_protocol::job::JobBuilder;
    const FILL: &str = "@group(0) @binding(0) var<storage, read_write> a: array<u32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) l: vec3<u32>) {
    a[l.x] = l.x * l.x;
}
";
    const SUM: &str = "@group(0) @binding(0) var<storage, read> a: array<u32, 64>;
@group(0) @binding(1) var<storage, read_write> s: array<u32, 1>;
@compute @workgroup_size(1)
fn main() {
    var t = 0u;
    for (var i = 0u; i < 64u; i = i + 1u) {
        t = t + a[i];
    }
    s[0] = t;
}
";
    for backend in Backend::ALL {
        let mut jb = JobBuilder::new();
        let a = jb.output(256);
        let s = jb.output(4);
        jb.pass(FILL, "main", [1, 1, 1], &[(0, a)]);
        jb.pass(SUM, "main", [1, 1, 1], &[(0, a), (1, s)]);
        let Ok(Execution::Completed { outputs, .. }) = executor(backend).execute(&jb.build())
        else {
            panic!("{backend:?}")
        };
        let want: u32 = (0..64).map(|i| i * i).sum();
        assert_eq!(outputs[1], want.to_le_bytes().to_vec(), "{backend:?}");
    }
}

/// A small BERT encoder (random weights, 2 layers, packed sentences of different lengths) as
/// one multi-pass job with scratch buffers: the same result hash on Vulkan, GL and the CPU
/// reference, and the output is unit-length embeddings.
#[test]
fn a_bert_encoder_job_matches_its_cpu_reference_on_every_backend() {
    use concord_compute::kernels::transformer::encoder::{self, BertShape, Layout};
    use concord_compute::kernels::transformer::Tokens;
    use concord_compute::kernels::SplitMix64;
    let shape = BertShape {
        hidden: 64,
        heads: 2,
        intermediate: 128,
        layers: 2,
        vocab: 100,
        max_positions: 40,
        type_vocab: 2,
        eps: 1e-12,
    };
    let mut rng = SplitMix64(21);
    let layout = Layout::of(&shape);
    let weights: Vec<f32> = (0..layout.total).map(|_| rng.next_f32() * 0.3).collect();
    let tokens = Tokens {
        sentences: [3usize, 17, 1, 30]
            .iter()
            .map(|&len| {
                let ids = (0..len).map(|_| rng.next_u32() % 100).collect();
                let types = (0..len).map(|i| u32::from(i >= len / 2)).collect();
                (ids, types)
            })
            .collect(),
    };
    let bytes = concord_compute::kernels::f32_bytes(&weights);
    let job = encoder::job(&shape, bytes, &tokens, 60_000).unwrap();
    assert_eq!(job.manifest.version, 3, "scratch buffers make it version 3");
    assert_eq!(job.manifest.passes.len(), 2 + 7 * 2 + 2);
    let expected = encoder::reference(&shape, &weights, &tokens).unwrap();
    let expected_bytes = concord_compute::kernels::f32_bytes(&expected);
    for row in expected.chunks(64) {
        let norm: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
    for backend in [Backend::Vulkan, Backend::Gl] {
        match executor(backend).execute(&job) {
            Ok(Execution::Completed {
                outputs,
                result_hash: h,
                ..
            }) => {
                assert_eq!(outputs.len(), 1, "scratch buffers are not outputs");
                assert!(outputs[0] == expected_bytes, "{backend:?} differs");
                assert_eq!(h, result_hash(std::slice::from_ref(&expected_bytes)));
            }
            other => panic!("{backend:?}: {other:?}"),
        }
    }
}

/// A device keeps its compiled pipelines between runs (the agent's worker keeps its device):
/// a kernel run again hits the cache in every pass and computes the same bits; another gas
/// budget (another metered module) or another kernel compiles anew.
#[test]
fn a_device_reuses_compiled_pipelines_between_runs() {
    let device = GpuDevice::open(&AdapterSelector::backend(Backend::Vulkan)).unwrap();
    let cases = library(Size::Test);
    let (a, b) = (&cases[0], &cases[1]);
    let passes = |c: &concord_compute::kernels::KernelCase| c.job.manifest.passes.len() as u64;
    let first = device.run(&a.job, &mut || {}).unwrap();
    let stats = device.pipeline_cache_stats();
    assert_eq!((stats.hits, stats.misses), (0, passes(a)));
    let again = device.run(&a.job, &mut || {}).unwrap();
    assert_eq!(again.outputs, a.cpu_reference(), "{}", a.name);
    assert_eq!(again.outputs, first.outputs);
    let stats = device.pipeline_cache_stats();
    assert_eq!((stats.hits, stats.misses), (passes(a), passes(a)));
    let mut budget = a.job.clone();
    budget.manifest.gas_per_invocation += 1;
    device.run(&budget, &mut || {}).unwrap();
    let other = device.run(&b.job, &mut || {}).unwrap();
    assert_eq!(other.outputs, b.cpu_reference(), "{}", b.name);
    let stats = device.pipeline_cache_stats();
    assert_eq!(stats.hits, passes(a));
    assert_eq!(stats.misses, 2 * passes(a) + passes(b));
    assert!(stats.entries >= 2, "{stats:?}");
}
