//! The reference the embeddings are measured against (feature `candle`): candle's BERT, f32
//! on the CPU, on the same weights and token ids, then mean pooling and L2 normalisation as
//! sentence-transformers does. One sentence at a time, so no padding or mask is involved.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};

use crate::{Model, ModelError};

/// candle's BERT loaded from a model directory.
pub struct CandleBert {
    bert: BertModel,
}

fn candle_err(e: impl std::fmt::Display) -> ModelError {
    ModelError::Unsupported(format!("candle: {e}"))
}

impl CandleBert {
    pub fn load(model: &Model) -> Result<CandleBert, ModelError> {
        let path = model.dir.join("config.json");
        let text = std::fs::read_to_string(&path).map_err(|e| ModelError::File {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let config: Config = serde_json::from_str(&text).map_err(|e| ModelError::File {
            path,
            message: e.to_string(),
        })?;
        // SAFETY: the checkpoint file is not modified while it is mapped.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(
                &[model.dir.join("model.safetensors")],
                DType::F32,
                &Device::Cpu,
            )
        }
        .map_err(candle_err)?;
        Ok(CandleBert {
            bert: BertModel::load(vb, &config).map_err(candle_err)?,
        })
    }

    /// The unit-length mean-pooled embedding of each tokenized sentence.
    pub fn embed(&self, sentences: &[(Vec<u32>, Vec<u32>)]) -> Result<Vec<Vec<f32>>, ModelError> {
        sentences
            .iter()
            .map(|(ids, types)| {
                let row = |v: &[u32]| Tensor::new(v, &Device::Cpu)?.unsqueeze(0);
                let hidden = self
                    .bert
                    .forward(
                        &row(ids).map_err(candle_err)?,
                        &row(types).map_err(candle_err)?,
                        None,
                    )
                    .map_err(candle_err)?;
                let mean: Vec<f32> = hidden
                    .mean(1)
                    .and_then(|m| m.squeeze(0))
                    .and_then(|m| m.to_vec1())
                    .map_err(candle_err)?;
                let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                Ok(mean.iter().map(|v| v / norm).collect())
            })
            .collect()
    }
}

/// Cosine of two unit-length rows, in f64.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}
