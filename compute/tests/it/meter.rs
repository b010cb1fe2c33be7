//! Deterministic metering on real devices (lavapipe, llvmpipe) through the executor and its
//! worker: a job over its gas budget ends in the same canonical outcome on every backend and
//! in the CPU reference of the `spin` kernel; a job exactly at its budget succeeds and agrees
//! with the reference; nested loops, loops in helper functions and loops with barriers are
//! metered; the static gas limits are invalid-job outcomes.

use concord_compute::executor::{AdapterSelector, Backend, Execution, Executor, Metered};
use concord_compute::kernels::spin::Spin;
use concord_compute::kernels::{library, Size};
use concord_compute::meter::GasReport;
use concord_protocol::job::{Job, JobBuilder};
use concord_protocol::{error_outcome_hash, ErrorCode, Limits, Outcome};

fn executor(backend: Backend) -> Executor {
    std::env::set_var("XDG_RUNTIME_DIR", "/tmp");
    Executor::new(
        env!("CARGO_BIN_EXE_concord-worker"),
        AdapterSelector::backend(backend),
    )
}

fn run(backend: Backend, job: &Job) -> (Execution, Option<GasReport>) {
    let Metered { execution, gas } = executor(backend)
        .execute_metered(job)
        .unwrap_or_else(|e| panic!("{backend:?}: {e}"));
    (execution, gas)
}

/// 128 invocations with 0..=6 rounds of 5 inner iterations each.
fn spin(budget: u32) -> Spin {
    Spin {
        rounds: (0..128).map(|i| i % 7).collect(),
        inner: 5,
        budget,
    }
}

const NEED: u32 = 6 + 1 + 6 * (5 + 1);

#[test]
fn out_of_budget_gives_the_same_outcome_on_every_backend_and_the_reference() {
    assert_eq!(u64::from(NEED), Spin::gas(6, 5));
    let s = spin(NEED - 1);
    let reference = s.reference();
    let want = error_outcome_hash(ErrorCode::OutOfBudget);
    assert_eq!(reference.outcome.hash(), want);
    for backend in Backend::ALL {
        let (e, gas) = run(backend, &s.job());
        assert_eq!(
            e.outcome(),
            Outcome::Invalid {
                code: ErrorCode::OutOfBudget
            },
            "{backend:?}: {e:?}"
        );
        assert_eq!(e.outcome().hash(), reference.outcome.hash());
        let gas = gas.expect("the meters of a job that ran");
        assert!(gas.passes[0].out_of_budget, "{gas:?}");
        assert!(gas.passes[0].max_used > NEED - 1, "{gas:?}");
        let Execution::Invalid(inv) = e else {
            unreachable!()
        };
        assert_eq!(
            inv.to_string(),
            format!("invalid job (out_of_budget): an invocation of pass 0 needed more than its gas budget of {} loop iterations", NEED - 1)
        );
    }
}

/// The job the agents' end-to-end test submits (`Spin::beyond_any_budget`): the same
/// out-of-budget outcome hash on Vulkan (lavapipe), GL (llvmpipe) and the CPU reference.
#[test]
fn the_job_beyond_any_budget_has_one_outcome_everywhere() {
    let s = Spin::beyond_any_budget();
    let want = error_outcome_hash(ErrorCode::OutOfBudget);
    assert_eq!(s.reference().outcome.hash(), want);
    for backend in Backend::ALL {
        let (e, gas) = run(backend, &s.job());
        assert_eq!(e.outcome().hash(), want, "{backend:?}: {e:?}");
        let gas = gas.expect("the meters of a job that ran");
        assert!(gas.passes[0].out_of_budget, "{gas:?}");
    }
}

