// The manifest, blob and result encodings in TypeScript against the Rust definitions: every
// library kernel exported by `concord kernel export` gets the identity Rust gives it, canonical
// bytes decode back to the same manifest, and the result hash of a fixed vector is the one a
// Rust test pins (`protocol::result::tests::the_result_hash_of_a_fixed_vector`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { binary } from '../testing/chain.mjs';

const c = createRequire(import.meta.url)('@concord/client');

test('every library kernel has the identity Rust gives it, and its blobs their names', () => {
  const lib = JSON.parse(execFileSync(binary('concord'), ['kernel', 'export'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  assert.ok(lib.kernels.length >= 11, `${lib.kernels.length} kernels`);
  const versions = new Set();
  for (const k of lib.kernels) {
    const m = c.manifestFromJson(k.manifest);
    versions.add(m.version);
    assert.equal(c.toHex(c.manifestId(m)), k.manifest_id, k.name);
    const bytes = c.canonicalBytes(m);
    assert.deepEqual(c.fromCanonicalBytes(bytes), m, k.name);
    assert.throws(() => c.fromCanonicalBytes(new Uint8Array([...bytes, 0])), /trailing/);
    for (const [hash, source] of Object.entries(k.modules)) {
      assert.equal(c.blobHash(new TextEncoder().encode(source)), hash, k.name);
    }
    for (const [hash, hex] of Object.entries(k.blobs)) assert.equal(c.blobHash(c.fromHex(hex)), hash, k.name);
  }
  assert.deepEqual([...versions].sort(), [2, 3], 'both manifest versions are covered');
});

test('a one-pass job binds its inputs, then its outputs, from binding 0', () => {
  const job = c.buildJob({
    wgsl: '@compute @workgroup_size(1) fn main() {}', dispatch: [2, 1, 1],
    inputs: [new Uint8Array([1, 2, 3, 4])], outputSizes: [16],
  });
  assert.equal(job.manifest.version, 2);
  assert.deepEqual(job.manifest.passes[0].bindings, [{ binding: 0, buffer: 0 }, { binding: 1, buffer: 1 }]);
  assert.deepEqual(c.outputIndices(job.manifest), [1]);
  assert.equal(job.blobs.size, 1);
  assert.equal(job.modules.get(job.manifest.passes[0].module.hash), '@compute @workgroup_size(1) fn main() {}');
});

test('the result hash matches Rust, and verification names what is wrong', () => {
  const outputs = [new Uint8Array([1, 2, 3]), new Uint8Array([]), new Uint8Array(5).fill(255)];
  const hash = c.resultHash(outputs);
  assert.equal(c.toHex(hash), '7b0b3c803353ddd4ce78573fb2b57d499653340a377bbc601674e05b9d821ab3');
  const job = c.buildJob({ wgsl: 'x', dispatch: [1, 1, 1], inputs: [], outputSizes: [3, 0, 5] });
  assert.deepEqual(c.verifyOutputs(job.manifest, outputs, hash), hash);
  assert.throws(() => c.verifyOutputs(job.manifest, outputs.slice(1)), /3 output buffers but 2/);
  assert.throws(() => c.verifyOutputs(job.manifest, [outputs[0], outputs[1], new Uint8Array(4)]), /output 2 is 4 bytes/);
  const other = c.resultHash([new Uint8Array([9, 9, 9]), outputs[1], outputs[2]]);
  assert.throws(() => c.verifyOutputs(job.manifest, outputs, other), /not to the agreed result/);
});
