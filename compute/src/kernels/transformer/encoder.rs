//! A BERT encoder as one multi-pass job: embeddings and their layer norm, per layer fused
//! q|k|v, attention, output projection with residual, layer norm, GELU feed-forward with
//! residual, layer norm; then mean pooling and L2 normalisation (a sentence embedding). The
//! weights are one input blob in [`Layout`] order (the same blob for every job of a model, so
//! providers fetch and cache it once); the sentences are packed (no padding, attention stays
//! within each sentence). [`reference`] runs the same operators on the CPU.

use super::{
    attention_gas, attention_reference, embed_reference, l2norm_gas, l2norm_reference,
    layer_norm_gas, layer_norm_reference, linear_gas, linear_reference, pool_gas, pool_reference,
    Params, Tokens, ATTENTION, EMBED, GELU, L2NORM, LAYER_NORM, LINEAR, MAX_SENTENCE, POOL,
    RESIDUAL,
};
use crate::kernels::{groups, u32_bytes};
use concord_protocol::job::{Job, JobBuilder};

/// The dimensions of a BERT encoder.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BertShape {
    pub hidden: u32,
    pub heads: u32,
    pub intermediate: u32,
    pub layers: u32,
    pub vocab: u32,
    pub max_positions: u32,
    pub type_vocab: u32,
    pub eps: f32,
}

impl BertShape {
    /// sentence-transformers/all-MiniLM-L6-v2.
    pub const MINILM_L6: BertShape = BertShape {
        hidden: 384,
        heads: 12,
        intermediate: 1536,
        layers: 6,
        vocab: 30522,
        max_positions: 512,
        type_vocab: 2,
        eps: 1e-12,
    };

    pub fn head_dim(&self) -> u32 {
        self.hidden / self.heads
    }

    /// Floating-point operations of the encoder's matrix products for `tokens` tokens (a
    /// multiply and an add count two): per layer q|k|v and the output projection (4·h²) and
    /// the feed-forward (2·h·i) a token.
    pub fn flops(&self, tokens: u32) -> u64 {
        let (h, i) = (u64::from(self.hidden), u64::from(self.intermediate));
        2 * u64::from(tokens) * u64::from(self.layers) * h * (4 * h + 2 * i)
    }
}

/// Where one layer's tensors start in the weight blob (in floats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerLayout {
    /// Query, key and value weights stacked: `3·hidden × hidden`.
    pub qkv_w: u32,
    /// Query, key and value biases: `3·hidden`.
    pub qkv_b: u32,
    pub attn_out_w: u32,
    pub attn_out_b: u32,
    pub ln1_g: u32,
    pub ln1_b: u32,
    pub ff1_w: u32,
    pub ff1_b: u32,
    pub ff2_w: u32,
    pub ff2_b: u32,
    pub ln2_g: u32,
    pub ln2_b: u32,
}

/// Where each tensor starts in the weight blob (in floats), in this order: word, position
/// and type tables, the embedding layer norm, then each layer as [`LayerLayout`] lists it.
/// Matrices are `out × in`, row-major (as BERT checkpoints store them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub word: u32,
    pub pos: u32,
    pub typ: u32,
    pub emb_g: u32,
    pub emb_b: u32,
    pub layers: Vec<LayerLayout>,
    /// Floats in the blob.
    pub total: u32,
}

impl Layout {
    pub fn of(s: &BertShape) -> Layout {
        let (h, i) = (s.hidden, s.intermediate);
        let mut at = 0u32;
        let mut take = |len: u32| {
            let start = at;
            at += len;
            start
        };
        let word = take(s.vocab * h);
        let pos = take(s.max_positions * h);
        let typ = take(s.type_vocab * h);
        let emb_g = take(h);
        let emb_b = take(h);
        let layers = (0..s.layers)
            .map(|_| LayerLayout {
                qkv_w: take(3 * h * h),
                qkv_b: take(3 * h),
                attn_out_w: take(h * h),
                attn_out_b: take(h),
                ln1_g: take(h),
                ln1_b: take(h),
                ff1_w: take(i * h),
                ff1_b: take(i),
                ff2_w: take(h * i),
                ff2_b: take(h),
                ln2_g: take(h),
                ln2_b: take(h),
            })
            .collect();
        Layout {
            word,
            pos,
            typ,
            emb_g,
            emb_b,
            layers,
            total: at,
        }
    }
}

/// Why a batch cannot be encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncoderError {
    #[error("the batch has no sentences")]
    Empty,
    #[error("sentence {index} has {len} tokens; the encoder takes 1..={max}")]
    SentenceLength { index: usize, len: usize, max: u32 },
    #[error("sentence {index} has token id {id}, outside the vocabulary of {vocab}")]
    TokenId { index: usize, id: u32, vocab: u32 },
    #[error("sentence {index} has token type {typ}, outside the {types} types")]
    TokenType { index: usize, typ: u32, types: u32 },
    #[error("the batch has {tokens} tokens; one job takes at most {max} (split the input)")]
    TooManyTokens { tokens: u32, max: u32 },
    #[error("the weights are {got} floats; the model has {expected}")]
    Weights { got: usize, expected: u32 },
}

