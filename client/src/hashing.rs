//! The result hash and the canonical error outcome — defined once, used everywhere.
//!
//! Result hash: blake3 in key-derivation mode with context [`RESULT_CONTEXT`] over
//! `u32 count ‖ for each output buffer i (in buffer order): u32 i ‖ u64 len ‖ bytes`
//! (little-endian). Domain separation keeps it distinct from blob and manifest hashes, and
//! the index/length prefixes make the encoding injective.
//!
//! Error outcome: a job whose manifest is invalid has a deterministic result too. Its bytes
//! are `b"concord-error" ‖ u16 version ‖ u16 code` and its hash is blake3 in key-derivation
//! mode with context [`ERROR_CONTEXT`] over those bytes. Only the stable [`ErrorCode`] is
//! hashed — never a compiler message, line number or driver text — so every honest provider
//! commits the same hash. (The on-chain commitment hash lives in the market program.)

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::manifest::Hash32;

/// blake3 key-derivation context of the result hash.
pub const RESULT_CONTEXT: &str = "concord 2026 result v1";
/// blake3 key-derivation context of the error outcome hash.
pub const ERROR_CONTEXT: &str = "concord 2026 error outcome v1";

/// Result hash of the output buffers, in buffer order.
pub fn result_hash<B: AsRef<[u8]>>(outputs: &[B]) -> Hash32 {
    let mut h = blake3::Hasher::new_derive_key(RESULT_CONTEXT);
    let count = u32::try_from(outputs.len()).expect("more than u32::MAX output buffers");
    h.update(&count.to_le_bytes());
    for (i, out) in outputs.iter().enumerate() {
        let bytes = out.as_ref();
        h.update(&(i as u32).to_le_bytes());
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    Hash32(*h.finalize().as_bytes())
}

/// Stable classes of invalid jobs. The numeric values are part of the protocol: never
/// renumber, only append.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    BorshSerialize,
    BorshDeserialize,
)]
#[borsh(use_discriminant = true)]
#[repr(u16)]
pub enum ErrorCode {
    ManifestMalformed = 1,
    EmptyJob = 2,
    TooManyPasses = 3,
    TooManyBuffers = 4,
    BufferTooLarge = 5,
    BadBufferSize = 6,
    DispatchTooLarge = 7,
    ModuleTooLarge = 8,
    BadRuntimeLimit = 9,
    WgslParse = 10,
    WgslValidation = 11,
    MissingEntryPoint = 12,
    BindingMismatch = 13,
    OutputSizeMismatch = 14,
    InputSizeMismatch = 15,
    DeviceValidation = 16,
}

impl ErrorCode {
    /// The protocol number.
    pub fn as_u16(self) -> u16 {
        self as u16
    }

    /// A short stable name (`snake_case`).
    pub fn name(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ManifestMalformed => "manifest_malformed",
            EmptyJob => "empty_job",
            TooManyPasses => "too_many_passes",
            TooManyBuffers => "too_many_buffers",
            BufferTooLarge => "buffer_too_large",
            BadBufferSize => "bad_buffer_size",
            DispatchTooLarge => "dispatch_too_large",
            ModuleTooLarge => "module_too_large",
            BadRuntimeLimit => "bad_runtime_limit",
            WgslParse => "wgsl_parse",
            WgslValidation => "wgsl_validation",
            MissingEntryPoint => "missing_entry_point",
            BindingMismatch => "binding_mismatch",
            OutputSizeMismatch => "output_size_mismatch",
            InputSizeMismatch => "input_size_mismatch",
            DeviceValidation => "device_validation",
        }
    }
}

/// The canonical bytes of an invalid-job outcome.
pub fn error_outcome_bytes(code: ErrorCode) -> [u8; 17] {
    let mut out = [0u8; 17];
    out[..13].copy_from_slice(b"concord-error");
    out[13..15].copy_from_slice(&1u16.to_le_bytes());
    out[15..17].copy_from_slice(&code.as_u16().to_le_bytes());
    out
}

/// The hash a provider commits to for an invalid job of class `code`.
pub fn error_outcome_hash(code: ErrorCode) -> Hash32 {
    let mut h = blake3::Hasher::new_derive_key(ERROR_CONTEXT);
    h.update(&error_outcome_bytes(code));
    Hash32(*h.finalize().as_bytes())
}

/// What a provider reports for a job: either the result of running it, or the canonical
/// error outcome of an invalid job.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub enum Outcome {
    Success { result_hash: Hash32 },
    Invalid { code: ErrorCode },
}

