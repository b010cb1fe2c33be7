//! The job manifest: what a buyer asks providers to run, its canonical bytes and its identity.
//!
//! A manifest lists buffers (input blobs by blake3 hash and size, zero-initialised output
//! buffers by size, uniform bytes inline) and one or more passes (a WGSL module by blake3
//! hash and size, an entry point, a dispatch size and the bindings of that pass), the
//! wall-clock limit and the gas budget of every invocation (deterministic metering: the
//! number of loop iterations one invocation may run, see `docs/determinism.md`).
//!
//! Interchange format: JSON (`serde`), hashes and uniform bytes as lowercase hex.
//! Canonical format: **borsh** of [`Manifest`] (field order as declared, little-endian
//! integers, `u32` length prefixes, enum variants by index). The job's identity on chain is
//! `blake3(canonical bytes)` ([`Manifest::id`]). Decoding canonical bytes rejects trailing data,
//! so every manifest has exactly one canonical encoding.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::hash::{BadHash, Hash32};
use crate::outcome::ErrorCode;

/// Newest manifest format version. Version 2 added [`Manifest::gas_per_invocation`];
/// version 3 added [`Buffer::Scratch`] and the larger limits of [`Limits::V3`] (multi-pass
/// models). A version 2 manifest keeps its canonical bytes and identity: the encoding of
/// everything it can hold is unchanged.
pub const MANIFEST_VERSION: u32 = 3;

/// The manifest versions this client accepts.
pub const SUPPORTED_VERSIONS: [u32; 2] = [2, 3];

/// The gas budget of a manifest whose JSON has no `gas_per_invocation`.
pub const DEFAULT_GAS_PER_INVOCATION: u32 = 4096;

fn default_gas_per_invocation() -> u32 {
    DEFAULT_GAS_PER_INVOCATION
}

/// A content-addressed blob: its blake3 hash and its exact size in bytes.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub struct BlobRef {
    pub hash: Hash32,
    pub size: u64,
}

impl BlobRef {
    /// The reference describing `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        BlobRef {
            hash: Hash32::of(bytes),
            size: bytes.len() as u64,
        }
    }
}

/// One buffer of the job. Its index in [`Manifest::buffers`] is how passes bind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Buffer {
    /// Read-only storage buffer filled from a blob (`var<storage, read>`).
    Input(BlobRef),
    /// Read-write storage buffer, zero-initialised (`var<storage, read_write>`). Every output
    /// buffer is part of the result, in buffer order.
    Output { size: u64 },
    /// Uniform buffer with inline bytes (`var<uniform>`).
    Uniform {
        #[serde(with = "hex_bytes")]
        bytes: Vec<u8>,
    },
    /// Read-write storage buffer, zero-initialised, that passes use for intermediate values
    /// (bound like an output); not part of the result. Manifest version 3.
    Scratch { size: u64 },
}

impl Buffer {
    /// Size of the buffer in bytes.
    pub fn size(&self) -> u64 {
        match self {
            Buffer::Input(b) => b.size,
            Buffer::Output { size } => *size,
            Buffer::Uniform { bytes } => bytes.len() as u64,
            Buffer::Scratch { size } => *size,
        }
    }
}

/// `@group(0) @binding(binding)` of a pass is buffer number `buffer`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub struct Binding {
    pub binding: u32,
    pub buffer: u32,
}

/// One compute dispatch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Pass {
    /// The WGSL source, by content hash and size.
    pub module: BlobRef,
    pub entry_point: String,
    /// Workgroup counts `[x, y, z]`.
    pub dispatch: [u32; 3],
    pub bindings: Vec<Binding>,
}

/// A compute job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct Manifest {
    pub version: u32,
    pub buffers: Vec<Buffer>,
    pub passes: Vec<Pass>,
    /// Wall-clock limit for executing all passes, in milliseconds: the provider's own safety
    /// net; the gas budget is what decides the outcome.
    pub max_runtime_ms: u64,
    /// Gas budget of every invocation of every pass: how many times control may enter a loop
    /// body (all loops of all functions counted together). An invocation that needs more ends
    /// the job with [`ErrorCode::OutOfBudget`]. JSON without the field gets
    /// [`DEFAULT_GAS_PER_INVOCATION`].
    #[serde(default = "default_gas_per_invocation")]
    pub gas_per_invocation: u32,
}

