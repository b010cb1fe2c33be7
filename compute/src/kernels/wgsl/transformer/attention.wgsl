// Self-attention within each sentence (sentences are packed, no padding), one invocation per
// token and head: scores q·k × scale, softmax (software exp, max subtracted), context = Σ p v.
// Sums run over the sentence's tokens in order. At most 256 tokens a sentence.
@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.rows * params.heads) {
        return;
    }
    let t = i / params.heads;
    let h = i % params.heads;
    let start = tokens[t * 4u + 1u];
    let len = tokens[t * 4u + 2u];
    let hd = params.head_dim;
    let q0 = t * params.stride + h * hd;
    var scores: array<f32, 256>;
    var m: f32 = -3.0e38;
    for (var j: u32 = 0u; j < len; j = j + 1u) {
        let k0 = (start + j) * params.stride + params.n + h * hd;
        var dot: f32 = 0.0;
        for (var d: u32 = 0u; d < hd; d = d + 1u) {
            dot = add(dot, mul(qkv[q0 + d], qkv[k0 + d]));
        }
        let s = mul(dot, params.scale);
        scores[j] = s;
        m = max(m, s);
    }
    var sum: f32 = 0.0;
    for (var j: u32 = 0u; j < len; j = j + 1u) {
        let e = exp_sw(sub(scores[j], m));
        scores[j] = e;
        sum = add(sum, e);
    }
    let inv = recip(sum);
    for (var j: u32 = 0u; j < len; j = j + 1u) {
        scores[j] = ftz(mul(scores[j], inv));
    }
    for (var d: u32 = 0u; d < hd; d = d + 1u) {
        var acc: f32 = 0.0;
        for (var j: u32 = 0u; j < len; j = j + 1u) {
            let v = qkv[(start + j) * params.stride + 2u * params.n + h * hd + d];
            acc = ftz(add(acc, ftz(mul(scores[j], v))));
        }
        out[t * params.n + h * hd + d] = acc;
    }
}
