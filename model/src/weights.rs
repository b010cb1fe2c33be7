//! The checkpoint's tensors (`model.safetensors`, f32) copied into the encoder's weight
//! layout: query, key and value stacked per layer, subnormal values flushed to zero (a GPU
//! that flushes them would read different numbers than one that does not).

use std::path::Path;

use concord_compute::kernels::transformer::encoder::{BertShape, Layout};
use concord_compute::kernels::transformer::math::ftz;
use safetensors::{Dtype, SafeTensors};

use crate::ModelError;

/// The weight blob: f32 little-endian, [`Layout`] order.
pub fn blob(dir: &Path, shape: &BertShape) -> Result<Vec<u8>, ModelError> {
    let path = dir.join("model.safetensors");
    let bytes = std::fs::read(&path).map_err(|e| ModelError::File {
        path: path.clone(),
        message: format!("{e} (scripts/setup.sh downloads the default model)"),
    })?;
    let tensors = SafeTensors::deserialize(&bytes).map_err(|e| ModelError::File {
        path: path.clone(),
        message: e.to_string(),
    })?;
    // Checkpoints name tensors with or without the `bert.` prefix.
    let prefix = if tensors.names().iter().any(|n| n.starts_with("bert.")) {
        "bert."
    } else {
        ""
    };
    let layout = Layout::of(shape);
    let mut out = vec![0u8; layout.total as usize * 4];
    let mut put = |name: &str, at: u32, len: u32| -> Result<(), ModelError> {
        let full = format!("{prefix}{name}");
        let err = |message: String| ModelError::Tensor {
            name: full.clone(),
            message,
        };
        let view = tensors.tensor(&full).map_err(|e| err(e.to_string()))?;
        if view.dtype() != Dtype::F32 {
            return Err(err(format!(
                "{:?}; only F32 checkpoints are read",
                view.dtype()
            )));
        }
        let data = view.data();
        if data.len() != len as usize * 4 {
            return Err(err(format!(
                "{} values; the model's shape needs {len}",
                data.len() / 4
            )));
        }
        let dest = &mut out[at as usize * 4..(at + len) as usize * 4];
        for (d, s) in dest.chunks_exact_mut(4).zip(data.chunks_exact(4)) {
            let v = ftz(f32::from_le_bytes([s[0], s[1], s[2], s[3]]));
            d.copy_from_slice(&v.to_le_bytes());
        }
        Ok(())
    };
    let (h, i) = (shape.hidden, shape.intermediate);
    put(
        "embeddings.word_embeddings.weight",
        layout.word,
        shape.vocab * h,
    )?;
    put(
        "embeddings.position_embeddings.weight",
        layout.pos,
        shape.max_positions * h,
    )?;
    put(
        "embeddings.token_type_embeddings.weight",
        layout.typ,
        shape.type_vocab * h,
    )?;
    put("embeddings.LayerNorm.weight", layout.emb_g, h)?;
    put("embeddings.LayerNorm.bias", layout.emb_b, h)?;
    for (n, l) in layout.layers.iter().enumerate() {
        let at = |s: &str| format!("encoder.layer.{n}.{s}");
        for (j, part) in ["query", "key", "value"].iter().enumerate() {
            let j = j as u32;
            put(
                &at(&format!("attention.self.{part}.weight")),
                l.qkv_w + j * h * h,
                h * h,
            )?;
            put(
                &at(&format!("attention.self.{part}.bias")),
                l.qkv_b + j * h,
                h,
            )?;
        }
        put(&at("attention.output.dense.weight"), l.attn_out_w, h * h)?;
        put(&at("attention.output.dense.bias"), l.attn_out_b, h)?;
        put(&at("attention.output.LayerNorm.weight"), l.ln1_g, h)?;
        put(&at("attention.output.LayerNorm.bias"), l.ln1_b, h)?;
        put(&at("intermediate.dense.weight"), l.ff1_w, i * h)?;
        put(&at("intermediate.dense.bias"), l.ff1_b, i)?;
        put(&at("output.dense.weight"), l.ff2_w, h * i)?;
        put(&at("output.dense.bias"), l.ff2_b, h)?;
        put(&at("output.LayerNorm.weight"), l.ln2_g, h)?;
        put(&at("output.LayerNorm.bias"), l.ln2_b, h)?;
    }
    Ok(out)
}
