//! u32 GEMM with wrapping arithmetic, and its CPU reference.

use super::{groups, u32_bytes, KernelCase, Size, SplitMix64};
use concord_protocol::job::JobBuilder;

pub const WGSL: &str = include_str!("wgsl/gemm_u32.wgsl");

/// `c = a * b` (m x k times k x n), wrapping.
pub fn reference(a: &[u32], b: &[u32], m: usize, n: usize, k: usize) -> Vec<u32> {
    let mut c = vec![0u32; m * n];
    for r in 0..m {
        for col in 0..n {
            let mut acc = 0u32;
            for i in 0..k {
                acc = acc.wrapping_add(a[r * k + i].wrapping_mul(b[i * n + col]));
            }
            c[r * n + col] = acc;
        }
    }
    c
}

pub fn case(size: Size) -> KernelCase {
    let (m, n, k) = match size {
        Size::Test => (64u32, 64u32, 64u32),
        Size::Bench => (256, 256, 256),
    };
    let mut rng = SplitMix64(1);
    let a: Vec<u32> = (0..m * k).map(|_| rng.next_u32()).collect();
    let b: Vec<u32> = (0..k * n).map(|_| rng.next_u32()).collect();
    let mut jb = JobBuilder::new();
    let ia = jb.input(u32_bytes(&a));
    let ib = jb.input(u32_bytes(&b));
    let ic = jb.output(u64::from(m * n * 4));
    let iu = jb.uniform(u32_bytes(&[m, n, k, 0]));
    // Gas: one loop of k iterations, k + 1 loop-body entries per invocation.
    jb.gas_per_invocation(k + 1);
    jb.pass(
        WGSL,
        "main",
        [groups(n, 8), groups(m, 8), 1],
        &[(0, ia), (1, ib), (2, ic), (3, iu)],
    );
    KernelCase {
        name: "gemm_u32",
        wgsl: WGSL,
        job: jb.build(),
        ops: 2 * u64::from(m) * u64::from(n) * u64::from(k),
        op_unit: "op",
        reference: Box::new(move || {
            vec![u32_bytes(&reference(
                &a, &b, m as usize, n as usize, k as usize,
            ))]
        }),
    }
}
