// f32 GEMM with a fixed accumulation order and contraction fences.
// Each product is passed through `fence`, an integer OR with a value the compiler cannot
// know (dims.fence, always 0 at run time), so no driver can fuse a*b+c into an FMA:
// every product is rounded to f32 before it is added. The sum runs over k in order.
struct Dims { m: u32, n: u32, k: u32, fence: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

fn fence(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) | dims.fence);
}

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.y;
    let col = gid.x;
    if (row >= dims.m || col >= dims.n) {
        return;
    }
    var acc: f32 = 0.0;
    for (var i: u32 = 0u; i < dims.k; i = i + 1u) {
        acc = fence(acc + fence(a[row * dims.k + i] * b[i * dims.n + col]));
    }
    c[row * dims.n + col] = acc;
}
