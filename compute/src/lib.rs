//! Concord's compute side: WGSL validation against a job's manifest (`wgsl`), deterministic
//! metering of loops (`meter`), the reproducibility lint (`lint`), the wgpu executor and its
//! worker process (`executor`), and the library of reproducible kernels with CPU references
//! (`kernels`, inputs from `rng`).
//! Module order: `rng` → `wgsl` → `meter` → `lint` → `executor`; `kernels` uses only `rng`
//! and the protocol crate.

pub mod executor;
pub mod kernels;
pub mod lint;
pub mod meter;
pub mod rng;
pub mod wgsl;
