//! int8 GEMM with `dot4I8Packed`, and its CPU reference.

use super::{groups, i32_bytes, u32_bytes, KernelCase, Size, SplitMix64};
use concord_protocol::job::JobBuilder;

pub const WGSL: &str = include_str!("wgsl/gemm_i8.wgsl");

/// Pack four int8 values into a u32, first value in the lowest byte (WGSL's order).
pub fn pack4(v: [i8; 4]) -> u32 {
    u32::from_le_bytes(v.map(|x| x as u8))
}

/// `c = a * bt^T` where `a` is m x k and `bt` is n x k, both int8 row-major.
pub fn reference(a: &[i8], bt: &[i8], m: usize, n: usize, k: usize) -> Vec<i32> {
    let mut c = vec![0i32; m * n];
    for r in 0..m {
        for col in 0..n {
            let mut acc = 0i32;
            for i in 0..k {
                acc = acc.wrapping_add(i32::from(a[r * k + i]) * i32::from(bt[col * k + i]));
            }
            c[r * n + col] = acc;
        }
    }
    c
}

fn pack_rows(v: &[i8]) -> Vec<u32> {
    v.as_chunks::<4>().0.iter().map(|c| pack4(*c)).collect()
}

pub fn case(size: Size) -> KernelCase {
    let (m, n, k) = match size {
        Size::Test => (64u32, 64u32, 64u32),
        Size::Bench => (256, 256, 256),
    };
    let mut rng = SplitMix64(2);
    let a: Vec<i8> = (0..m * k).map(|_| rng.next_u32() as i8).collect();
    let bt: Vec<i8> = (0..n * k).map(|_| rng.next_u32() as i8).collect();
    let mut jb = JobBuilder::new();
    let ia = jb.input(u32_bytes(&pack_rows(&a)));
    let ib = jb.input(u32_bytes(&pack_rows(&bt)));
    let ic = jb.output(u64::from(m * n * 4));
    let iu = jb.uniform(u32_bytes(&[m, n, k / 4, 0]));
    // Gas: one loop of k/4 iterations, k/4 + 1 loop-body entries per invocation.
    jb.gas_per_invocation(k / 4 + 1);
    jb.pass(
        WGSL,
        "main",
        [groups(n, 8), groups(m, 8), 1],
        &[(0, ia), (1, ib), (2, ic), (3, iu)],
    );
    KernelCase {
        name: "gemm_i8",
        wgsl: WGSL,
        job: jb.build(),
        ops: 2 * u64::from(m) * u64::from(n) * u64::from(k),
        op_unit: "op",
        reference: Box::new(move || {
            vec![i32_bytes(&reference(
                &a, &bt, m as usize, n as usize, k as usize,
            ))]
        }),
    }
}
