// The content store from TypeScript against the local chain's HTTP store: a job published by
// `publishJob` is fetched back and decoded, blobs are checked against their names, and a
// result published as a provider does (bundle + results/<hash> pointer) downloads verified;
// a bundle that is not the agreed result is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startChain } from '../testing/chain.mjs';

const c = createRequire(import.meta.url)('@concord/client');
let chain;
before(async () => { chain = await startChain(); });
after(() => chain?.stop());

test('a job goes up and its verified result comes down through the local store', async () => {
  const store = new c.HttpStore(chain.info.store_url);
  const job = c.buildJob({
    wgsl: '@compute @workgroup_size(1) fn main() {}', dispatch: [1, 1, 1],
    inputs: [new Uint8Array([7, 7, 7, 7])], outputSizes: [8],
  });
  const seen = [];
  const id = await c.publishJob(store, job, (done, total) => seen.push(`${done}/${total}`));
  assert.deepEqual(seen, ['1/3', '2/3', '3/3']);
  assert.deepEqual(c.fromCanonicalBytes(await store.get(c.toHex(id), 1 << 20)), job.manifest);
  // The Rust CLI reads the same blob back under the same name.
  const hash = job.manifest.passes[0].module.hash;
  assert.equal(new TextDecoder().decode(await store.get(hash, 1024)), '@compute @workgroup_size(1) fn main() {}');
  await assert.rejects(store.get('00'.repeat(32), 1024), /not in the store/);
  await assert.rejects(store.putNamed('11'.repeat(32), new Uint8Array([1])), /refused.*400/);

  const outputs = [new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])];
  const agreed = c.resultHash(outputs);
  const bundle = c.encodeOutputsBundle(outputs);
  const bundleHash = await store.put(bundle);
  const pointer = new Uint8Array(40);
  pointer.set(c.fromHex(bundleHash));
  new DataView(pointer.buffer).setBigUint64(32, BigInt(bundle.length), true);
  await store.putNamed(`results/${c.toHex(agreed)}`, pointer);
  assert.deepEqual(await c.downloadResult(store, agreed, job.manifest), outputs);

  const other = c.resultHash([new Uint8Array(8)]);
  await store.putNamed(`results/${c.toHex(other)}`, pointer);
  await assert.rejects(c.downloadResult(store, other, job.manifest), /not to the agreed result/);
});
