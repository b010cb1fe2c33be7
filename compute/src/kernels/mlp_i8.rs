//! A real workload: one quantised int8 MLP layer (packed int8 dot products, i32 bias,
//! fixed-point requantisation, ReLU), and its CPU reference.

use super::gemm_i8::pack4;
use super::{groups, i32_bytes, u32_bytes, KernelCase, Size, SplitMix64};
use concord_protocol::job::JobBuilder;

pub const WGSL: &str = include_str!("wgsl/mlp_i8.wgsl");

/// Requantisation parameters: `(v * mul) >> shift`, then ReLU and clamp to int8.
#[derive(Clone, Copy, Debug)]
pub struct Requant {
    pub mul: i32,
    pub shift: u32,
}

/// `y[b][j] = clamp(((bias[j] + sum_i x[b][i] * w[j][i]) * mul) >> shift, 0, 127)`.
pub fn reference(
    x: &[i8],
    w: &[i8],
    bias: &[i32],
    batch: usize,
    n: usize,
    k: usize,
    q: Requant,
) -> Vec<i32> {
    let mut y = vec![0i32; batch * n];
    for b in 0..batch {
        for j in 0..n {
            let mut acc = bias[j];
            for i in 0..k {
                acc = acc.wrapping_add(i32::from(x[b * k + i]) * i32::from(w[j * k + i]));
            }
            y[b * n + j] = (acc.wrapping_mul(q.mul) >> q.shift).clamp(0, 127);
        }
    }
    y
}

fn pack_rows(v: &[i8]) -> Vec<u32> {
    v.as_chunks::<4>().0.iter().map(|c| pack4(*c)).collect()
}

pub fn case(size: Size) -> KernelCase {
    let (batch, n, k) = match size {
        Size::Test => (16u32, 64u32, 128u32),
        Size::Bench => (128, 256, 512),
    };
    let q = Requant { mul: 77, shift: 16 };
    let mut rng = SplitMix64(7);
    let x: Vec<i8> = (0..batch * k).map(|_| rng.next_u32() as i8).collect();
    let w: Vec<i8> = (0..n * k).map(|_| rng.next_u32() as i8).collect();
    let bias: Vec<i32> = (0..n)
        .map(|_| (rng.next_u32() % 20_001) as i32 - 10_000)
        .collect();
    let mut jb = JobBuilder::new();
    let ix = jb.input(u32_bytes(&pack_rows(&x)));
    let iw = jb.input(u32_bytes(&pack_rows(&w)));
    let ib = jb.input(i32_bytes(&bias));
    let iy = jb.output(u64::from(batch * n * 4));
    let mut uniform = u32_bytes(&[batch, n, k / 4, q.shift]);
    uniform.extend(i32_bytes(&[q.mul, 0, 0, 0]));
    let iu = jb.uniform(uniform);
    // Gas: one loop of k/4 iterations, k/4 + 1 loop-body entries per invocation.
    jb.gas_per_invocation(k / 4 + 1);
    jb.pass(
        WGSL,
        "main",
        [groups(n, 8), groups(batch, 8), 1],
        &[(0, ix), (1, iw), (2, ib), (3, iy), (4, iu)],
    );
    KernelCase {
        name: "mlp_i8",
        wgsl: WGSL,
        job: jb.build(),
        ops: 2 * u64::from(batch) * u64::from(n) * u64::from(k),
        op_unit: "op",
        reference: Box::new(move || {
            vec![i32_bytes(&reference(
                &x,
                &w,
                &bias,
                batch as usize,
                n as usize,
                k as usize,
                q,
            ))]
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layer's outputs are not degenerate: some are clamped at 0, some at 127, many between.
    #[test]
    fn requantisation_exercises_relu_and_clamp() {
        let case = case(Size::Test);
        let y = case.cpu_reference().remove(0);
        let v: Vec<i32> = y
            .chunks(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let zeros = v.iter().filter(|&&x| x == 0).count();
        let maxed = v.iter().filter(|&&x| x == 127).count();
        let mid = v.len() - zeros - maxed;
        assert!(
            zeros > 0 && maxed > 0 && mid > v.len() / 4,
            "zeros {zeros}, 127s {maxed}, between {mid}"
        );
    }
}