impl Outcome {
    /// The 32-byte hash committed on chain for this outcome.
    pub fn hash(&self) -> Hash32 {
        match self {
            Outcome::Success { result_hash } => *result_hash,
            Outcome::Invalid { code } => error_outcome_hash(*code),
        }
    }
}

/// Why downloaded or reported outputs do not form the result of a job.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResultError {
    #[error("the job has {expected} output buffers but {actual} were given")]
    WrongCount { expected: usize, actual: usize },
    #[error("output {index} is {actual} bytes but the manifest declares {expected}")]
    WrongSize {
        index: usize,
        expected: u64,
        actual: u64,
    },
    #[error("the outputs hash to {actual}, not to the expected result {expected}")]
    HashMismatch { expected: Hash32, actual: Hash32 },
}

/// Check that `outputs` have the count and sizes the manifest's output buffers declare and,
/// if `expected` is given, that they hash to it. Returns their result hash.
pub fn verify_outputs<B: AsRef<[u8]>>(
    manifest: &crate::manifest::Manifest,
    outputs: &[B],
    expected: Option<&Hash32>,
) -> Result<Hash32, ResultError> {
    let indices = manifest.output_indices();
    if indices.len() != outputs.len() {
        return Err(ResultError::WrongCount {
            expected: indices.len(),
            actual: outputs.len(),
        });
    }
    for (index, (&b, out)) in indices.iter().zip(outputs).enumerate() {
        let (declared, actual) = (manifest.buffers[b].size(), out.as_ref().len() as u64);
        if declared != actual {
            return Err(ResultError::WrongSize {
                index,
                expected: declared,
                actual,
            });
        }
    }
    let actual = result_hash(outputs);
    match expected {
        Some(e) if *e != actual => Err(ResultError::HashMismatch {
            expected: *e,
            actual,
        }),
        _ => Ok(actual),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_outputs_checks_count_size_and_hash() {
        let mut jb = crate::job::JobBuilder::new();
        jb.output(8);
        jb.uniform(vec![0; 16]);
        jb.output(4);
        jb.pass("", "main", [1, 1, 1], &[]);
        let m = jb.build().manifest;
        let good = vec![vec![1u8; 8], vec![2u8; 4]];
        let h = verify_outputs(&m, &good, None).unwrap();
        assert_eq!(verify_outputs(&m, &good, Some(&h)), Ok(h));
        assert_eq!(
            verify_outputs(&m, &good[..1], None),
            Err(ResultError::WrongCount {
                expected: 2,
                actual: 1
            })
        );
        let short = vec![vec![1u8; 8], vec![2u8; 3]];
        let e = verify_outputs(&m, &short, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "output 1 is 3 bytes but the manifest declares 4"
        );
        let other = Hash32([0; 32]);
        assert!(matches!(
            verify_outputs(&m, &good, Some(&other)),
            Err(ResultError::HashMismatch { .. })
        ));
    }

    #[test]
    fn result_hash_is_domain_separated_and_injective() {
        let a = result_hash(&[vec![1u8, 2, 3, 4]]);
        assert_ne!(a, Hash32::of(&[1, 2, 3, 4]));
        // Moving a byte between buffers changes the hash.
        assert_ne!(
            result_hash(&[vec![1u8, 2], vec![3, 4]]),
            result_hash(&[vec![1u8, 2, 3], vec![4]])
        );
        assert_ne!(
            result_hash::<Vec<u8>>(&[]),
            result_hash(&[Vec::<u8>::new()])
        );
        assert_eq!(a, result_hash(&[[1u8, 2, 3, 4]]));
    }

    #[test]
    fn error_outcome_is_stable() {
        let bytes = error_outcome_bytes(ErrorCode::WgslParse);
        assert_eq!(&bytes[..13], b"concord-error");
        assert_eq!(&bytes[13..], &[1, 0, 10, 0]);
        assert_ne!(
            error_outcome_hash(ErrorCode::WgslParse),
            error_outcome_hash(ErrorCode::WgslValidation)
        );
        // Pinned value: changing the encoding is a protocol change and must fail this test.
        assert_eq!(
            error_outcome_hash(ErrorCode::WgslParse).to_hex(),
            "c73a0d035bfbc53e7d0ac876efb292b43383ec58d1c13c36529537c236b098ff"
        );
        assert_eq!(
            Outcome::Invalid {
                code: ErrorCode::WgslParse
            }
            .hash(),
            error_outcome_hash(ErrorCode::WgslParse)
        );
    }
}
