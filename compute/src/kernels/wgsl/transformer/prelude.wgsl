// Shared by the transformer operators (prepended to each module): the parameters every
// operator takes, contraction fences, and software exp, reciprocal, reciprocal square root,
// erf and GELU built from fenced additions and multiplications only, so they give the same
// bits on every conforming GPU (WGSL's own exp, sqrt and division are not correctly rounded,
// and drivers may fuse a*b+c). The Rust twins are in `kernels::transformer::math`.

struct Params {
    rows: u32,      // tokens (sentences for pooling and normalisation)
    n: u32,         // width of a row of the output
    k: u32,         // inner dimension of a linear layer
    fence: u32,     // always 0 at run time, unknown to the compiler
    w: u32,         // offset (in floats) of the weight matrix or table in `weights`
    b: u32,         // offset of the bias (layer norm: of beta)
    flags: u32,     // linear: bit 0 GELU, bit 1 add the residual
    heads: u32,     // attention heads
    head_dim: u32,  // dimensions per head
    eps: f32,       // layer norm epsilon
    inv_n: f32,     // 1 / n, for means
    scale: f32,     // attention score scale
    pos: u32,       // offset of the position table
    typ: u32,       // offset of the token type table
    g: u32,         // offset of the layer norm gamma
    stride: u32,    // floats per row of the fused q|k|v matrix
}

const MIN_NORMAL: f32 = 1.17549435e-38;
const LOG2E: f32 = 1.44269504;
const LN2_HI: f32 = 0.693145752;
const LN2_LO: f32 = 1.42860677e-6;
const FRAC_1_SQRT_2: f32 = 0.707106781;
const ERF_P: f32 = 0.3275911;
const ERF_A1: f32 = 0.254829592;
const ERF_A2: f32 = -0.284496736;
const ERF_A3: f32 = 1.421413741;
const ERF_A4: f32 = -1.453152027;
const ERF_A5: f32 = 1.061405429;

// The fence: an OR with a value the compiler cannot know, so every rounded result is kept.
fn fence(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) | params.fence);
}
fn add(a: f32, b: f32) -> f32 { return fence(a + b); }
fn sub(a: f32, b: f32) -> f32 { return fence(a - b); }
fn mul(a: f32, b: f32) -> f32 { return fence(a * b); }
// Subnormals to zero, as a GPU that flushes them would: used where values can get that small.
fn ftz(x: f32) -> f32 { return select(x, 0.0, abs(x) < MIN_NORMAL); }

// e^x for x <= 0: 0 below -86 (so the result is never subnormal), else 2^n * p(r) with
// n = floor(x log2 e + 1/2), r = x - n ln 2 (two-part ln 2) and p the degree-7 Taylor polynomial.
fn exp_sw(x: f32) -> f32 {
    if (x < -86.0) {
        return 0.0;
    }
    let n = floor(add(mul(x, LOG2E), 0.5));
    let r = sub(sub(x, mul(n, LN2_HI)), mul(n, LN2_LO));
    var p = 0.000198412698;
    p = add(mul(p, r), 0.00138888889);
    p = add(mul(p, r), 0.00833333333);
    p = add(mul(p, r), 0.0416666667);
    p = add(mul(p, r), 0.166666667);
    p = add(mul(p, r), 0.5);
    p = add(mul(p, r), 1.0);
    p = add(mul(p, r), 1.0);
    return mul(p, bitcast<f32>(u32(i32(n) + 127) << 23u));
}

// 1 / x for normal x > 0: a bit-trick estimate and four Newton steps.
fn recip(x: f32) -> f32 {
    var y = bitcast<f32>(0x7ef311c3u - bitcast<u32>(x));
    y = mul(y, sub(2.0, mul(x, y)));
    y = mul(y, sub(2.0, mul(x, y)));
    y = mul(y, sub(2.0, mul(x, y)));
    y = mul(y, sub(2.0, mul(x, y)));
    return y;
}

// 1 / sqrt(x) for normal x > 0: a bit-trick estimate and three Newton steps.
fn rsqrt(x: f32) -> f32 {
    let h = mul(x, 0.5);
    var y = bitcast<f32>(0x5f375a86u - (bitcast<u32>(x) >> 1u));
    y = mul(y, sub(1.5, mul(h, mul(y, y))));
    y = mul(y, sub(1.5, mul(h, mul(y, y))));
    y = mul(y, sub(1.5, mul(h, mul(y, y))));
    return y;
}

// erf (Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7).
fn erf_sw(x: f32) -> f32 {
    let ax = abs(x);
    let t = recip(add(1.0, mul(ERF_P, ax)));
    var p = ERF_A5;
    p = add(mul(p, t), ERF_A4);
    p = add(mul(p, t), ERF_A3);
    p = add(mul(p, t), ERF_A2);
    p = add(mul(p, t), ERF_A1);
    p = mul(p, t);
    let y = sub(1.0, mul(p, exp_sw(-mul(ax, ax))));
    return select(y, -y, x < 0.0);
}

// GELU with erf, as BERT uses it: x/2 (1 + erf(x / sqrt 2)).
fn gelu(x: f32) -> f32 {
    return mul(mul(x, 0.5), add(1.0, erf_sw(mul(x, FRAC_1_SQRT_2))));
}
