//! Reproducible transformer operators: token embeddings, layer norm, linear layers (tiled
//! through workgroup memory, optional GELU and residual), self-attention over packed
//! sentences, mean pooling and L2 normalisation. f32 throughout, every addition and
//! multiplication fenced (no FMA, no reordering, fixed summation order), exp / reciprocal /
//! reciprocal square root / erf in software from those operations only (`math`), subnormals
//! flushed where they can occur. Each operator has a CPU reference here that performs the same
//! operations in the same order; `encoder` composes them into a BERT encoder job.
//!
//! Module order: `math`, this module, `encoder`.

pub mod encoder;
pub mod math;

use super::{f32_bytes, groups, u32_bytes, KernelCase, Size, SplitMix64};
use concord_protocol::job::JobBuilder;
use math::{ftz, gelu, recip, rsqrt};

macro_rules! operator {
    ($file:literal) => {
        concat!(
            include_str!("../wgsl/transformer/prelude.wgsl"),
            include_str!(concat!("../wgsl/transformer/", $file))
        )
    };
}

pub const EMBED: &str = operator!("embed.wgsl");
pub const LAYER_NORM: &str = operator!("layer_norm.wgsl");
pub const LINEAR: &str = operator!("linear.wgsl");
pub const ATTENTION: &str = operator!("attention.wgsl");
pub const POOL: &str = operator!("pool.wgsl");
pub const L2NORM: &str = operator!("l2norm.wgsl");

/// Longest sentence the attention operator takes (its score array).
pub const MAX_SENTENCE: u32 = 256;
/// Linear layer flag: GELU after the bias.
pub const GELU: u32 = 1;
/// Linear layer flag: add the residual last.
pub const RESIDUAL: u32 = 2;

/// The uniform every operator takes (`Params` in the WGSL prelude): 16 words.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Params {
    pub rows: u32,
    pub n: u32,
    pub k: u32,
    pub w: u32,
    pub b: u32,
    pub flags: u32,
    pub heads: u32,
    pub head_dim: u32,
    pub eps: f32,
    pub inv_n: f32,
    pub scale: f32,
    pub pos: u32,
    pub typ: u32,
    pub g: u32,
    pub stride: u32,
}

impl Params {
    /// The uniform's bytes (the fence word is 0).
    pub fn bytes(&self) -> Vec<u8> {
        u32_bytes(&[
            self.rows,
            self.n,
            self.k,
            0,
            self.w,
            self.b,
            self.flags,
            self.heads,
            self.head_dim,
            self.eps.to_bits(),
            self.inv_n.to_bits(),
            self.scale.to_bits(),
            self.pos,
            self.typ,
            self.g,
            self.stride,
        ])
    }
}

/// A packed batch of sentences: each token's vocabulary id and type, sentence by sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tokens {
    /// Per sentence: its token ids and token types.
    pub sentences: Vec<(Vec<u32>, Vec<u32>)>,
}

impl Tokens {
    /// Tokens of all sentences.
    pub fn count(&self) -> u32 {
        self.sentences.iter().map(|(ids, _)| ids.len() as u32).sum()
    }

    /// The `tokens` buffer: per token id, its sentence's first token, its sentence's length,
    /// its type.
    pub fn table(&self) -> Vec<u32> {
        let mut out = vec![];
        let mut start = 0u32;
        for (ids, types) in &self.sentences {
            let len = ids.len() as u32;
            for (id, typ) in ids.iter().zip(types) {
                out.extend([*id, start, len, *typ]);
            }
            start += len;
        }
        out
    }

    /// The `sentences` buffer: per sentence its first token and length.
    pub fn spans(&self) -> Vec<u32> {
        let mut out = vec![];
        let mut start = 0u32;
        for (ids, _) in &self.sentences {
            out.extend([start, ids.len() as u32]);
            start += ids.len() as u32;
        }
        out
    }

    /// The longest sentence.
    pub fn longest(&self) -> u32 {
        self.sentences
            .iter()
            .map(|(ids, _)| ids.len() as u32)
            .max()
            .unwrap_or(0)
    }
}

/// Embeddings: `out[t] = word[id] + type[typ] + position[t - start]`.
pub fn embed_reference(weights: &[f32], table: &[u32], p: &Params) -> Vec<f32> {
    let n = p.n as usize;
    let mut out = vec![0f32; p.rows as usize * n];
    for t in 0..p.rows as usize {
        let (id, start, typ) = (
            table[t * 4] as usize,
            table[t * 4 + 1] as usize,
            table[t * 4 + 3],
        );
        let pos = t - start;
        for d in 0..n {
            let word = weights[p.w as usize + id * n + d];
            let type_row = weights[p.typ as usize + typ as usize * n + d];
            let pos_row = weights[p.pos as usize + pos * n + d];
            out[t * n + d] = (word + type_row) + pos_row;
        }
    }
    out
}

