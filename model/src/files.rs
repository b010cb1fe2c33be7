//! The configuration files of a sentence-transformers model directory, and the checks that
//! it is a model the encoder computes faithfully (BERT, GELU, absolute positions, mean
//! pooling, L2 normalisation).

use std::path::Path;

use concord_compute::kernels::transformer::encoder::BertShape;
use serde::Deserialize;

use crate::ModelError;

#[derive(Deserialize)]
struct Config {
    model_type: Option<String>,
    hidden_size: u32,
    num_attention_heads: u32,
    intermediate_size: u32,
    num_hidden_layers: u32,
    vocab_size: u32,
    max_position_embeddings: u32,
    type_vocab_size: u32,
    layer_norm_eps: f64,
    hidden_act: String,
    #[serde(default)]
    position_embedding_type: Option<String>,
}

#[derive(Deserialize)]
struct Pooling {
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
}

#[derive(Deserialize)]
struct SentenceBert {
    max_seq_length: u32,
}

#[derive(Deserialize)]
struct Module {
    #[serde(rename = "type")]
    kind: String,
}

/// What the directory's configuration says.
pub struct ModelFiles {
    config: Config,
    /// Tokens a sentence is cut to (`sentence_bert_config.json`, default 256).
    pub max_seq_length: u32,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::File {
        path: path.to_path_buf(),
        message: format!("{e} (scripts/setup.sh downloads the default model)"),
    })?;
    serde_json::from_str(&text).map_err(|e| ModelError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

impl ModelFiles {
    pub fn read(dir: &Path) -> Result<ModelFiles, ModelError> {
        let config: Config = read_json(&dir.join("config.json"))?;
        let pooling: Pooling = read_json(&dir.join("1_Pooling/config.json"))?;
        if !pooling.pooling_mode_mean_tokens
            || pooling.pooling_mode_cls_token
            || pooling.pooling_mode_max_tokens
        {
            return Err(ModelError::Unsupported(
                "only mean pooling is computed".into(),
            ));
        }
        let modules: Vec<Module> = read_json(&dir.join("modules.json"))?;
        if !modules.iter().any(|m| m.kind.ends_with(".Normalize")) {
            return Err(ModelError::Unsupported(
                "the model does not normalise its embeddings; the encoder always does".into(),
            ));
        }
        let max_seq_length = match read_json::<SentenceBert>(&dir.join("sentence_bert_config.json"))
        {
            Ok(s) => s.max_seq_length,
            Err(_) => 256,
        };
        Ok(ModelFiles {
            config,
            max_seq_length,
        })
    }

    /// The encoder's dimensions.
    pub fn shape(&self) -> Result<BertShape, ModelError> {
        let c = &self.config;
        if c.model_type.as_deref().is_some_and(|t| t != "bert") {
            return Err(ModelError::Unsupported(format!(
                "model type {:?}; only BERT encoders are computed",
                c.model_type
            )));
        }
        if c.hidden_act != "gelu" {
            return Err(ModelError::Unsupported(format!(
                "activation {:?}; only erf GELU is computed",
                c.hidden_act
            )));
        }
        if c.position_embedding_type
            .as_deref()
            .is_some_and(|p| p != "absolute")
        {
            return Err(ModelError::Unsupported(
                "only absolute position embeddings are computed".into(),
            ));
        }
        if c.num_attention_heads == 0
            || !c.hidden_size.is_multiple_of(c.num_attention_heads)
            || !c.hidden_size.is_multiple_of(64)
            || !c.intermediate_size.is_multiple_of(64)
        {
            return Err(ModelError::Unsupported(format!(
                "hidden size {} with {} heads and intermediate size {}: the linear operator needs multiples of 64, and the hidden size a multiple of the heads",
                c.hidden_size, c.num_attention_heads, c.intermediate_size
            )));
        }
        Ok(BertShape {
            hidden: c.hidden_size,
            heads: c.num_attention_heads,
            intermediate: c.intermediate_size,
            layers: c.num_hidden_layers,
            vocab: c.vocab_size,
            max_positions: c.max_position_embeddings,
            type_vocab: c.type_vocab_size,
            eps: c.layer_norm_eps as f32,
        })
    }
}
