//! The library of reproducible kernels. Each kernel is a WGSL file (embedded), a job builder
//! and a CPU reference in Rust that produces the same bits.
//!
//! | kernel | why it is reproducible |
//! |---|---|
//! | `gemm_u32` | wrapping integer arithmetic is exact |
//! | `gemm_i8` | `dot4I8Packed` is exact; i32 sums are bounded |
//! | `gemm_f32` | fixed k order; contraction fences round every product and sum to f32 |
//! | `reduce_f32` | fixed workgroup shape and fixed tree order; additions only |
//! | `mix_u32` | integer hashing rounds |
//! | `mandelbrot` | fixed-point (Q19.12) integer arithmetic |
//! | `mlp_i8` | int8 layer: packed dot products, integer requantisation and ReLU |
//! | `tf_*` | transformer operators (`transformer`): fenced f32, fixed order, software exp/erf/rsqrt |
//!
//! Every library manifest's `gas_per_invocation` is exactly what its loops need. `spin` is
//! not in the library: it is the metering test kernel (a configurable loop count per
//! invocation, and a CPU reference that applies the gas rule).

pub mod gemm_f32;
pub mod gemm_i8;
pub mod gemm_u32;
pub mod mandelbrot;
pub mod mix_u32;
pub mod mlp_i8;
pub mod reduce_f32;
pub mod spin;
pub mod transformer;

pub use crate::rng::SplitMix64;
use concord_protocol::job::Job;
use concord_protocol::Hash32;

/// Problem size of a library case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// Small enough for a CPU rasteriser (lavapipe) in tests.
    Test,
    /// Larger, for benchmarks.
    Bench,
}

/// One runnable library kernel: the job, its work count and its CPU reference.
pub struct KernelCase {
    pub name: &'static str,
    pub wgsl: &'static str,
    pub job: Job,
    /// Arithmetic operations one run performs (multiply and add count as two).
    pub ops: u64,
    /// "FLOP" for floating point, "op" for integer work.
    pub op_unit: &'static str,
    reference: Box<dyn Fn() -> Vec<Vec<u8>> + Send + Sync>,
}

impl KernelCase {
    /// A case built outside the library (a model's job, say) with its CPU reference.
    pub fn new(
        name: &'static str,
        wgsl: &'static str,
        job: Job,
        ops: u64,
        op_unit: &'static str,
        reference: Box<dyn Fn() -> Vec<Vec<u8>> + Send + Sync>,
    ) -> KernelCase {
        KernelCase {
            name,
            wgsl,
            job,
            ops,
            op_unit,
            reference,
        }
    }

    /// The output buffers as the CPU reference computes them.
    pub fn cpu_reference(&self) -> Vec<Vec<u8>> {
        (self.reference)()
    }
}

/// Every kernel of the library, at `size`.
pub fn library(size: Size) -> Vec<KernelCase> {
    vec![
        gemm_u32::case(size),
        gemm_i8::case(size),
        gemm_f32::case(size),
        reduce_f32::case(size),
        mix_u32::case(size),
        mandelbrot::case(size),
        mlp_i8::case(size),
    ]
    .into_iter()
    .chain(transformer::cases(size))
    .collect()
}

/// Names of the library kernels.
pub const NAMES: [&str; 11] = [
    "gemm_u32",
    "gemm_i8",
    "gemm_f32",
    "reduce_f32",
    "mix_u32",
    "mandelbrot",
    "mlp_i8",
    "tf_linear",
    "tf_layer_norm",
    "tf_attention",
    "tf_pool_norm",
];

/// The library case (test size) whose WGSL source is exactly `source`, if any.
pub fn find_by_source(source: &str) -> Option<KernelCase> {
    let h = Hash32::of(source.as_bytes());
    library(Size::Test)
        .into_iter()
        .find(|c| Hash32::of(c.wgsl.as_bytes()) == h)
}

/// The library case (test size) named `name`.
pub fn find_by_name(name: &str) -> Option<KernelCase> {
    library(Size::Test).into_iter().find(|c| c.name == name)
}

pub(crate) fn u32_bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

pub(crate) fn i32_bytes(words: &[i32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// f32 values as little-endian bytes (how buffers hold them).
pub fn f32_bytes(words: &[f32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// Little-endian bytes as f32 values (a trailing partial word is ignored).
pub fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Workgroups needed to cover `n` items with groups of `per`.
pub(crate) fn groups(n: u32, per: u32) -> u32 {
    n.div_ceil(per)
}
