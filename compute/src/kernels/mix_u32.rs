//! Integer mixing/hash kernel (rounds of lowbias32), and its CPU reference.

use super::{groups, u32_bytes, KernelCase, Size, SplitMix64};
use concord_protocol::job::JobBuilder;

pub const WGSL: &str = include_str!("wgsl/mix_u32.wgsl");
/// Integer operations per round (add, multiply for the round constant, 3 shifts, 3 xors, 2 multiplies).
const OPS_PER_ROUND: u64 = 10;

pub fn lowbias32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

pub fn reference(words: &[u32], rounds: u32, seed: u32) -> Vec<u32> {
    words
        .iter()
        .map(|&w| {
            let mut x = w ^ seed;
            for r in 0..rounds {
                x = lowbias32(x.wrapping_add(r.wrapping_mul(0x9e37_79b9)));
            }
            x
        })
        .collect()
}

pub fn case(size: Size) -> KernelCase {
    let (n, rounds) = match size {
        Size::Test => (4096u32, 16u32),
        Size::Bench => (1 << 18, 64),
    };
    let seed = 0xc0c0_a5a5;
    let mut rng = SplitMix64(5);
    let words: Vec<u32> = (0..n).map(|_| rng.next_u32()).collect();
    let mut jb = JobBuilder::new();
    let iw = jb.input(u32_bytes(&words));
    let io = jb.output(u64::from(n * 4));
    let iu = jb.uniform(u32_bytes(&[n, rounds, seed, 0]));
    // Gas: one loop of `rounds` iterations, rounds + 1 loop-body entries per invocation.
    jb.gas_per_invocation(rounds + 1);
    jb.pass(
        WGSL,
        "main",
        [groups(n, 64), 1, 1],
        &[(0, iw), (1, io), (2, iu)],
    );
    KernelCase {
        name: "mix_u32",
        wgsl: WGSL,
        job: jb.build(),
        ops: u64::from(n) * u64::from(rounds) * OPS_PER_ROUND,
        op_unit: "op",
        reference: Box::new(move || vec![u32_bytes(&reference(&words, rounds, seed))]),
    }
}