/// Most tokens one encoder job takes: its feed-forward scratch buffer (tokens × intermediate
/// floats) stays within the protocol's 128 MiB per buffer for an intermediate size of 1536.
pub const MAX_TOKENS: u32 = 16_384;

/// Check a batch against the shape.
pub fn check(shape: &BertShape, tokens: &Tokens) -> Result<(), EncoderError> {
    if tokens.sentences.is_empty() {
        return Err(EncoderError::Empty);
    }
    if tokens.count() > MAX_TOKENS {
        return Err(EncoderError::TooManyTokens {
            tokens: tokens.count(),
            max: MAX_TOKENS,
        });
    }
    let max = MAX_SENTENCE.min(shape.max_positions);
    for (index, (ids, types)) in tokens.sentences.iter().enumerate() {
        if ids.is_empty() || ids.len() > max as usize || types.len() != ids.len() {
            return Err(EncoderError::SentenceLength {
                index,
                len: ids.len(),
                max,
            });
        }
        if let Some(&id) = ids.iter().find(|&&id| id >= shape.vocab) {
            return Err(EncoderError::TokenId {
                index,
                id,
                vocab: shape.vocab,
            });
        }
        if let Some(&typ) = types.iter().find(|&&t| t >= shape.type_vocab) {
            return Err(EncoderError::TokenType {
                index,
                typ,
                types: shape.type_vocab,
            });
        }
    }
    Ok(())
}