#[test]
fn a_job_exactly_at_its_budget_succeeds_and_agrees_with_the_reference() {
    let s = spin(NEED);
    let reference = s.reference();
    assert_eq!(reference.max_used, NEED);
    for backend in Backend::ALL {
        let (e, gas) = run(backend, &s.job());
        let Execution::Completed {
            outputs,
            result_hash,
            ..
        } = &e
        else {
            panic!("{backend:?}: {e:?}")
        };
        assert_eq!(*outputs, reference.outputs, "{backend:?}");
        assert_eq!(e.outcome(), reference.outcome);
        assert_eq!(
            Outcome::Success {
                result_hash: *result_hash
            },
            reference.outcome
        );
        let gas = gas.unwrap();
        assert_eq!(gas.budget, NEED);
        assert_eq!(gas.passes[0].max_used, NEED, "{backend:?}");
        assert!(!gas.passes[0].out_of_budget);
    }
}

#[test]
fn nested_loops_and_loops_in_helper_functions_are_counted() {
    // Enough for the outer loop alone (rounds + 1), not for the helper's loops inside it.
    let s = Spin {
        rounds: vec![10; 64],
        inner: 100,
        budget: 11 + 10,
    };
    for backend in Backend::ALL {
        let (e, _) = run(backend, &s.job());
        assert_eq!(e.outcome(), s.reference().outcome, "{backend:?}");
        assert_eq!(
            e.outcome(),
            Outcome::Invalid {
                code: ErrorCode::OutOfBudget
            }
        );
    }
    // The helper's loop charged: 11 + 10 × 101.
    let exact = Spin {
        budget: Spin::gas(10, 100) as u32,
        ..s
    };
    assert_eq!(exact.budget, 1021);
    let (e, gas) = run(Backend::Vulkan, &exact.job());
    assert_eq!(e.outcome(), exact.reference().outcome);
    assert_eq!(gas.unwrap().passes[0].max_used, 1021);
}

/// The largest budget stays under the software rasterisers' loop limiter (65535 iterations
/// per invocation): a job using all of it computes the reference's bits there.
#[test]
fn the_largest_budget_runs_to_the_end_on_software_rasterisers() {
    let max = Limits::V1.max_gas_per_invocation;
    // 1 round of 59 997 inner iterations: 2 + 59 998 = 60 000 gas.
    let s = Spin {
        rounds: vec![1],
        inner: max - 3,
        budget: max,
    };
    assert_eq!(Spin::gas(1, max - 3), u64::from(max));
    let reference = s.reference();
    for backend in Backend::ALL {
        let (e, gas) = run(backend, &s.job());
        assert_eq!(e.outcome(), reference.outcome, "{backend:?}: {e:?}");
        assert!(matches!(e, Execution::Completed { .. }));
        assert_eq!(gas.unwrap().passes[0].max_used, max);
    }
}

/// Loops with barriers break in the whole workgroup at once: over budget, `reduce_f32` ends
/// out of budget (no hang), and so does a kernel whose invocations used different gas before
/// reaching a loop with a barrier.
#[test]
fn loops_with_barriers_run_out_of_budget_without_hanging() {
    let mut reduce = library(Size::Test)
        .into_iter()
        .find(|c| c.name == "reduce_f32")
        .unwrap()
        .job;
    reduce.manifest.gas_per_invocation = 8;
    const DIVERGENT: &str = "@group(0) @binding(0) var<storage, read_write> o: array<u32, 64>;
var<workgroup> shared_sum: array<u32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) l: vec3<u32>) {
    var x = 0u;
    for (var i = 0u; i < l.x; i++) { x += i; }
    shared_sum[l.x] = x;
    for (var s = 32u; s > 0u; s = s >> 1u) {
        workgroupBarrier();
        if (l.x < s) { shared_sum[l.x] += shared_sum[l.x + s]; }
    }
    o[l.x] = shared_sum[0];
}
";
    let mut jb = JobBuilder::new();
    let o = jb.output(256);
    // Invocation l needs l + 1 + 7 (its own loop, then the 6-stride tree loop): 8 ..= 71.
    jb.gas_per_invocation(30);
    jb.pass(DIVERGENT, "main", [1, 1, 1], &[(0, o)]);
    let divergent = jb.build();
    for job in [&reduce, &divergent] {
        for backend in Backend::ALL {
            let (e, gas) = run(backend, job);
            assert_eq!(
                e.outcome(),
                Outcome::Invalid {
                    code: ErrorCode::OutOfBudget
                },
                "{backend:?}: {e:?}"
            );
            assert!(gas.unwrap().passes.iter().any(|p| p.out_of_budget));
        }
    }
    // With enough gas the divergent kernel completes: 64 + 7 entries for invocation 63.
    let mut enough = divergent.clone();
    enough.manifest.gas_per_invocation = 71;
    let (e, gas) = run(Backend::Gl, &enough);
    let Execution::Completed { outputs, .. } = e else {
        panic!("{e:?}")
    };
    let total: u32 = (0..64u32).map(|l| (0..l).sum::<u32>()).sum();
    assert_eq!(&outputs[0][..4], &total.to_le_bytes());
    assert_eq!(gas.unwrap().passes[0].max_used, 71);
}

