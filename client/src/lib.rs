//! Concord client SDK: job manifests, the result hash and canonical error outcome, the
//! content store, the reproducibility lint, the reproducible kernel library and the wgpu
//! executor (feature `gpu`), and the programs through RPC (feature `chain`).

pub mod hashing;
pub mod job;
pub mod kernels;
pub mod manifest;

#[cfg(feature = "store")]
pub mod results;
#[cfg(feature = "store")]
pub mod store;

#[cfg(feature = "chain")]
pub mod chain;

#[cfg(feature = "wgsl")]
pub mod lint;
#[cfg(feature = "wgsl")]
pub mod wgsl;

#[cfg(feature = "gpu")]
pub mod executor;

#[cfg(feature = "cli")]
pub mod cli;

pub use hashing::{
    error_outcome_hash, result_hash, verify_outputs, ErrorCode, Outcome, ResultError,
};
pub use manifest::{BlobRef, Buffer, Hash32, Limits, Manifest, ManifestError};
