//! A job ready to run: a manifest together with the WGSL sources and input blobs it names,
//! plus [`JobBuilder`] for assembling one and [`InvalidJob`], the typed "this job is invalid"
//! error that maps to a canonical error outcome.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

use crate::hash::Hash32;
use crate::manifest::{
    Binding, BlobRef, Buffer, Limits, Manifest, ManifestError, Pass, DEFAULT_GAS_PER_INVOCATION,
    MANIFEST_VERSION,
};
use crate::outcome::{ErrorCode, Outcome};

/// Where in a WGSL module an error or lint finding is (1-based line and column).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
pub struct SourceSpot {
    pub pass: u32,
    pub line: u32,
    pub column: u32,
}

/// The job is invalid: every honest provider reaches the same [`ErrorCode`], and commits
/// [`Outcome::Invalid`]. `message` is for people and is never hashed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct InvalidJob {
    pub code: ErrorCode,
    pub message: String,
    pub spot: Option<SourceSpot>,
}

impl InvalidJob {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        InvalidJob {
            code,
            message: message.into(),
            spot: None,
        }
    }

    /// The outcome a provider commits for this job.
    pub fn outcome(&self) -> Outcome {
        Outcome::Invalid { code: self.code }
    }
}

impl fmt::Display for InvalidJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.spot {
            Some(s) => write!(
                f,
                "invalid job ({}): pass {} at line {}, column {}: {}",
                self.code.name(),
                s.pass,
                s.line,
                s.column,
                self.message
            ),
            None => write!(f, "invalid job ({}): {}", self.code.name(), self.message),
        }
    }
}

impl std::error::Error for InvalidJob {}

impl From<ManifestError> for InvalidJob {
    fn from(e: ManifestError) -> Self {
        InvalidJob::new(e.code(), e.to_string())
    }
}

/// A manifest with its WGSL sources and input blobs, keyed by blake3 hash.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct Job {
    pub manifest: Manifest,
    pub modules: BTreeMap<Hash32, String>,
    pub blobs: BTreeMap<Hash32, Vec<u8>>,
}

/// A job is missing content (a provider-side problem, not an invalid job).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JobContentError {
    #[error("the job has no content for blob {0}")]
    Missing(Hash32),
    #[error("the content given for blob {0} does not hash to it")]
    HashMismatch(Hash32),
}

impl Job {
    /// All blobs the manifest needs: modules first (pass order), then inputs; deduplicated.
    pub fn required_blobs(manifest: &Manifest) -> Vec<BlobRef> {
        let mut out: Vec<BlobRef> = Vec::new();
        let refs =
            manifest
                .passes
                .iter()
                .map(|p| p.module)
                .chain(manifest.buffers.iter().filter_map(|b| match b {
                    Buffer::Input(r) => Some(*r),
                    _ => None,
                }));
        for r in refs {
            if !out.iter().any(|o| o.hash == r.hash) {
                out.push(r);
            }
        }
        out
    }

    /// Assemble a job from a manifest and fetched blob contents (already hash-verified or not:
    /// hashes are checked here again). Modules that are not UTF-8 are a WGSL parse error.
    pub fn from_blobs(
        manifest: Manifest,
        blobs: BTreeMap<Hash32, Vec<u8>>,
    ) -> Result<Result<Job, InvalidJob>, JobContentError> {
        for r in Job::required_blobs(&manifest) {
            let bytes = blobs.get(&r.hash).ok_or(JobContentError::Missing(r.hash))?;
            if Hash32::of(bytes) != r.hash {
                return Err(JobContentError::HashMismatch(r.hash));
            }
        }
        let mut modules = BTreeMap::new();
        for p in &manifest.passes {
            let Ok(text) = std::str::from_utf8(&blobs[&p.module.hash]) else {
                return Ok(Err(InvalidJob::new(
                    ErrorCode::WgslParse,
                    "a WGSL module is not valid UTF-8",
                )));
            };
            modules.insert(p.module.hash, text.to_string());
        }
        // Keep only the input blobs; modules live in `modules`.
        let inputs: BTreeMap<Hash32, Vec<u8>> = manifest
            .buffers
            .iter()
            .filter_map(|b| match b {
                Buffer::Input(r) => Some((r.hash, blobs[&r.hash].clone())),
                _ => None,
            })
            .collect();
        Ok(Ok(Job {
            manifest,
            modules,
            blobs: inputs,
        }))
    }

    /// Structural checks that need the contents: manifest limits and declared sizes.
    pub fn check_structure(&self, limits: &Limits) -> Result<(), InvalidJob> {
        self.manifest.validate(limits)?;
        for (i, b) in self.manifest.buffers.iter().enumerate() {
            if let Buffer::Input(r) = b {
                let actual = self.blobs.get(&r.hash).map(|b| b.len() as u64);
                if actual != Some(r.size) {
                    return Err(InvalidJob::new(
                        ErrorCode::InputSizeMismatch,
                        format!(
                            "buffer {i} declares {} bytes but its blob has {}",
                            r.size,
                            actual.map_or("none".to_string(), |a| a.to_string())
                        ),
                    ));
                }
            }
        }
        for (i, p) in self.manifest.passes.iter().enumerate() {
            let actual = self.modules.get(&p.module.hash).map(|m| m.len() as u64);
            if actual != Some(p.module.size) {
                return Err(InvalidJob::new(
                    ErrorCode::InputSizeMismatch,
                    format!("pass {i}'s module size does not match the manifest"),
                ));
            }
        }
        Ok(())
    }

