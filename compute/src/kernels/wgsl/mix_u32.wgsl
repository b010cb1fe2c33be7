// Integer mixing: each word goes through `rounds` rounds of the lowbias32 hash with a
// per-round constant. Pure u32 arithmetic, exact everywhere.
struct Params { n: u32, rounds: u32, seed: u32, pad: u32 }

@group(0) @binding(0) var<storage, read> words: array<u32>;
@group(0) @binding(1) var<storage, read_write> mixed: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

fn lowbias32(v: u32) -> u32 {
    var x = v;
    x = x ^ (x >> 16u);
    x = x * 0x7feb352du;
    x = x ^ (x >> 15u);
    x = x * 0x846ca68bu;
    x = x ^ (x >> 16u);
    return x;
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.n) {
        return;
    }
    var x = words[i] ^ params.seed;
    for (var r: u32 = 0u; r < params.rounds; r = r + 1u) {
        x = lowbias32(x + r * 0x9e3779b9u);
    }
    mixed[i] = x;
}
