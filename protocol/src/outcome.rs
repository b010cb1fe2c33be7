//! Outcomes: what a provider commits for a job — the result hash of a run, or the canonical
//! error outcome of an invalid job.
//!
//! Error outcome: a job whose manifest is invalid has a deterministic result too. Its bytes
//! are `b"concord-error" ‖ u16 version ‖ u16 code` and its hash is blake3 in key-derivation
//! mode with context [`ERROR_CONTEXT`] over those bytes. Only the stable [`ErrorCode`] is
//! hashed — never a compiler message, line number or driver text — so every honest provider
//! commits the same hash. (The on-chain commitment hash lives in the market program.)

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::hash::Hash32;

/// blake3 key-derivation context of the error outcome hash.
pub const ERROR_CONTEXT: &str = "concord 2026 error outcome v1";

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
    /// `gas_per_invocation` above the limit, or the job's static work bound (invocations ×
    /// gas, summed over passes) above the limit.
    BadGasBudget = 17,
    /// An invocation needed more loop iterations than its gas budget (found while running).
    OutOfBudget = 18,
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
            BadGasBudget => "bad_gas_budget",
            OutOfBudget => "out_of_budget",
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

#[cfg(test)]
mod tests {
    use super::*;

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
            &error_outcome_bytes(ErrorCode::BadGasBudget)[13..],
            &[1, 0, 17, 0]
        );
        assert_eq!(
            &error_outcome_bytes(ErrorCode::OutOfBudget)[13..],
            &[1, 0, 18, 0]
        );
        assert_eq!(ErrorCode::OutOfBudget.name(), "out_of_budget");
        assert_eq!(
            Outcome::Invalid {
                code: ErrorCode::WgslParse
            }
            .hash(),
            error_outcome_hash(ErrorCode::WgslParse)
        );
    }
}
