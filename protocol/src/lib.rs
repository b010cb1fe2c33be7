//! Concord's protocol, with no I/O: the job manifest and its identity, `Hash32`, the stable
//! error codes and outcomes of invalid jobs, the result hash, and a job ready to run
//! (manifest plus sources and blobs). Every other crate takes these definitions from here.
//! Module order (each uses only those before it): `hash` → `outcome` → `manifest` →
//! `result` → `job`.

pub mod hash;
pub mod job;
pub mod manifest;
pub mod outcome;
pub mod result;

pub use hash::{BadHash, Hash32};
pub use manifest::{
    BlobRef, Buffer, Limits, Manifest, ManifestError, DEFAULT_GAS_PER_INVOCATION, MANIFEST_VERSION,
};
pub use outcome::{error_outcome_bytes, error_outcome_hash, ErrorCode, Outcome, ERROR_CONTEXT};
pub use result::{result_hash, verify_outputs, ResultError, RESULT_CONTEXT};
