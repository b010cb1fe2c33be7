//! Concord's sentence-embedding model: a BERT checkpoint in the sentence-transformers layout
//! (e.g. all-MiniLM-L6-v2: `config.json`, `model.safetensors`, `tokenizer.json`, mean
//! pooling, L2 normalisation) turned into a Concord job. The weights become one
//! content-addressed blob in the encoder's layout (the same blob for every job, so providers
//! fetch and cache it once); sentences are tokenized here, on the buyer's side, and packed
//! into the job; the result is one unit-length embedding a sentence. The operators and the
//! encoder job are `concord_compute::kernels::transformer`.
//!
//! Module order: `files`, `weights`, `output`, this module, `candle_reference` (feature
//! `candle`).

#[cfg(feature = "candle")]
pub mod candle_reference;
mod files;
pub mod output;
mod weights;

use std::path::{Path, PathBuf};

use concord_compute::kernels::transformer::encoder::{self, BertShape, EncoderError};
use concord_compute::kernels::transformer::{Tokens, MAX_SENTENCE};
use concord_compute::kernels::{f32_bytes, f32s, KernelCase};
use concord_protocol::job::Job;
use concord_protocol::BlobRef;
use tokenizers::{Tokenizer, TruncationParams};

pub use files::ModelFiles;

/// The model everyone gets without asking: the directory `scripts/setup.sh` fills.
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";

/// The sentences of the model's determinism check (`concord kernel check --model`, the
/// determinism table's model row, the backends test).
pub const SAMPLE_SENTENCES: [&str; 3] = [
    "Concord settles verified compute.",
    "¿Dónde está la estación?",
    "ok",
];

/// Why a model cannot be loaded or a batch encoded.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("the model is not supported: {0}")]
    Unsupported(String),
    #[error("tensor `{name}`: {message}")]
    Tensor { name: String, message: String },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error(transparent)]
    Encoder(#[from] EncoderError),
}

/// A loaded model: its shape, its weights as the job's blob, its tokenizer.
pub struct Model {
    pub dir: PathBuf,
    pub shape: BertShape,
    /// The weight blob, f32 little-endian in the encoder's layout.
    pub weights: Vec<u8>,
    /// Tokens a sentence is cut to (the model's `max_seq_length`, at most the encoder's 256).
    pub max_tokens: u32,
    tokenizer: Tokenizer,
}

impl Model {
    /// `$CONCORD_MODEL_DIR`, else `$CONCORD_CACHE/models/all-MiniLM-L6-v2`, else
    /// `~/.cache/concord/models/all-MiniLM-L6-v2`.
    pub fn default_dir() -> PathBuf {
        if let Some(dir) = std::env::var_os("CONCORD_MODEL_DIR") {
            return dir.into();
        }
        let cache = std::env::var_os("CONCORD_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/concord")
            });
        cache.join("models").join(DEFAULT_MODEL)
    }

    /// Load a model directory.
    pub fn load(dir: &Path) -> Result<Model, ModelError> {
        let files = ModelFiles::read(dir)?;
        let shape = files.shape()?;
        let max_tokens = files
            .max_seq_length
            .min(MAX_SENTENCE)
            .min(shape.max_positions);
        let weights = weights::blob(dir, &shape)?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens as usize,
                ..Default::default()
            }))
            .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
        tokenizer.with_padding(None);
        Ok(Model {
            dir: dir.to_path_buf(),
            shape,
            weights,
            max_tokens,
            tokenizer,
        })
    }

    /// The weight blob's reference (hash and size).
    pub fn weights_ref(&self) -> BlobRef {
        BlobRef::of(&self.weights)
    }

    /// The weights as floats (for the CPU reference).
    pub fn weights_f32(&self) -> Vec<f32> {
        f32s(&self.weights)
    }

    /// Tokenize sentences (with `[CLS]`/`[SEP]`, cut to [`Model::max_tokens`]).
    pub fn tokenize<S: AsRef<str>>(&self, sentences: &[S]) -> Result<Tokens, ModelError> {
        let sentences = sentences
            .iter()
            .map(|s| {
                let e = self
                    .tokenizer
                    .encode(s.as_ref(), true)
                    .map_err(|e| ModelError::Tokenizer(e.to_string()))?;
                Ok((e.get_ids().to_vec(), e.get_type_ids().to_vec()))
            })
            .collect::<Result<_, ModelError>>()?;
        Ok(Tokens { sentences })
    }

    /// The embedding job for a tokenized batch.
    pub fn job(&self, tokens: &Tokens, max_runtime_ms: u64) -> Result<Job, ModelError> {
        Ok(encoder::job(
            &self.shape,
            self.weights.clone(),
            tokens,
            max_runtime_ms,
        )?)
    }

    /// The embedding job of [`SAMPLE_SENTENCES`] as a checkable case: the job and its CPU
    /// reference (the encoder's operators in Rust; seconds in a debug build).
    pub fn sample_case(self) -> Result<KernelCase, ModelError> {
        let tokens = self.tokenize(&SAMPLE_SENTENCES)?;
        let job = self.job(&tokens, 600_000)?;
        let ops = self.shape.flops(tokens.count());
        Ok(KernelCase::new(
            "all-MiniLM-L6-v2 (3 sentences)",
            concord_compute::kernels::transformer::LINEAR,
            job,
            ops,
            "FLOP",
            Box::new(move || {
                let out = encoder::reference(&self.shape, &self.weights_f32(), &tokens)
                    .expect("the sample batch was checked when its job was built");
                vec![f32_bytes(&out)]
            }),
        ))
    }

    /// The job's output as one embedding a sentence.
    pub fn embeddings(&self, output: &[u8]) -> Vec<Vec<f32>> {
        output
            .chunks_exact(self.shape.hidden as usize * 4)
            .map(f32s)
            .collect()
    }
}