/// Protocol limits. They decide whether a manifest is invalid, so every provider must apply
/// the same values: use [`Manifest::limits`] ([`Limits::V1`] for version 2, [`Limits::V3`] for
/// version 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_passes: usize,
    pub max_buffers: usize,
    pub max_bindings_per_pass: usize,
    /// Storage buffers (inputs and outputs) one pass may bind: one of WebGPU's 8 storage
    /// buffers per shader stage is the gas meter's.
    pub max_storage_bindings_per_pass: usize,
    pub max_buffer_bytes: u64,
    pub max_uniform_bytes: u64,
    pub max_total_bytes: u64,
    pub max_module_bytes: u64,
    pub max_dispatch_dim: u32,
    pub max_entry_point_len: usize,
    pub max_runtime_ms: u64,
    /// Largest [`Manifest::gas_per_invocation`]. Below the 65 535 loop iterations per
    /// invocation after which Mesa's software rasterisers (llvmpipe, lavapipe) cut loops off,
    /// so a job within its budget computes the same bits there as on a hardware GPU.
    pub max_gas_per_invocation: u32,
    /// Largest static work bound of a job: the sum over passes of dispatched invocations ×
    /// `gas_per_invocation` ([`Manifest::total_gas`]).
    pub max_total_gas: u64,
}

impl Limits {
    /// The protocol limits (manifest version 2; the name is kept for its callers). Chosen to fit WebGPU's default device limits
    /// (storage binding 128 MiB, 8 storage buffers per stage, 65535 workgroups per dimension).
    pub const V1: Limits = Limits {
        max_passes: 16,
        max_buffers: 32,
        max_bindings_per_pass: 8,
        max_storage_bindings_per_pass: 7,
        max_buffer_bytes: 128 << 20,
        max_uniform_bytes: 64 << 10,
        max_total_bytes: 512 << 20,
        max_module_bytes: 1 << 20,
        max_dispatch_dim: 65_535,
        max_entry_point_len: 128,
        max_runtime_ms: 600_000,
        max_gas_per_invocation: 60_000,
        max_total_gas: 1 << 40,
    };

    /// The limits of manifest version 3: room for a multi-pass model (a 6-layer encoder is 46
    /// passes with a uniform each) and a static work bound 16× larger; buffer sizes, bindings
    /// and gas per invocation as [`Limits::V1`].
    pub const V3: Limits = Limits {
        max_passes: 64,
        max_buffers: 128,
        max_total_gas: 1 << 44,
        ..Limits::V1
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::V1
    }
}

/// Why a manifest is invalid. Each maps to a stable [`ErrorCode`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest could not be decoded: {0}")]
    Malformed(String),
    #[error(transparent)]
    BadHash(#[from] BadHash),
    #[error(
        "manifest version {0} is not supported (this client speaks versions 2 and {MANIFEST_VERSION})"
    )]
    UnsupportedVersion(u32),
    #[error("buffer {index} is a scratch buffer, which needs manifest version 3")]
    ScratchNeedsVersion3 { index: usize },
    #[error("the manifest has no passes")]
    NoPasses,
    #[error("the manifest has {count} passes; at most {max} are allowed")]
    TooManyPasses { count: usize, max: usize },
    #[error("the manifest has {count} buffers; at most {max} are allowed")]
    TooManyBuffers { count: usize, max: usize },
    #[error("the manifest has no output buffer, so the job would have no result")]
    NoOutputs,
    #[error("buffer {index} is {size} bytes; the limit is {max} bytes")]
    BufferTooLarge { index: usize, size: u64, max: u64 },
    #[error("buffer {index} is {size} bytes; buffer sizes must be a non-zero multiple of 4")]
    BadBufferSize { index: usize, size: u64 },
    #[error("the buffers total {total} bytes; the limit is {max} bytes")]
    TotalTooLarge { total: u128, max: u64 },
    #[error("pass {pass} dispatches {dispatch:?} workgroups; each dimension must be 1..={max}")]
    DispatchTooLarge {
        pass: usize,
        dispatch: [u32; 3],
        max: u32,
    },
    #[error("pass {pass}'s module is {size} bytes; the limit is {max} bytes")]
    ModuleTooLarge { pass: usize, size: u64, max: u64 },
    #[error("pass {pass}'s entry point name is empty or longer than {max} characters")]
    BadEntryPoint { pass: usize, max: usize },
    #[error("pass {pass} has {count} bindings; at most {max} are allowed")]
    TooManyBindings {
        pass: usize,
        count: usize,
        max: usize,
    },
    #[error("pass {pass} binds buffer {buffer}, which does not exist")]
    NoSuchBuffer { pass: usize, buffer: u32 },
    #[error("pass {pass} uses binding {binding} twice")]
    DuplicateBinding { pass: usize, binding: u32 },
    #[error("the runtime limit {ms} ms is outside 1..={max} ms")]
    BadRuntimeLimit { ms: u64, max: u64 },
    #[error("pass {pass} binds {count} storage buffers; at most {max} are allowed (one of the 8 per stage is the gas meter's)")]
    TooManyStorageBindings {
        pass: usize,
        count: usize,
        max: usize,
    },
    #[error("the gas budget of {gas} loop iterations per invocation is above the limit of {max}")]
    GasBudgetTooLarge { gas: u32, max: u32 },
    #[error("the job may run {total} loop iterations in total (invocations × gas per invocation, summed over passes); the limit is {max}")]
    TotalGasTooLarge { total: u128, max: u64 },
}

