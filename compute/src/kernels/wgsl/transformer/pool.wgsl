// Mean pooling: each sentence's token rows averaged, one invocation per sentence and dimension.
// `sentences` holds two words a sentence: its first token and its length.
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> sentences: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.rows * params.n) {
        return;
    }
    let s = i / params.n;
    let d = i % params.n;
    let start = sentences[s * 2u];
    let len = sentences[s * 2u + 1u];
    var acc: f32 = 0.0;
    for (var j: u32 = 0u; j < len; j = j + 1u) {
        acc = add(acc, x[(start + j) * params.n + d]);
    }
    out[i] = mul(acc, recip(f32(len)));
}