/// Layer norm of each row.
pub fn layer_norm_reference(weights: &[f32], x: &[f32], p: &Params) -> Vec<f32> {
    let n = p.n as usize;
    let mut out = vec![0f32; p.rows as usize * n];
    for t in 0..p.rows as usize {
        let row = &x[t * n..(t + 1) * n];
        let mut sum = 0f32;
        for v in row {
            sum += v;
        }
        let mean = sum * p.inv_n;
        let mut sq = 0f32;
        for v in row {
            let c = v - mean;
            sq += c * c;
        }
        let r = rsqrt(sq * p.inv_n + p.eps);
        for d in 0..n {
            let c = row[d] - mean;
            out[t * n + d] = (c * r) * weights[p.g as usize + d] + weights[p.b as usize + d];
        }
    }
    out
}

/// A linear layer: `act(a · Wᵀ + bias) (+ residual)`, each sum over k in order.
pub fn linear_reference(weights: &[f32], a: &[f32], residual: &[f32], p: &Params) -> Vec<f32> {
    let (n, k) = (p.n as usize, p.k as usize);
    let mut out = vec![0f32; p.rows as usize * n];
    for r in 0..p.rows as usize {
        let arow = &a[r * k..(r + 1) * k];
        for c in 0..n {
            let wrow = &weights[p.w as usize + c * k..p.w as usize + (c + 1) * k];
            let mut acc = 0f32;
            for i in 0..k {
                acc += arow[i] * wrow[i];
            }
            let mut y = acc + weights[p.b as usize + c];
            if p.flags & GELU != 0 {
                y = gelu(y);
            }
            if p.flags & RESIDUAL != 0 {
                y += residual[r * n + c];
            }
            out[r * n + c] = y;
        }
    }
    out
}

/// Self-attention within each sentence; `qkv` rows are `q | k | v`, `p.stride` floats each.
pub fn attention_reference(qkv: &[f32], table: &[u32], p: &Params) -> Vec<f32> {
    let (n, hd, stride) = (p.n as usize, p.head_dim as usize, p.stride as usize);
    let mut out = vec![0f32; p.rows as usize * n];
    let mut scores = vec![0f32; MAX_SENTENCE as usize];
    for t in 0..p.rows as usize {
        let (start, len) = (table[t * 4 + 1] as usize, table[t * 4 + 2] as usize);
        for h in 0..p.heads as usize {
            let q = &qkv[t * stride + h * hd..][..hd];
            let mut m = -3.0e38f32;
            for j in 0..len {
                let key = &qkv[(start + j) * stride + n + h * hd..][..hd];
                let mut dot = 0f32;
                for d in 0..hd {
                    dot += q[d] * key[d];
                }
                let s = dot * p.scale;
                scores[j] = s;
                m = m.max(s);
            }
            let mut sum = 0f32;
            for s in &mut scores[..len] {
                *s = math::exp(*s - m);
                sum += *s;
            }
            let inv = recip(sum);
            for s in &mut scores[..len] {
                *s = ftz(*s * inv);
            }
            for d in 0..hd {
                let mut acc = 0f32;
                for (j, s) in scores[..len].iter().enumerate() {
                    let v = qkv[(start + j) * stride + 2 * n + h * hd + d];
                    acc = ftz(acc + ftz(s * v));
                }
                out[t * n + h * hd + d] = acc;
            }
        }
    }
    out
}

/// Mean of each sentence's token rows.
pub fn pool_reference(x: &[f32], spans: &[u32], p: &Params) -> Vec<f32> {
    let n = p.n as usize;
    let mut out = vec![0f32; p.rows as usize * n];
    for s in 0..p.rows as usize {
        let (start, len) = (spans[s * 2] as usize, spans[s * 2 + 1]);
        for d in 0..n {
            let mut acc = 0f32;
            for j in 0..len as usize {
                acc += x[(start + j) * n + d];
            }
            out[s * n + d] = acc * recip(len as f32);
        }
    }
    out
}

/// Each row divided by its L2 norm (at least 1e-12).
pub fn l2norm_reference(x: &[f32], p: &Params) -> Vec<f32> {
    let n = p.n as usize;
    let mut out = vec![0f32; p.rows as usize * n];
    for r in 0..p.rows as usize {
        let row = &x[r * n..(r + 1) * n];
        let mut sq = 0f32;
        for v in row {
            sq += v * v;
        }
        let inv = rsqrt(sq.max(1.0e-24));
        for d in 0..n {
            out[r * n + d] = row[d] * inv;
        }
    }
    out
}

