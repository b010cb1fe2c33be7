// Fixed-shape f32 sum. The shape is part of the job: 256 invocations per workgroup, one
// element each, reduced by a binary tree in workgroup memory (stride 128, 64, ..., 1), so
// the order of every addition is fixed. Pass `partial` writes one sum per workgroup; pass
// `finish` reduces those (at most 256, zero-padded) with the same tree.
struct Shape { n: u32, groups: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read> data: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> total: array<f32>;
@group(0) @binding(3) var<uniform> shape: Shape;

var<workgroup> tree: array<f32, 256>;

fn reduce_tree(lid: u32) {
    for (var stride: u32 = 128u; stride > 0u; stride = stride >> 1u) {
        workgroupBarrier();
        if (lid < stride) {
            tree[lid] = tree[lid] + tree[lid + stride];
        }
    }
    workgroupBarrier();
}

@compute @workgroup_size(256, 1, 1)
fn partial(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let i = wid.x * 256u + lid.x;
    var v: f32 = 0.0;
    if (i < shape.n) {
        v = data[i];
    }
    tree[lid.x] = v;
    reduce_tree(lid.x);
    if (lid.x == 0u) {
        partials[wid.x] = tree[0];
    }
}

@compute @workgroup_size(256, 1, 1)
fn finish(@builtin(local_invocation_id) lid: vec3<u32>) {
    var v: f32 = 0.0;
    if (lid.x < shape.groups) {
        v = partials[lid.x];
    }
    tree[lid.x] = v;
    reduce_tree(lid.x);
    if (lid.x == 0u) {
        total[0] = tree[0];
    }
}
