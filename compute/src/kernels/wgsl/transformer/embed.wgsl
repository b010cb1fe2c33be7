// Token embeddings: word + token type + position, one invocation per element of a token's row.
// `tokens` holds four words a token: vocabulary id, first token of its sentence, sentence
// length, token type.
@group(0) @binding(0) var<storage, read> weights: array<f32>;
@group(0) @binding(1) var<storage, read> tokens: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= params.rows * params.n) {
        return;
    }
    let t = i / params.n;
    let d = i % params.n;
    let id = tokens[t * 4u];
    let pos = t - tokens[t * 4u + 1u];
    let typ = tokens[t * 4u + 3u];
    let word = weights[params.w + id * params.n + d];
    let type_row = weights[params.typ + typ * params.n + d];
    let pos_row = weights[params.pos + pos * params.n + d];
    out[i] = add(add(word, type_row), pos_row);
}
