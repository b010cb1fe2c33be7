// Spin: a metering test kernel. Invocation i runs `rounds[i]` rounds of an outer loop; each
// round calls `churn`, whose own loop runs `params.inner` times. Its gas per invocation is
// (rounds[i] + 1) + rounds[i] * (inner + 1): nested loops and a loop in a helper function.
struct Params { n: u32, inner: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read> rounds: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

fn churn(v: u32, inner: u32) -> u32 {
    var x = v;
    for (var j: u32 = 0u; j < inner; j = j + 1u) {
        x = (x ^ (x >> 15u)) * 0x2c1b3c6du + j;
    }
    return x;
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.n) {
        return;
    }
    var x = i;
    for (var r: u32 = 0u; r < rounds[i]; r = r + 1u) {
        x = churn(x ^ r, params.inner);
    }
    out[i] = x;
}
