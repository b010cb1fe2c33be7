// One int8 MLP layer: y = relu(requant(x * W^T + bias)), all integer arithmetic.
// x: batch x k int8 (four per u32 along k), w: n x k int8 (same packing), bias: n x i32.
// requant(v) = clamp((v * mul) >> shift, 0, 127) (arithmetic shift; relu is the lower clamp).
struct Layer { batch: u32, n: u32, k4: u32, shift: u32, mul: i32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> bias: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<i32>;
@group(0) @binding(4) var<uniform> layer: Layer;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.y;
    let col = gid.x;
    if (row >= layer.batch || col >= layer.n) {
        return;
    }
    var acc: i32 = bias[col];
    for (var i: u32 = 0u; i < layer.k4; i = i + 1u) {
        acc = acc + dot4I8Packed(x[row * layer.k4 + i], w[col * layer.k4 + i]);
    }
    y[row * layer.n + col] = clamp((acc * layer.mul) >> layer.shift, 0, 127);
}