impl ManifestError {
    /// The stable error code of this error class.
    pub fn code(&self) -> ErrorCode {
        use ManifestError::*;
        match self {
            Malformed(_) | BadHash(_) | UnsupportedVersion(_) | ScratchNeedsVersion3 { .. } => {
                ErrorCode::ManifestMalformed
            }
            NoPasses | NoOutputs => ErrorCode::EmptyJob,
            TooManyPasses { .. } => ErrorCode::TooManyPasses,
            TooManyBuffers { .. } | TooManyBindings { .. } | TooManyStorageBindings { .. } => {
                ErrorCode::TooManyBuffers
            }
            BufferTooLarge { .. } | TotalTooLarge { .. } => ErrorCode::BufferTooLarge,
            BadBufferSize { .. } => ErrorCode::BadBufferSize,
            DispatchTooLarge { .. } => ErrorCode::DispatchTooLarge,
            ModuleTooLarge { .. } => ErrorCode::ModuleTooLarge,
            BadEntryPoint { .. } => ErrorCode::MissingEntryPoint,
            NoSuchBuffer { .. } | DuplicateBinding { .. } => ErrorCode::BindingMismatch,
            BadRuntimeLimit { .. } => ErrorCode::BadRuntimeLimit,
            GasBudgetTooLarge { .. } | TotalGasTooLarge { .. } => ErrorCode::BadGasBudget,
        }
    }
}

