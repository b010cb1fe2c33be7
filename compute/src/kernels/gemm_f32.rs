//! f32 GEMM with fixed accumulation order and contraction fences, and its CPU reference
//! (plain sequential `acc = acc + a * b` in f32: Rust never contracts to FMA on its own).

use super::{f32_bytes, groups, u32_bytes, KernelCase, Size, SplitMix64};
use concord_protocol::job::JobBuilder;

pub const WGSL: &str = include_str!("wgsl/gemm_f32.wgsl");

/// `c = a * b` with products rounded to f32 and summed over k in order.
pub fn reference(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    let mut c = vec![0f32; m * n];
    for r in 0..m {
        for col in 0..n {
            let mut acc = 0f32;
            for i in 0..k {
                let p = a[r * k + i] * b[i * n + col];
                acc += p;
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
    let mut rng = SplitMix64(3);
    let a: Vec<f32> = (0..m * k).map(|_| rng.next_f32()).collect();
    let b: Vec<f32> = (0..k * n).map(|_| rng.next_f32()).collect();
    let mut jb = JobBuilder::new();
    let ia = jb.input(f32_bytes(&a));
    let ib = jb.input(f32_bytes(&b));
    let ic = jb.output(u64::from(m * n * 4));
    // The last word is the contraction fence: always 0, unknown to the shader compiler.
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
        name: "gemm_f32",
        wgsl: WGSL,
        job: jb.build(),
        ops: 2 * u64::from(m) * u64::from(n) * u64::from(k),
        op_unit: "FLOP",
        reference: Box::new(move || {
            vec![f32_bytes(&reference(
                &a, &b, m as usize, n as usize, k as usize,
            ))]
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test inputs are sensitive to contraction: an FMA-fused GEMM gives different bits, so
    /// the GPU-vs-reference tests would catch a driver that fuses despite the fences.
    #[test]
    fn fused_accumulation_would_change_the_bits() {
        let (m, n, k) = (64usize, 64usize, 64usize);
        let mut rng = SplitMix64(3);
        let a: Vec<f32> = (0..m * k).map(|_| rng.next_f32()).collect();
        let b: Vec<f32> = (0..k * n).map(|_| rng.next_f32()).collect();
        let plain = reference(&a, &b, m, n, k);
        let mut differing = 0;
        for r in 0..m {
            for c in 0..n {
                let mut acc = 0f32;
                for i in 0..k {
                    acc = a[r * k + i].mul_add(b[i * n + c], acc);
                }
                differing += usize::from(acc.to_bits() != plain[r * n + c].to_bits());
            }
        }
        assert!(
            differing > m * n / 2,
            "only {differing} of {} elements differ",
            m * n
        );
    }
}