/// Gas of one `linear` invocation: k/64 tiles (+1 for the exit), each with a loop of 64
/// products (+1).
pub fn linear_gas(k: u32) -> u32 {
    (k / 64) * 66 + 1
}

/// Gas of one `layer_norm` invocation: three loops over the row.
pub fn layer_norm_gas(n: u32) -> u32 {
    3 * (n + 1)
}

/// Gas of one `attention` invocation for a sentence of `len` tokens.
pub fn attention_gas(len: u32, head_dim: u32) -> u32 {
    (len + 1) + len * (head_dim + 1) + 2 * (len + 1) + (head_dim + 1) + head_dim * (len + 1)
}

/// Gas of one `pool` invocation for a sentence of `len` tokens.
pub fn pool_gas(len: u32) -> u32 {
    len + 1
}

/// Gas of one `l2norm` invocation.
pub fn l2norm_gas(n: u32) -> u32 {
    2 * (n + 1)
}

fn random(rng: &mut SplitMix64, len: usize, scale: f32) -> Vec<f32> {
    (0..len).map(|_| rng.next_f32() * scale).collect()
}

/// The operators as library cases (for the determinism table): one layer of a small encoder's
/// operators each, on random inputs.
pub fn cases(size: Size) -> Vec<KernelCase> {
    vec![
        linear_case(size),
        layer_norm_case(size),
        attention_case(size),
        pool_norm_case(size),
    ]
}

/// `tf_linear`: a GELU layer followed by a residual layer (two passes, one module).
fn linear_case(size: Size) -> KernelCase {
    let (rows, n, k) = match size {
        Size::Test => (40u32, 64u32, 128u32),
        Size::Bench => (256, 384, 1536),
    };
    let mut rng = SplitMix64(11);
    let a = random(&mut rng, (rows * k) as usize, 2.0);
    // weights: W1 (n × k), b1 (n), W2 (n × n), b2 (n)
    let mut weights = random(&mut rng, (n * k + n + n * n + n) as usize, 0.2);
    weights.iter_mut().for_each(|w| *w = ftz(*w));
    let p1 = Params {
        rows,
        n,
        k,
        w: 0,
        b: n * k,
        flags: GELU,
        ..Params::default()
    };
    let p2 = Params {
        rows,
        n,
        k: n,
        w: n * k + n,
        b: n * k + n + n * n,
        flags: RESIDUAL,
        ..Params::default()
    };
    let mut jb = JobBuilder::new();
    let iw = jb.input(f32_bytes(&weights));
    let ia = jb.input(f32_bytes(&a));
    let ih = jb.output(u64::from(rows * n * 4));
    let io = jb.output(u64::from(rows * n * 4));
    let u1 = jb.uniform(p1.bytes());
    let u2 = jb.uniform(p2.bytes());
    jb.gas_per_invocation(linear_gas(k.max(n)));
    let dispatch = [n / 16, groups(rows, 16), 1];
    jb.pass(
        LINEAR,
        "main",
        dispatch,
        &[(0, iw), (1, ia), (2, ih), (3, ia), (4, u1)],
    );
    jb.pass(
        LINEAR,
        "main",
        dispatch,
        &[(0, iw), (1, ih), (2, io), (3, ia), (4, u2)],
    );
    KernelCase {
        name: "tf_linear",
        wgsl: LINEAR,
        job: jb.build(),
        ops: 2 * u64::from(rows) * u64::from(n) * u64::from(k + n),
        op_unit: "FLOP",
        reference: Box::new(move || {
            let h = linear_reference(&weights, &a, &[], &p1);
            let o = linear_reference(&weights, &h, &a, &p2);
            vec![f32_bytes(&h), f32_bytes(&o)]
        }),
    }
}

/// `tf_layer_norm`: rows of varied scale normalised.
fn layer_norm_case(size: Size) -> KernelCase {
    let (rows, n) = match size {
        Size::Test => (50u32, 384u32),
        Size::Bench => (4096, 384),
    };
    let mut rng = SplitMix64(12);
    let x: Vec<f32> = (0..rows * n)
        .map(|i| rng.next_f32() * (1 + i / n) as f32)
        .collect();
    let weights = random(&mut rng, (2 * n) as usize, 1.0);
    let p = Params {
        rows,
        n,
        g: 0,
        b: n,
        eps: 1e-12,
        inv_n: 1.0 / n as f32,
        ..Params::default()
    };
    let mut jb = JobBuilder::new();
    let iw = jb.input(f32_bytes(&weights));
    let ix = jb.input(f32_bytes(&x));
    let io = jb.output(u64::from(rows * n * 4));
    let u = jb.uniform(p.bytes());
    jb.gas_per_invocation(layer_norm_gas(n));
    jb.pass(
        LAYER_NORM,
        "main",
        [groups(rows, 64), 1, 1],
        &[(0, iw), (1, ix), (2, io), (3, u)],
    );
    KernelCase {
        name: "tf_layer_norm",
        wgsl: LAYER_NORM,
        job: jb.build(),
        ops: 8 * u64::from(rows) * u64::from(n),
        op_unit: "FLOP",
        reference: Box::new(move || vec![f32_bytes(&layer_norm_reference(&weights, &x, &p))]),
    }
}

