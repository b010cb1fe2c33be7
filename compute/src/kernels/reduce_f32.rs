//! Fixed-shape f32 sum (256-wide workgroups, binary tree), two passes, and its CPU reference
//! that performs the same additions in the same order.

use super::{f32_bytes, groups, u32_bytes, KernelCase, Size, SplitMix64};
use concord_protocol::job::JobBuilder;

pub const WGSL: &str = include_str!("wgsl/reduce_f32.wgsl");
const WIDTH: usize = 256;

/// The workgroup tree: stride 128, 64, ..., 1, `t[i] += t[i + stride]`.
pub fn tree_sum(mut t: [f32; WIDTH]) -> f32 {
    let mut stride = WIDTH / 2;
    while stride > 0 {
        for i in 0..stride {
            t[i] += t[i + stride];
        }
        stride /= 2;
    }
    t[0]
}

/// (per-workgroup partial sums, total) exactly as the two passes compute them.
pub fn reference(data: &[f32]) -> (Vec<f32>, f32) {
    let partials: Vec<f32> = data
        .chunks(WIDTH)
        .map(|chunk| {
            let mut t = [0f32; WIDTH];
            t[..chunk.len()].copy_from_slice(chunk);
            tree_sum(t)
        })
        .collect();
    let mut t = [0f32; WIDTH];
    t[..partials.len()].copy_from_slice(&partials);
    (partials, tree_sum(t))
}

pub fn case(size: Size) -> KernelCase {
    let n: u32 = match size {
        Size::Test => 16 * 256 - 7,
        Size::Bench => 256 * 256,
    };
    let g = groups(n, 256);
    let mut rng = SplitMix64(4);
    let data: Vec<f32> = (0..n).map(|_| rng.next_f32()).collect();
    let mut jb = JobBuilder::new();
    let id = jb.input(f32_bytes(&data));
    let ip = jb.output(u64::from(g * 4));
    let it = jb.output(4);
    let iu = jb.uniform(u32_bytes(&[n, g, 0, 0]));
    // Gas: the tree loop runs 8 strides (128 .. 1), 9 loop-body entries per invocation.
    jb.gas_per_invocation(9);
    jb.pass(WGSL, "partial", [g, 1, 1], &[(0, id), (1, ip), (3, iu)]);
    jb.pass(WGSL, "finish", [1, 1, 1], &[(1, ip), (2, it), (3, iu)]);
    KernelCase {
        name: "reduce_f32",
        wgsl: WGSL,
        job: jb.build(),
        ops: u64::from(g) * 255 + 255,
        op_unit: "FLOP",
        reference: Box::new(move || {
            let (partials, total) = reference(&data);
            vec![f32_bytes(&partials), f32_bytes(&[total])]
        }),
    }
}
