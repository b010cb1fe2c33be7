// The TypeScript in docs/integrators.md ("Calling `create_job` from a dApp") is this test's
// code: the block is taken from the page, compiled (typescript's transpiler) and its
// `createJob` run against a local chain; the job it creates is then read back with the
// generated client and with the `concord` CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { startChain } from '../testing/chain.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { market, findJobs, buildJob, manifestId, fromCanonicalBytes, HttpStore, toHex } = require('@concord/client');
let chain;

before(async () => { chain = await startChain(); });
after(() => chain?.stop());

/** The first ```ts block after `heading` in docs/integrators.md. */
function snippet(heading) {
  const page = readFileSync(join(here, '..', '..', '..', 'docs', 'integrators.md'), 'utf8');
  const section = page.slice(page.indexOf(heading));
  assert.ok(section.length > 0 && page.includes(heading), `no section "${heading}"`);
  const match = section.match(/```ts\n([\s\S]*?)```/);
  assert.ok(match, `no TypeScript block after "${heading}"`);
  return match[1];
}

test('the create_job example of docs/integrators.md runs', async () => {
  const source = snippet('## Calling `create_job` from a dApp');
  const { outputText, diagnostics } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    reportDiagnostics: true,
  });
  assert.deepEqual(diagnostics, []);
  // Compiled next to the package so `@concord/client` resolves to this package.
  const file = join(here, '..', 'dist', 'docs-create-job.cjs');
  writeFileSync(file, outputText);
  const { createJob } = require(file);

  const buyer = await chain.funded();
  const wgsl = '@group(0) @binding(0) var<storage, read> a: array<u32>;\n'
    + '@group(0) @binding(1) var<storage, read_write> b: array<u32>;\n'
    + '@compute @workgroup_size(1) fn main() { b[0] = a[0] + 1u; }\n';
  const input = new Uint8Array([1, 0, 0, 0]);
  const job = await createJob(chain.rpc, buyer, chain.info.store_url, wgsl, input, (ixs) => chain.send(buyer, ixs));
  const manifestHash = manifestId(buildJob({ wgsl, dispatch: [1, 1, 1], inputs: [input], outputSizes: [4] }).manifest);
  // The manifest the job names is in the store, and decodes.
  const stored = fromCanonicalBytes(await new HttpStore(chain.info.store_url).get(toHex(manifestHash), 1 << 20));
  assert.equal(stored.passes[0].entryPoint, 'main');

  const account = await market.fetchJob(chain.rpc, job, { commitment: 'confirmed' });
  assert.equal(account.data.buyer, buyer.address);
  assert.equal(account.data.replicas, 3);
  assert.equal(account.data.pricePerReplica, 2_000_000n);
  assert.deepEqual([...account.data.manifestHash], [...manifestHash]);
  assert.equal(account.data.manifestUri, chain.info.store_url);
  const shown = chain.cli('job', 'status', job);
  assert.equal(shown.state, 'open');
  assert.equal(shown.buyer, buyer.address);

  // Discovery: the memcmp filters find it as the CLI's `job list` does.
  const open = await findJobs(chain.rpc, { state: market.JobState.Open });
  const mine = await findJobs(chain.rpc, { state: market.JobState.Open, buyer: buyer.address });
  assert.deepEqual(mine.map((j) => j.address), [job]);
  assert.equal(mine[0].data.jobId, account.data.jobId);
  assert.deepEqual(await findJobs(chain.rpc, { state: market.JobState.Running, buyer: buyer.address }), []);
  const listed = chain.cli('job', 'list', '--state', 'open');
  assert.deepEqual(open.map((j) => j.address).sort(), listed.map((j) => j.job).sort());
});