/// Every library kernel's budget is exactly what its most looping pass uses (so the library
/// documents its gas); the transformer operators' gas formulas are checked pass by pass.
#[test]
fn library_kernels_use_exactly_their_budgets() {
    for case in library(Size::Test) {
        let (e, gas) = run(Backend::Vulkan, &case.job);
        assert!(
            matches!(e, Execution::Completed { .. }),
            "{}: {e:?}",
            case.name
        );
        let gas = gas.unwrap();
        assert_eq!(gas.budget, case.job.manifest.gas_per_invocation);
        let most = gas.passes.iter().map(|p| p.max_used).max();
        assert_eq!(most, Some(gas.budget), "{}", case.name);
    }
    use concord_compute::kernels::transformer::{l2norm_gas, linear_gas, pool_gas};
    let per_pass = |name: &str| {
        let case = library(Size::Test)
            .into_iter()
            .find(|c| c.name == name)
            .unwrap();
        let (_, gas) = run(Backend::Vulkan, &case.job);
        gas.unwrap()
            .passes
            .iter()
            .map(|p| p.max_used)
            .collect::<Vec<_>>()
    };
    // tf_linear: k 128 then k 64; tf_pool_norm: the longest sentence (17), then rows of 384.
    assert_eq!(per_pass("tf_linear"), vec![linear_gas(128), linear_gas(64)]);
    assert_eq!(
        per_pass("tf_pool_norm"),
        vec![pool_gas(17), l2norm_gas(384)]
    );
}

fn expect_invalid(job: &Job, code: ErrorCode) -> String {
    let mut message = String::new();
    for backend in Backend::ALL {
        let (e, gas) = run(backend, job);
        assert_eq!(e.outcome(), Outcome::Invalid { code }, "{backend:?}");
        assert_eq!(e.outcome().hash(), error_outcome_hash(code));
        assert_eq!(gas, None, "rejected before any GPU work");
        message = match e {
            Execution::Invalid(inv) => inv.to_string(),
            _ => unreachable!(),
        };
    }
    message
}

#[test]
fn static_gas_limits_are_invalid_jobs() {
    let mut job = spin(NEED).job();
    job.manifest.gas_per_invocation = Limits::V1.max_gas_per_invocation + 1;
    let msg = expect_invalid(&job, ErrorCode::BadGasBudget);
    assert_eq!(msg, "invalid job (bad_gas_budget): the gas budget of 60001 loop iterations per invocation is above the limit of 60000");
    // 65535 × 65535 workgroups of 64 invocations × 4096 gas: far above 2^40 in total.
    let mut job = spin(4096).job();
    job.manifest.passes[0].dispatch = [65_535, 65_535, 1];
    let msg = expect_invalid(&job, ErrorCode::BadGasBudget);
    assert!(
        msg.contains("the job may run 1125865547366400 loop iterations in total"),
        "{msg}"
    );
}