/// Sentences of these lengths, with random types.
fn sentences(lens: &[u32], rng: &mut SplitMix64) -> Tokens {
    Tokens {
        sentences: lens
            .iter()
            .map(|&len| {
                let ids = (0..len).map(|_| rng.next_u32() % 1000).collect();
                (ids, vec![0; len as usize])
            })
            .collect(),
    }
}

/// `tf_attention`: packed sentences of different lengths, 12 heads of 32; scores large
/// enough that some probabilities underflow.
fn attention_case(size: Size) -> KernelCase {
    let lens: Vec<u32> = match size {
        Size::Test => vec![1, 7, 20, 3],
        Size::Bench => vec![128; 32],
    };
    let (heads, hd) = (12u32, 32u32);
    let n = heads * hd;
    let mut rng = SplitMix64(13);
    let tokens = sentences(&lens, &mut rng);
    let rows = tokens.count();
    let qkv = random(&mut rng, (rows * 3 * n) as usize, 3.0);
    let table = tokens.table();
    let p = Params {
        rows,
        n,
        heads,
        head_dim: hd,
        scale: 1.0 / (hd as f32).sqrt(),
        stride: 3 * n,
        ..Params::default()
    };
    let mut jb = JobBuilder::new();
    let iq = jb.input(f32_bytes(&qkv));
    let it = jb.input(u32_bytes(&table));
    let io = jb.output(u64::from(rows * n * 4));
    let u = jb.uniform(p.bytes());
    jb.gas_per_invocation(attention_gas(tokens.longest(), hd));
    jb.pass(
        ATTENTION,
        "main",
        [groups(rows * heads, 64), 1, 1],
        &[(0, iq), (1, it), (2, io), (3, u)],
    );
    let work: u64 = lens.iter().map(|&l| u64::from(l) * u64::from(l)).sum();
    KernelCase {
        name: "tf_attention",
        wgsl: ATTENTION,
        job: jb.build(),
        ops: 4 * work * u64::from(n),
        op_unit: "FLOP",
        reference: Box::new(move || vec![f32_bytes(&attention_reference(&qkv, &table, &p))]),
    }
}

/// `tf_pool_norm`: mean pooling into a scratch buffer, then L2 normalisation.
fn pool_norm_case(size: Size) -> KernelCase {
    let lens: Vec<u32> = match size {
        Size::Test => vec![5, 1, 17],
        Size::Bench => vec![128; 64],
    };
    let n = 384u32;
    let mut rng = SplitMix64(14);
    let tokens = sentences(&lens, &mut rng);
    let x = random(&mut rng, (tokens.count() * n) as usize, 1.5);
    let spans = tokens.spans();
    let s = lens.len() as u32;
    let p = Params {
        rows: s,
        n,
        ..Params::default()
    };
    let mut jb = JobBuilder::new();
    let ix = jb.input(f32_bytes(&x));
    let is = jb.input(u32_bytes(&spans));
    let ip = jb.scratch(u64::from(s * n * 4));
    let io = jb.output(u64::from(s * n * 4));
    let u = jb.uniform(p.bytes());
    jb.gas_per_invocation(pool_gas(tokens.longest()).max(l2norm_gas(n)));
    jb.pass(
        POOL,
        "main",
        [groups(s * n, 64), 1, 1],
        &[(0, ix), (1, is), (2, ip), (3, u)],
    );
    jb.pass(
        L2NORM,
        "main",
        [groups(s, 64), 1, 1],
        &[(0, ip), (1, io), (2, u)],
    );
    KernelCase {
        name: "tf_pool_norm",
        wgsl: POOL,
        job: jb.build(),
        ops: 2 * u64::from(tokens.count()) * u64::from(n) + 3 * u64::from(s * n),
        op_unit: "FLOP",
        reference: Box::new(move || {
            let pooled = pool_reference(&x, &spans, &p);
            vec![f32_bytes(&l2norm_reference(&pooled, &p))]
        }),
    }
}