    /// WGSL source of pass `index`.
    pub fn module_source(&self, index: usize) -> &str {
        self.modules
            .get(&self.manifest.passes[index].module.hash)
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Initial contents of every buffer (inputs and uniforms as given, outputs zeroed).
    pub fn buffer_bytes(&self, index: usize) -> Vec<u8> {
        match &self.manifest.buffers[index] {
            Buffer::Input(r) => self.blobs.get(&r.hash).cloned().unwrap_or_default(),
            Buffer::Output { size } | Buffer::Scratch { size } => vec![0; *size as usize],
            Buffer::Uniform { bytes } => bytes.clone(),
        }
    }
}

/// Builds a [`Job`] step by step.
#[derive(Clone, Debug)]
pub struct JobBuilder {
    buffers: Vec<Buffer>,
    passes: Vec<Pass>,
    modules: BTreeMap<Hash32, String>,
    blobs: BTreeMap<Hash32, Vec<u8>>,
    max_runtime_ms: u64,
    gas_per_invocation: u32,
}

impl Default for JobBuilder {
    fn default() -> Self {
        JobBuilder::new()
    }
}

impl JobBuilder {
    pub fn new() -> Self {
        JobBuilder {
            buffers: vec![],
            passes: vec![],
            modules: BTreeMap::new(),
            blobs: BTreeMap::new(),
            max_runtime_ms: 60_000,
            gas_per_invocation: DEFAULT_GAS_PER_INVOCATION,
        }
    }

    /// Add an input buffer; returns its index.
    pub fn input(&mut self, bytes: Vec<u8>) -> u32 {
        let r = BlobRef::of(&bytes);
        self.blobs.insert(r.hash, bytes);
        self.push(Buffer::Input(r))
    }

    /// Add a zero-initialised output buffer; returns its index.
    pub fn output(&mut self, size: u64) -> u32 {
        self.push(Buffer::Output { size })
    }

    /// Add a zero-initialised scratch buffer (intermediate values, not part of the result;
    /// makes the manifest version 3); returns its index.
    pub fn scratch(&mut self, size: u64) -> u32 {
        self.push(Buffer::Scratch { size })
    }

    /// Add a uniform buffer; returns its index.
    pub fn uniform(&mut self, bytes: Vec<u8>) -> u32 {
        self.push(Buffer::Uniform { bytes })
    }

    fn push(&mut self, b: Buffer) -> u32 {
        self.buffers.push(b);
        (self.buffers.len() - 1) as u32
    }

    /// Add a pass; `bindings` are `(binding, buffer index)` pairs in group 0.
    pub fn pass(
        &mut self,
        wgsl: &str,
        entry_point: &str,
        dispatch: [u32; 3],
        bindings: &[(u32, u32)],
    ) -> &mut Self {
        let module = BlobRef::of(wgsl.as_bytes());
        self.modules.insert(module.hash, wgsl.to_string());
        self.passes.push(Pass {
            module,
            entry_point: entry_point.to_string(),
            dispatch,
            bindings: bindings
                .iter()
                .map(|&(binding, buffer)| Binding { binding, buffer })
                .collect(),
        });
        self
    }

    pub fn max_runtime_ms(&mut self, ms: u64) -> &mut Self {
        self.max_runtime_ms = ms;
        self
    }

    /// The gas budget of every invocation (default [`DEFAULT_GAS_PER_INVOCATION`]).
    pub fn gas_per_invocation(&mut self, gas: u32) -> &mut Self {
        self.gas_per_invocation = gas;
        self
    }

    /// Version 2 while the job fits it (so the jobs it always built keep their identity),
    /// version 3 when it has scratch buffers or needs [`Limits::V3`]'s room.
    fn version(&self) -> u32 {
        let v2 = Limits::V1;
        let needs_v3 = self.passes.len() > v2.max_passes
            || self.buffers.len() > v2.max_buffers
            || self
                .buffers
                .iter()
                .any(|b| matches!(b, Buffer::Scratch { .. }));
        if needs_v3 {
            MANIFEST_VERSION
        } else {
            2
        }
    }

    pub fn build(&self) -> Job {
        Job {
            manifest: Manifest {
                version: self.version(),
                buffers: self.buffers.clone(),
                passes: self.passes.clone(),
                max_runtime_ms: self.max_runtime_ms,
                gas_per_invocation: self.gas_per_invocation,
            },
            modules: self.modules.clone(),
            blobs: self.blobs.clone(),
        }
    }
}
