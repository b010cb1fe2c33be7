// L2 normalisation of each row (one invocation a row): x / max(|x|, 1e-12).
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    if (r >= params.rows) {
        return;
    }
    let base = r * params.n;
    var sq: f32 = 0.0;
    for (var d: u32 = 0u; d < params.n; d = d + 1u) {
        sq = add(sq, mul(x[base + d], x[base + d]));
    }
    let inv = rsqrt(max(sq, 1.0e-24));
    for (var d: u32 = 0u; d < params.n; d = d + 1u) {
        out[base + d] = mul(x[base + d], inv);
    }
}