impl Manifest {
    /// The canonical bytes (borsh).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        borsh::to_vec(self).expect("borsh serialisation into a Vec cannot fail")
    }

    /// Decode canonical bytes; trailing bytes are an error.
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, ManifestError> {
        borsh::from_slice(bytes).map_err(|e| ManifestError::Malformed(e.to_string()))
    }

    /// The job's identity: blake3 of the canonical bytes.
    pub fn id(&self) -> [u8; 32] {
        *blake3::hash(&self.canonical_bytes()).as_bytes()
    }

    /// Parse the JSON interchange form.
    pub fn from_json(text: &str) -> Result<Self, ManifestError> {
        serde_json::from_str(text).map_err(|e| ManifestError::Malformed(e.to_string()))
    }

    /// The JSON interchange form (pretty-printed).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest always serialises to JSON")
    }

    /// The protocol limits of this manifest's version ([`Limits::V3`] from version 3 on).
    pub fn limits(&self) -> Limits {
        if self.version >= 3 {
            Limits::V3
        } else {
            Limits::V1
        }
    }

    /// Indices of the output buffers, in order: the buffers that make up the result.
    pub fn output_indices(&self) -> Vec<usize> {
        self.buffers
            .iter()
            .enumerate()
            .filter(|(_, b)| matches!(b, Buffer::Output { .. }))
            .map(|(i, _)| i)
            .collect()
    }

    /// Total bytes of all buffers (checked; `u128` cannot overflow for `u32` counts of `u64`).
    pub fn total_bytes(&self) -> u128 {
        self.buffers.iter().map(|b| u128::from(b.size())).sum()
    }

    /// The static work bound of the job: the sum over passes of dispatched invocations ×
    /// [`Manifest::gas_per_invocation`]. `workgroup_invocations[p]` is the workgroup size
    /// (product of `@workgroup_size`) of pass `p`'s entry point, which only the WGSL knows.
    pub fn total_gas(&self, workgroup_invocations: &[u32]) -> u128 {
        self.passes
            .iter()
            .zip(workgroup_invocations)
            .map(|(p, &wg)| {
                p.dispatch.iter().map(|&d| u128::from(d)).product::<u128>()
                    * u128::from(wg)
                    * u128::from(self.gas_per_invocation)
            })
            .sum()
    }

    /// Check [`Manifest::total_gas`] against [`Limits::max_total_gas`] (run by the WGSL checks
    /// once the workgroup sizes are known).
    pub fn check_total_gas(
        &self,
        workgroup_invocations: &[u32],
        limits: &Limits,
    ) -> Result<(), ManifestError> {
        let total = self.total_gas(workgroup_invocations);
        if total > u128::from(limits.max_total_gas) {
            return Err(ManifestError::TotalGasTooLarge {
                total,
                max: limits.max_total_gas,
            });
        }
        Ok(())
    }

    /// Structural validation against protocol limits (no WGSL is looked at here).
    pub fn validate(&self, limits: &Limits) -> Result<(), ManifestError> {
        if !SUPPORTED_VERSIONS.contains(&self.version) {
            return Err(ManifestError::UnsupportedVersion(self.version));
        }
        if self.version < 3 {
            if let Some(index) = self
                .buffers
                .iter()
                .position(|b| matches!(b, Buffer::Scratch { .. }))
            {
                return Err(ManifestError::ScratchNeedsVersion3 { index });
            }
        }
        if self.max_runtime_ms == 0 || self.max_runtime_ms > limits.max_runtime_ms {
            return Err(ManifestError::BadRuntimeLimit {
                ms: self.max_runtime_ms,
                max: limits.max_runtime_ms,
            });
        }
        if self.gas_per_invocation > limits.max_gas_per_invocation {
            return Err(ManifestError::GasBudgetTooLarge {
                gas: self.gas_per_invocation,
                max: limits.max_gas_per_invocation,
            });
        }
        if self.passes.is_empty() {
            return Err(ManifestError::NoPasses);
        }
        if self.passes.len() > limits.max_passes {
            return Err(ManifestError::TooManyPasses {
                count: self.passes.len(),
                max: limits.max_passes,
            });
        }
        if self.buffers.len() > limits.max_buffers {
            return Err(ManifestError::TooManyBuffers {
                count: self.buffers.len(),
                max: limits.max_buffers,
            });
        }
        for (index, buffer) in self.buffers.iter().enumerate() {
            let size = buffer.size();
            let max = match buffer {
                Buffer::Uniform { .. } => limits.max_uniform_bytes,
                _ => limits.max_buffer_bytes,
            };
            if size > max {
                return Err(ManifestError::BufferTooLarge { index, size, max });
            }
            if size == 0 || size % 4 != 0 {
                return Err(ManifestError::BadBufferSize { index, size });
            }
        }
        let total = self.total_bytes();
        if total > u128::from(limits.max_total_bytes) {
            return Err(ManifestError::TotalTooLarge {
                total,
                max: limits.max_total_bytes,
            });
        }
        if self.output_indices().is_empty() {
            return Err(ManifestError::NoOutputs);
        }
        for (pass_index, pass) in self.passes.iter().enumerate() {
            let p = pass_index;
            if pass
                .dispatch
                .iter()
                .any(|&d| d == 0 || d > limits.max_dispatch_dim)
            {
                return Err(ManifestError::DispatchTooLarge {
                    pass: p,
                    dispatch: pass.dispatch,
                    max: limits.max_dispatch_dim,
                });
            }
            if pass.module.size > limits.max_module_bytes {
                return Err(ManifestError::ModuleTooLarge {
                    pass: p,
                    size: pass.module.size,
                    max: limits.max_module_bytes,
                });
            }
            if pass.entry_point.is_empty() || pass.entry_point.len() > limits.max_entry_point_len {
                return Err(ManifestError::BadEntryPoint {
                    pass: p,
                    max: limits.max_entry_point_len,
                });
            }
            if pass.bindings.len() > limits.max_bindings_per_pass {
                return Err(ManifestError::TooManyBindings {
                    pass: p,
                    count: pass.bindings.len(),
                    max: limits.max_bindings_per_pass,
                });
            }
            let mut seen = std::collections::BTreeSet::new();
            for b in &pass.bindings {
                if b.buffer as usize >= self.buffers.len() {
                    return Err(ManifestError::NoSuchBuffer {
                        pass: p,
                        buffer: b.buffer,
                    });
                }
                if !seen.insert(b.binding) {
                    return Err(ManifestError::DuplicateBinding {
                        pass: p,
                        binding: b.binding,
                    });
                }
            }
            let storage = pass
                .bindings
                .iter()
                .filter(|b| !matches!(self.buffers[b.buffer as usize], Buffer::Uniform { .. }))
                .count();
            if storage > limits.max_storage_bindings_per_pass {
                return Err(ManifestError::TooManyStorageBindings {
                    pass: p,
                    count: storage,
                    max: limits.max_storage_bindings_per_pass,
                });
            }
        }
        Ok(())
    }
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        let module = BlobRef::of(b"@compute @workgroup_size(1) fn main() {}");
        Manifest {
            version: 2,
            buffers: vec![
                Buffer::Input(BlobRef::of(&[1, 2, 3, 4])),
                Buffer::Output { size: 16 },
                Buffer::Uniform { bytes: vec![0; 16] },
            ],
            passes: vec![Pass {
                module,
                entry_point: "main".into(),
                dispatch: [1, 1, 1],
                bindings: vec![
                    Binding {
                        binding: 0,
                        buffer: 0,
                    },
                    Binding {
                        binding: 1,
                        buffer: 1,
                    },
                ],
            }],
            max_runtime_ms: 1000,
            gas_per_invocation: 100,
        }
    }

    #[test]
    fn canonical_bytes_round_trip_and_identity() {
        let m = sample();
        let bytes = m.canonical_bytes();
        assert_eq!(Manifest::from_canonical_bytes(&bytes).unwrap(), m);
        assert_eq!(m.id(), *blake3::hash(&bytes).as_bytes());
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(
            Manifest::from_canonical_bytes(&trailing),
            Err(ManifestError::Malformed(_))
        ));
        let mut other = m.clone();
        other.passes[0].dispatch[0] = 2;
        assert_ne!(other.id(), m.id());
    }

    #[test]
    fn json_round_trip_keeps_identity() {
        let m = sample();
        let json = m.to_json();
        assert!(json.contains("\"kind\": \"input\""), "{json}");
        let back = Manifest::from_json(&json).unwrap();
        assert_eq!(back.id(), m.id());
        assert!(matches!(
            Manifest::from_json("{\"version\":1}"),
            Err(ManifestError::Malformed(_))
        ));
    }

    #[test]
    fn validation_rejects_each_limit() {
        let l = Limits::V1;
        assert_eq!(sample().validate(&l), Ok(()));
        let mut m = sample();
        m.passes = vec![m.passes[0].clone(); 17];
        assert_eq!(m.validate(&l).unwrap_err().code(), ErrorCode::TooManyPasses);
        let mut m = sample();
        m.passes[0].dispatch = [65_536, 1, 1];
        assert_eq!(
            m.validate(&l).unwrap_err().code(),
            ErrorCode::DispatchTooLarge
        );
        let mut m = sample();
        m.buffers[1] = Buffer::Output {
            size: (128 << 20) + 4,
        };
        assert_eq!(
            m.validate(&l).unwrap_err().code(),
            ErrorCode::BufferTooLarge
        );
        let mut m = sample();
        m.buffers[1] = Buffer::Output { size: 6 };
        assert_eq!(m.validate(&l).unwrap_err().code(), ErrorCode::BadBufferSize);
        let mut m = sample();
        m.buffers = vec![Buffer::Output { size: 128 << 20 }; 5];
        assert_eq!(
            m.validate(&l).unwrap_err().code(),
            ErrorCode::BufferTooLarge
        );
        let mut m = sample();
        m.passes[0].bindings.push(Binding {
            binding: 2,
            buffer: 9,
        });
        assert_eq!(
            m.validate(&l).unwrap_err().code(),
            ErrorCode::BindingMismatch
        );
        let mut m = sample();
        m.passes[0].bindings.push(Binding {
            binding: 0,
            buffer: 1,
        });
        assert_eq!(
            m.validate(&l).unwrap_err().code(),
            ErrorCode::BindingMismatch
        );
        let mut m = sample();
        m.max_runtime_ms = 0;
        assert_eq!(
            m.validate(&l).unwrap_err().code(),
            ErrorCode::BadRuntimeLimit
        );
        let mut m = sample();
        m.version = 1;
        assert_eq!(
            m.validate(&l).unwrap_err().code(),
            ErrorCode::ManifestMalformed
        );
        let mut m = sample();
        m.buffers = vec![Buffer::Output { size: 16 }; 8];
        m.passes[0].bindings = (0..8)
            .map(|i| Binding {
                binding: i,
                buffer: i,
            })
            .collect();
        let e = m.validate(&l).unwrap_err();
        assert_eq!(e.code(), ErrorCode::TooManyBuffers);
        assert!(matches!(
            e,
            ManifestError::TooManyStorageBindings {
                count: 8,
                max: 7,
                ..
            }
        ));
        // Seven storage buffers and a uniform fit.
        m.buffers[7] = Buffer::Uniform { bytes: vec![0; 16] };
        assert_eq!(m.validate(&l), Ok(()));
    }

    #[test]
    fn gas_budget_limits() {
        let l = Limits::V1;
        assert!(
            l.max_gas_per_invocation < 65_535,
            "below the software loop limiter"
        );
        let mut m = sample();
        m.gas_per_invocation = l.max_gas_per_invocation;
        assert_eq!(m.validate(&l), Ok(()));
        m.gas_per_invocation = 0;
        assert_eq!(m.validate(&l), Ok(()));
        m.gas_per_invocation = l.max_gas_per_invocation + 1;
        let e = m.validate(&l).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadGasBudget);
        assert_eq!(
            e.to_string(),
            "the gas budget of 60001 loop iterations per invocation is above the limit of 60000"
        );
        // The static bound: invocations × gas, summed over passes.
        let mut m = sample();
        m.passes.push(m.passes[0].clone());
        m.passes[0].dispatch = [4, 2, 1];
        assert_eq!(m.total_gas(&[64, 1]), (8 * 64 + 1) * 100);
        assert_eq!(m.check_total_gas(&[64, 1], &l), Ok(()));
        m.gas_per_invocation = 60_000;
        m.passes[0].dispatch = [65_535, 65_535, 1];
        let e = m.check_total_gas(&[256, 1], &l).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadGasBudget);
        assert!(matches!(e, ManifestError::TotalGasTooLarge { max, .. } if max == 1 << 40));
        // Exactly at the bound is valid.
        let mut m = sample();
        m.gas_per_invocation = 1 << 14;
        m.passes[0].dispatch = [1 << 13, 1 << 5, 1];
        assert_eq!(m.total_gas(&[1 << 8]), 1 << 40);
        assert_eq!(m.check_total_gas(&[1 << 8], &l), Ok(()));
        m.passes[0].dispatch[2] = 2;
        assert!(m.check_total_gas(&[1 << 8], &l).is_err());
    }

    /// Version 2 manifests keep their bytes (hence their identity) now that version 3 exists:
    /// the encoding is pinned here, byte for byte.
    #[test]
    fn a_version_2_manifest_keeps_its_canonical_bytes() {
        let m = sample();
        assert_eq!(
            hex::encode(blake3::hash(&m.canonical_bytes()).as_bytes()),
            "b3286b2efdc793c906fac1fe8f2416c6024b8355315dbe0757b5fb3ec3b2cdcc",
        );
    }

    #[test]
    fn version_3_holds_scratch_buffers_and_more_passes() {
        let mut m = sample();
        m.buffers.push(Buffer::Scratch { size: 64 });
        let e = m.validate(&m.limits()).unwrap_err();
        assert_eq!(e, ManifestError::ScratchNeedsVersion3 { index: 3 });
        assert_eq!(e.code(), ErrorCode::ManifestMalformed);
        m.version = 3;
        assert_eq!(m.validate(&m.limits()), Ok(()));
        assert_eq!(
            m.output_indices(),
            vec![1],
            "scratch is not part of the result"
        );
        m.passes = vec![m.passes[0].clone(); 64];
        assert_eq!(m.validate(&m.limits()), Ok(()));
        m.passes.push(m.passes[0].clone());
        assert_eq!(
            m.validate(&m.limits()).unwrap_err().code(),
            ErrorCode::TooManyPasses
        );
        let json = m.to_json();
        assert!(json.contains("\"kind\": \"scratch\""), "{json}");
        assert_eq!(Manifest::from_json(&json).unwrap().id(), m.id());
        let mut v4 = sample();
        v4.version = 4;
        assert_eq!(
            v4.validate(&Limits::V3).unwrap_err(),
            ManifestError::UnsupportedVersion(4)
        );
    }

    #[test]
    fn json_without_a_gas_budget_gets_the_default() {
        let mut m = sample();
        m.gas_per_invocation = DEFAULT_GAS_PER_INVOCATION;
        let json = m.to_json();
        let stripped: String = json
            .lines()
            .filter(|l| !l.contains("gas_per_invocation"))
            .collect::<Vec<_>>()
            .join("\n")
            .replace("\"max_runtime_ms\": 1000,", "\"max_runtime_ms\": 1000");
        assert!(!stripped.contains("gas"), "{stripped}");
        assert_eq!(Manifest::from_json(&stripped).unwrap(), m);
    }
}
