// A linear layer, out = act(a · Wᵀ + bias) (+ residual): a is rows × k, W is n × k (as BERT
// stores it). 16 × 16 outputs a workgroup, k in tiles of 16 through workgroup memory; each
// output sums its k products in order, every product and sum fenced (no FMA, no reordering).
// n and k are multiples of 16.
@group(0) @binding(0) var<storage, read> weights: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> residual: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> tile_a: array<f32, 256>;
var<workgroup> tile_w: array<f32, 256>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let row = wid.y * 16u + lid.y;
    let col = wid.x * 16u + lid.x;
    let w_row = wid.x * 16u + lid.y;
    var acc: f32 = 0.0;
    for (var kt: u32 = 0u; kt < params.k / 16u; kt = kt + 1u) {
        let kk = kt * 16u + lid.x;
        var av: f32 = 0.0;
        if (row < params.rows) {
            av = a[row * params.k + kk];
        }
        tile_a[lid.y * 16u + lid.x] = av;
        tile_w[lid.y * 16u + lid.x] = weights[params.w + w_row * params.k + kk];
        workgroupBarrier();
        for (var i: u32 = 0u; i < 16u; i = i + 1u) {
            acc = add(acc, mul(tile_a[lid.y * 16u + i], tile_w[lid.x * 16u + i]));
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
