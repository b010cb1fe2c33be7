// Layer norm of each row (one invocation a row, sums in order):
// (x - mean) / sqrt(var + eps) * gamma + beta.
@group(0) @binding(0) var<storage, read> weights: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let t = gid.x;
    if (t >= params.rows) {
        return;
    }
    let base = t * params.n;
    var sum: f32 = 0.0;
    for (var d: u32 = 0u; d < params.n; d = d + 1u) {
        sum = add(sum, x[base + d]);
    }
    let mean = mul(sum, params.inv_n);
    var sq: f32 = 0.0;
    for (var d: u32 = 0u; d < params.n; d = d + 1u) {
        let c = sub(x[base + d], mean);
        sq = add(sq, mul(c, c));
    }
    let r = rsqrt(add(mul(sq, params.inv_n), params.eps));
    for (var d: u32 = 0u; d < params.n; d = d + 1u) {
        let c = sub(x[base + d], mean);
        out[base + d] = add(mul(mul(c, r), weights[params.g + d]), weights[params.b + d]);
    }
}
