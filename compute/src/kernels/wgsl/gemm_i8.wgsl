// int8 GEMM with the packed dot product: c (i32) = a (int8) * b (int8).
// a: m x k row-major, bt: n x k row-major (b transposed); four int8 per u32 along k.
// dot4I8Packed is exact, and i32 accumulation of bounded products cannot overflow here.
struct Dims { m: u32, n: u32, k4: u32, pad: u32 }

@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> bt: array<u32>;
@group(0) @binding(2) var<storage, read_write> c: array<i32>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.y;
    let col = gid.x;
    if (row >= dims.m || col >= dims.n) {
        return;
    }
    var acc: i32 = 0;
    for (var i: u32 = 0u; i < dims.k4; i = i + 1u) {
        acc = acc + dot4I8Packed(a[row * dims.k4 + i], bt[col * dims.k4 + i]);
    }
    c[row * dims.n + col] = acc;
}