/// Every pass's parameters, in order, and which operator runs it.
fn plan(shape: &BertShape, layout: &Layout, tokens: &Tokens) -> Vec<(Op, Params)> {
    let (h, i) = (shape.hidden, shape.intermediate);
    let rows = tokens.count();
    let ln = |g: u32, b: u32| Params {
        rows,
        n: h,
        g,
        b,
        eps: shape.eps,
        inv_n: 1.0 / h as f32,
        ..Params::default()
    };
    let linear = |n: u32, k: u32, w: u32, b: u32, flags: u32| Params {
        rows,
        n,
        k,
        w,
        b,
        flags,
        ..Params::default()
    };
    let mut plan = vec![
        (
            Op::Embed,
            Params {
                rows,
                n: h,
                w: layout.word,
                pos: layout.pos,
                typ: layout.typ,
                ..Params::default()
            },
        ),
        (Op::LayerNorm, ln(layout.emb_g, layout.emb_b)),
    ];
    let attention = Params {
        rows,
        n: h,
        heads: shape.heads,
        head_dim: shape.head_dim(),
        scale: 1.0 / (shape.head_dim() as f32).sqrt(),
        stride: 3 * h,
        ..Params::default()
    };
    for l in &layout.layers {
        plan.extend([
            (
                Op::Linear(Buf::X, Buf::Qkv),
                linear(3 * h, h, l.qkv_w, l.qkv_b, 0),
            ),
            (Op::Attention, attention),
            (
                Op::Linear(Buf::Ctx, Buf::H),
                linear(h, h, l.attn_out_w, l.attn_out_b, RESIDUAL),
            ),
            (Op::LayerNorm, ln(l.ln1_g, l.ln1_b)),
            (
                Op::Linear(Buf::X, Buf::F),
                linear(i, h, l.ff1_w, l.ff1_b, GELU),
            ),
            (
                Op::Linear(Buf::F, Buf::H),
                linear(h, i, l.ff2_w, l.ff2_b, RESIDUAL),
            ),
            (Op::LayerNorm, ln(l.ln2_g, l.ln2_b)),
        ]);
    }
    let sentences = Params {
        rows: tokens.sentences.len() as u32,
        n: h,
        ..Params::default()
    };
    plan.push((Op::Pool, sentences));
    plan.push((Op::L2Norm, sentences));
    plan
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Buf {
    X,
    H,
    Qkv,
    Ctx,
    F,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Embed,
    /// `H` → `X`.
    LayerNorm,
    Linear(Buf, Buf),
    Attention,
    Pool,
    L2Norm,
}

/// The gas budget of the encoder job: its most looping invocation.
pub fn gas(shape: &BertShape, tokens: &Tokens) -> u32 {
    let longest = tokens.longest();
    [
        linear_gas(shape.hidden.max(shape.intermediate)),
        layer_norm_gas(shape.hidden),
        attention_gas(longest, shape.head_dim()),
        pool_gas(longest),
        l2norm_gas(shape.hidden),
    ]
    .into_iter()
    .max()
    .unwrap_or(0)
}

/// The encoder job: `weights` is the blob in [`Layout`] order (f32 little-endian). The one
/// output is `sentences × hidden` f32: each sentence's normalised mean-pooled embedding.
pub fn job(
    shape: &BertShape,
    weights: Vec<u8>,
    tokens: &Tokens,
    max_runtime_ms: u64,
) -> Result<Job, EncoderError> {
    check(shape, tokens)?;
    let layout = Layout::of(shape);
    if weights.len() != layout.total as usize * 4 {
        return Err(EncoderError::Weights {
            got: weights.len() / 4,
            expected: layout.total,
        });
    }
    let (h, i) = (shape.hidden, shape.intermediate);
    let rows = tokens.count();
    let sentences = tokens.sentences.len() as u32;
    let floats = |n: u32| u64::from(rows) * u64::from(n) * 4;
    let mut jb = JobBuilder::new();
    let iw = jb.input(weights);
    let it = jb.input(u32_bytes(&tokens.table()));
    let is = jb.input(u32_bytes(&tokens.spans()));
    let scratch = |jb: &mut JobBuilder, b: Buf| match b {
        Buf::X | Buf::H | Buf::Ctx => jb.scratch(floats(h)),
        Buf::Qkv => jb.scratch(floats(3 * h)),
        Buf::F => jb.scratch(floats(i)),
    };
    let bufs: Vec<(Buf, u32)> = [Buf::X, Buf::H, Buf::Qkv, Buf::Ctx, Buf::F]
        .into_iter()
        .map(|b| (b, scratch(&mut jb, b)))
        .collect();
    let at = |b: Buf| bufs.iter().find(|(k, _)| *k == b).map(|(_, i)| *i).unwrap();
    let pooled = jb.scratch(u64::from(sentences) * u64::from(h) * 4);
    let out = jb.output(u64::from(sentences) * u64::from(h) * 4);
    jb.gas_per_invocation(gas(shape, tokens));
    jb.max_runtime_ms(max_runtime_ms);
    for (op, p) in plan(shape, &layout, tokens) {
        let u = jb.uniform(p.bytes());
        match op {
            Op::Embed => jb.pass(
                EMBED,
                "main",
                [groups(rows * h, 256), 1, 1],
                &[(0, iw), (1, it), (2, at(Buf::H)), (3, u)],
            ),
            Op::LayerNorm => jb.pass(
                LAYER_NORM,
                "main",
                [groups(rows, 64), 1, 1],
                &[(0, iw), (1, at(Buf::H)), (2, at(Buf::X)), (3, u)],
            ),
            Op::Linear(from, to) => jb.pass(
                LINEAR,
                "main",
                [p.n / 16, groups(rows, 16), 1],
                // The residual is always `X` (read only where the flag is set).
                &[(0, iw), (1, at(from)), (2, at(to)), (3, at(Buf::X)), (4, u)],
            ),
            Op::Attention => jb.pass(
                ATTENTION,
                "main",
                [groups(rows * shape.heads, 64), 1, 1],
                &[(0, at(Buf::Qkv)), (1, it), (2, at(Buf::Ctx)), (3, u)],
            ),
            Op::Pool => jb.pass(
                POOL,
                "main",
                [groups(sentences * h, 64), 1, 1],
                &[(0, at(Buf::X)), (1, is), (2, pooled), (3, u)],
            ),
            Op::L2Norm => jb.pass(
                L2NORM,
                "main",
                [groups(sentences, 64), 1, 1],
                &[(0, pooled), (1, out), (2, u)],
            ),
        };
    }
    Ok(jb.build())
}

/// The encoder on the CPU: the job's output, computed with the operators' references.
pub fn reference(
    shape: &BertShape,
    weights: &[f32],
    tokens: &Tokens,
) -> Result<Vec<f32>, EncoderError> {
    check(shape, tokens)?;
    let layout = Layout::of(shape);
    if weights.len() != layout.total as usize {
        return Err(EncoderError::Weights {
            got: weights.len(),
            expected: layout.total,
        });
    }
    let table = tokens.table();
    let spans = tokens.spans();
    let (mut x, mut hbuf, mut qkv, mut ctx, mut f) = (vec![], vec![], vec![], vec![], vec![]);
    let mut pooled = vec![];
    let mut out = vec![];
    for (op, p) in plan(shape, &layout, tokens) {
        match op {
            Op::Embed => hbuf = embed_reference(weights, &table, &p),
            Op::LayerNorm => x = layer_norm_reference(weights, &hbuf, &p),
            Op::Linear(Buf::X, Buf::Qkv) => qkv = linear_reference(weights, &x, &[], &p),
            Op::Linear(Buf::Ctx, Buf::H) => hbuf = linear_reference(weights, &ctx, &x, &p),
            Op::Linear(Buf::X, Buf::F) => f = linear_reference(weights, &x, &[], &p),
            Op::Linear(Buf::F, Buf::H) => hbuf = linear_reference(weights, &f, &x, &p),
            Op::Linear(from, to) => unreachable!("no linear layer from {from:?} to {to:?}"),
            Op::Attention => ctx = attention_reference(&qkv, &table, &p),
            Op::Pool => pooled = pool_reference(&x, &spans, &p),
            Op::L2Norm => out = l2norm_reference(&pooled, &p),
        }
    }
    Ok(out)
}
