//! The job manifest: what a buyer asks providers to run, its canonical bytes and its identity.
//!
//! A manifest lists buffers (input blobs by blake3 hash and size, zero-initialised output
//! buffers by size, uniform bytes inline) and one or more passes (a WGSL module by blake3
//! hash and size, an entry point, a dispatch size and the bindings of that pass).
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

/// Current manifest format version.
pub const MANIFEST_VERSION: u32 = 1;

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
}

impl Buffer {
    /// Size of the buffer in bytes.
    pub fn size(&self) -> u64 {
        match self {
            Buffer::Input(b) => b.size,
            Buffer::Output { size } => *size,
            Buffer::Uniform { bytes } => bytes.len() as u64,
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
    /// Wall-clock limit for executing all passes, in milliseconds.
    pub max_runtime_ms: u64,
}

/// Protocol limits. They decide whether a manifest is invalid, so every provider must apply
/// the same values: use [`Limits::V1`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_passes: usize,
    pub max_buffers: usize,
    pub max_bindings_per_pass: usize,
    pub max_buffer_bytes: u64,
    pub max_uniform_bytes: u64,
    pub max_total_bytes: u64,
    pub max_module_bytes: u64,
    pub max_dispatch_dim: u32,
    pub max_entry_point_len: usize,
    pub max_runtime_ms: u64,
}

impl Limits {
    /// The limits of manifest version 1. Chosen to fit WebGPU's default device limits
    /// (storage binding 128 MiB, 8 storage buffers per stage, 65535 workgroups per dimension).
    pub const V1: Limits = Limits {
        max_passes: 16,
        max_buffers: 32,
        max_bindings_per_pass: 8,
        max_buffer_bytes: 128 << 20,
        max_uniform_bytes: 64 << 10,
        max_total_bytes: 512 << 20,
        max_module_bytes: 1 << 20,
        max_dispatch_dim: 65_535,
        max_entry_point_len: 128,
        max_runtime_ms: 600_000,
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
        "manifest version {0} is not supported (this client speaks version {MANIFEST_VERSION})"
    )]
    UnsupportedVersion(u32),
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
}

impl ManifestError {
    /// The stable error code of this error class.
    pub fn code(&self) -> ErrorCode {
        use ManifestError::*;
        match self {
            Malformed(_) | BadHash(_) | UnsupportedVersion(_) => ErrorCode::ManifestMalformed,
            NoPasses | NoOutputs => ErrorCode::EmptyJob,
            TooManyPasses { .. } => ErrorCode::TooManyPasses,
            TooManyBuffers { .. } | TooManyBindings { .. } => ErrorCode::TooManyBuffers,
            BufferTooLarge { .. } | TotalTooLarge { .. } => ErrorCode::BufferTooLarge,
            BadBufferSize { .. } => ErrorCode::BadBufferSize,
            DispatchTooLarge { .. } => ErrorCode::DispatchTooLarge,
            ModuleTooLarge { .. } => ErrorCode::ModuleTooLarge,
            BadEntryPoint { .. } => ErrorCode::MissingEntryPoint,
            NoSuchBuffer { .. } | DuplicateBinding { .. } => ErrorCode::BindingMismatch,
            BadRuntimeLimit { .. } => ErrorCode::BadRuntimeLimit,
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

    /// Structural validation against protocol limits (no WGSL is looked at here).
    pub fn validate(&self, limits: &Limits) -> Result<(), ManifestError> {
        if self.version != MANIFEST_VERSION {
            return Err(ManifestError::UnsupportedVersion(self.version));
        }
        if self.max_runtime_ms == 0 || self.max_runtime_ms > limits.max_runtime_ms {
            return Err(ManifestError::BadRuntimeLimit {
                ms: self.max_runtime_ms,
                max: limits.max_runtime_ms,
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
            version: MANIFEST_VERSION,
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
        m.version = 2;
        assert_eq!(
            m.validate(&l).unwrap_err().code(),
            ErrorCode::ManifestMalformed
        );
    }
}
