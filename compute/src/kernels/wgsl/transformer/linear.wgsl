// A linear layer, out = act(a · Wᵀ + bias) (+ residual): a is rows × k, W is n × k (as BERT
// stores it). 16 × 16 outputs a workgroup, k in tiles of 64 through workgroup memory (each
// invocation loads four values of each tile); each output sums its k products in order, every
// product and sum fenced (no FMA, no reordering). n is a multiple of 16, k of 64.
@group(0) @binding(0) var<storage, read> weights: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> tile_a: array<f32, 1024>;
var<workgroup> tile_w: array<f32, 1024>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let row = wid.y * 16u + lid.y;
    let col = wid.x * 16u + lid.x;
    let w_row = wid.x * 16u + lid.y;
    var acc: f32 = 0.0;
    for (var kt: u32 = 0u; kt < params.k / 64u; kt = kt + 1u) {
        let kk = kt * 64u + lid.x * 4u;
        let at = lid.y * 64u + lid.x * 4u;
        var a4 = vec4<f32>(0.0);
        if (row < params.rows) {
            let base = row * params.k + kk;
            a4 = vec4<f32>(a[base], a[base + 1u], a[base + 2u], a[base + 3u]);
        }
        tile_a[at] = a4.x;
        tile_a[at + 1u] = a4.y;
        tile_a[at + 2u] = a4.z;
        tile_a[at + 3u] = a4.w;
        let wb = params.w + w_row * params.k + kk;
        tile_w[at] = weights[wb];
        tile_w[at + 1u] = weights[wb + 1u];
        tile_w[at + 2u] = weights[wb + 2u];
        tile_w[at + 3u] = weights[wb + 3u];
        workgroupBarrier();
        for (var i: u32 = 0u; i < 64u; i = i + 1u) {
            acc = add(acc, mul(tile_a[lid.y * 64u + i], tile_w[lid.x * 64u + i]));
        }
        workgroupBarrier();
    }
    if (row < params.rows) {
        var y = add(acc, weights[params.b + col]);
        if ((params.flags & 1u) != 0u) {
            y = gelu(y);
        }
        if ((params.flags & 2u) != 0u) {
            y = add(y, residual[row * params.n + col]);
        }
        out[row * params.n + col] = y;
    }
}
