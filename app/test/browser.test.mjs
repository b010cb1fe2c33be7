// The web app in a real browser (Debian's Chromium, headless, driven by playwright-core)
// against a real local chain (concord-localnet) with three real provider agents
// (concord-agent processes). A test wallet registered through the Wallet Standard connects,
// takes test tokens from the local faucet, escrows a library kernel; the agents claim, run,
// commit, reveal and settle it; the job page shows the outcome live, and the result is
// downloaded and verified in the browser, equal to the kernel's CPU reference. A refused
// transaction shows the program's named error. Screenshots of every page and the first paint
// go to $CONCORD_APP_OUT (default: a temporary directory), with report.json.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';
import { binary, startChain } from '../../clients/js/testing/chain.mjs';
import {
  generateKeyPair, getAddressFromPublicKey, getTransactionDecoder, getTransactionEncoder, partiallySignTransaction,
} from '@solana/kit';

const here = dirname(fileURLToPath(import.meta.url));
const app = join(here, '..');
const out = process.env.CONCORD_APP_OUT ?? mkdtempSync(join(tmpdir(), 'concord-app-'));
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'concord-app-work-'));
const children = [];
let chain, browser, page, wallet, appUrl;
const report = { screenshots: [] };

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, f, ms = 120_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}
function startProcess(cmd, args, log) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
  children.push(child);
  return { child, log: () => `${log}: ${err}` };
}
async function shot(name) {
  const path = join(out, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  report.screenshots.push(path);
}

/** A provider agent as a process: registers, stakes 10 tokens, joins the draws, serves jobs. */
async function startAgent(name, buyer) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const key = join(dir, 'key.json');
  const { address: authority } = JSON.parse(execFileSync(binary('concord'), ['--output', 'json', 'keygen', '-o', key], { encoding: 'utf8' }));
  const r = await fetch(`${chain.info.token_faucet_url}/airdrop`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ address: authority, sol: 5, tokens: 20 }),
  });
  assert.equal(r.status, 200, await r.text());
  const metrics = await freePort();
  writeFileSync(join(dir, 'agent.toml'), `rpc_url = "${chain.info.rpc_url}"
keypair = "${key}"
journal = "${join(dir, 'journal.redb')}"
metrics_addr = "127.0.0.1:${metrics}"
poll_interval_ms = 500
[provider]
memory_mib = 4096
stake = "10"
[gpu]
allow_cpu_adapter = true
[jobs]
price_floor = "1"
buyers = ["${buyer}"]
settle_delay_secs = 1
[store]
allow_private_addresses = true
`);
  const agent = startProcess(binary('concord-agent'), ['run', '--config', join(dir, 'agent.toml')], name);
  await until(`${name} healthy (${agent.log()})`, async () => (await fetch(`http://127.0.0.1:${metrics}/health`)).ok, 180_000);
  return authority;
}

before(async () => {
  chain = await startChain();
  execFileSync(binary('concord'), ['-u', chain.info.rpc_url, '-k', join(chain.info.ledger, 'admin-keypair.json'), 'market', 'update', '--audit-bps', '0']);
  // The buyer's key stays in node; the page's wallet asks node to sign.
  const keys = await generateKeyPair();
  const address = await getAddressFromPublicKey(keys.publicKey);
  const publicKey = Array.from(new Uint8Array(await crypto.subtle.exportKey('raw', keys.publicKey)));
  wallet = { keys, address, publicKey };
  report.agents = [];
  for (const name of ['agent-1', 'agent-2', 'agent-3']) report.agents.push(await startAgent(name, address));

  const port = await freePort();
  startProcess(join(app, 'node_modules', '.bin', 'vite'), ['preview', '--port', String(port), '--strictPort'], 'vite preview');
  appUrl = `http://127.0.0.1:${port}/?rpc=${encodeURIComponent(chain.info.rpc_url)}`;
  await until('the app server', async () => (await fetch(`http://127.0.0.1:${port}/`)).ok, 30_000);

  browser = await chromium.launch({ executablePath: process.env.CONCORD_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('requestfailed', (r) => r.failure()?.errorText !== 'net::ERR_ABORTED' && console.error('request failed:', r.url(), r.failure()?.errorText));
  await page.exposeFunction('concordTestWalletSign', async (bytes) => {
    const tx = getTransactionDecoder().decode(new Uint8Array(bytes));
    const signed = await partiallySignTransaction([wallet.keys], tx);
    return Array.from(new Uint8Array(getTransactionEncoder().encode(signed)));
  });
  const source = readFileSync(join(here, 'wallet.js'), 'utf8');
  await page.addInitScript({ content: `${source}(${JSON.stringify({ address, publicKey })})` });
});

after(async () => {
  writeFileSync(join(out, 'report.json'), JSON.stringify(report, null, 2));
  console.log(`screenshots and report.json in ${out}`);
  await browser?.close();
  for (const c of children) c.kill('SIGTERM');
  chain?.stop();
});

test('a wallet buyer escrows a library kernel and its own WGSL, agents settle them, the page verifies the results', { timeout: 900_000 }, async () => {
  const started = Date.now();
  await page.goto(appUrl);
  await page.getByTestId('market-facts').waitFor();
  report.firstPaint = await page.evaluate(() => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const nav = performance.getEntriesByType('navigation')[0];
    return { firstContentfulPaintMs: fcp?.startTime, domContentLoadedMs: nav?.domContentLoadedEventEnd, marketShownMs: performance.now() };
  });
  report.firstPaint.marketShownWallMs = Date.now() - started;
  assert.ok(report.firstPaint.firstContentfulPaintMs > 0, 'the browser recorded a first contentful paint');
  await until('three providers on the overview', async () =>
    (await page.getByTestId('providers').locator('tbody tr').count()) === 3, 30_000);
  await shot('overview');

  await page.getByTestId('connect-Concord Test Wallet').click();
  await page.getByTestId('wallet-address').waitFor();
  assert.match(await page.getByTestId('wallet-address').textContent(), /Concord Test Wallet/);
  await page.getByTestId('faucet').click();
  await page.getByText('Sent 2 SOL and 100 tokens').waitFor();

  await page.getByTestId('nav-submit').click();
  await page.locator('select[name=kernel] option[value=gemm_u32]').waitFor({ state: 'attached' });
  await until('the balance in the summary', async () => /Your balance: 100 tokens/.test(await page.getByTestId('summary').textContent()), 30_000);
  assert.match(await page.getByTestId('summary').textContent(), /Escrow: 6 tokens \(3 replicas\)/);

  // A quorum of all replicas is refused by the program, by name.
  await page.fill('input[name=quorum]', '3');
  await page.getByTestId('escrow').click();
  const refused = await page.getByTestId('submit-error').textContent({ timeout: 60_000 });
  assert.match(refused, /InvalidQuorum/);
  assert.match(refused, /more than half of the replicas/);

  // A job priced under every agent's floor stays open: the buyer cancels it from its page.
  await page.fill('input[name=quorum]', '');
  await page.fill('input[name=price]', '0.5');
  await page.getByTestId('escrow').click();
  await page.waitForURL(/#\/job\//, { timeout: 60_000 });
  const unserved = page.url().split('#/job/')[1];
  await page.getByTestId('cancel').click();
  await until('the cancelled job', async () => (await page.getByTestId('job-state').textContent()) === 'cancelled', 60_000);
  assert.equal(chain.cli('job', 'status', unserved).state, 'cancelled');

  await page.getByTestId('nav-submit').click();
  await page.locator('select[name=kernel] option[value=gemm_u32]').waitFor({ state: 'attached' });
  await page.selectOption('select[name=kernel]', 'gemm_u32');
  await shot('submit');
  await page.getByTestId('escrow').click();
  await page.waitForURL(/#\/job\//, { timeout: 60_000 });
  const job = page.url().split('#/job/')[1];
  report.job = job;
  await page.getByTestId('job-state').waitFor();
  report.stagesSeen = [await page.getByTestId('job-state').textContent()];
  for (;;) {
    const state = await page.getByTestId('job-state').textContent({ timeout: 5_000 }).catch(() => null);
    if (state && report.stagesSeen.at(-1) !== state) report.stagesSeen.push(state);
    if (state === 'settled') break;
    assert.ok(Date.now() - started < 480_000, `the job did not settle; agents: ${children.map((c) => c.pid)}`);
    await sleep(300);
  }
  await page.getByTestId('verify').click();
  await page.getByTestId('verified').waitFor({ timeout: 60_000 });
  const agreed = (await page.getByTestId('agreed-hash').textContent()).trim();
  const library = JSON.parse(readFileSync(join(app, 'public', 'library.json'), 'utf8'));
  const gemm = library.kernels.find((k) => k.name === 'gemm_u32');
  assert.equal(agreed, gemm.reference_result, 'the agreed result is the CPU reference\'s');
  const status = chain.cli('job', 'status', job);
  assert.equal(status.state, 'settled');
  assert.equal(status.agreed_hash, agreed);
  const outcomes = await page.getByTestId('slots').locator('tbody tr td:last-child').allTextContents();
  assert.deepEqual(outcomes, ['paid', 'paid', 'paid']);
  // The payouts come from the job's transactions, which the node stores a moment after they
  // confirm, not necessarily in order: the page fills them in as they arrive.
  const payouts = await until('the escrow and three payouts on the job page', async () => {
    const text = await page.getByTestId('payouts').textContent();
    return (text.match(/paid/g) ?? []).length === 3 && /escrowed/.test(text) && text;
  }, 90_000).catch(async (e) => { await shot('failure'); throw e; });
  assert.match(payouts, /refunded to the buyer/);
  await shot('job');
  report.jobSettledWallMs = Date.now() - started;

  const provider = await page.getByTestId('slots').locator('tbody tr td:nth-child(3) a').first().getAttribute('href');
  await page.goto(`${appUrl}${provider}`);
  await page.getByTestId('provider-facts').waitFor();
  await until('the provider page shows the paid job', async () => /1 paid/.test(await page.getByTestId('provider-facts').textContent()), 30_000);
  // Its history lists the claim and the settlement once the node has indexed them.
  await until('the claim and the payout in the provider\'s history', async () => {
    const text = await page.getByTestId('provider-history').textContent();
    return text.includes('CollateralLocked') && text.includes('CollateralUnlocked');
  }, 90_000);
  await shot('provider');

  // The buyer's own WGSL and an input file: b[i] = 2 a[i] + 1 over 64 words.
  await page.getByTestId('nav-submit').click();
  await page.locator('input[name=source][value=wgsl]').check();
  await page.fill('textarea[name=wgsl]', [
    '@group(0) @binding(0) var<storage, read> a: array<u32>;',
    '@group(0) @binding(1) var<storage, read_write> b: array<u32>;',
    '@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {',
    '  b[id.x] = a[id.x] * 2u + 1u;',
    '}',
  ].join('\n'));
  const words = Uint32Array.from({ length: 64 }, (_, i) => i * 1000);
  await page.setInputFiles('input[name=inputs]', { name: 'a.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(words.buffer) });
  await page.fill('input[name=outputs]', '256');
  await page.getByTestId('escrow').click();
  await page.waitForURL(/#\/job\//, { timeout: 60_000 });
  const custom = page.url().split('#/job/')[1];
  assert.notEqual(custom, job);
  await until('the WGSL job settled', async () => (await page.getByTestId('job-state').textContent()) === 'settled', 240_000);
  await page.getByTestId('verify').click();
  await page.getByTestId('verified').waitFor({ timeout: 60_000 });
  const expected = Uint32Array.from(words, (w) => w * 2 + 1);
  const { resultHash, toHex } = await import('../../clients/js/dist/index.js').then((m) => m.default ?? m);
  assert.equal((await page.getByTestId('agreed-hash').textContent()).trim(), toHex(resultHash([new Uint8Array(expected.buffer)])));
  assert.match(await page.getByTestId('result').textContent(), /1 2001 4001 6001 8001 10001 12001 14001/);
  report.customJob = custom;

  // A transaction's page: its events and the programs' own log lines.
  const txLink = await page.getByTestId('transactions').locator('tbody tr td:first-child a').first().getAttribute('href');
  await page.goto(`${appUrl}${txLink}`);
  await until('the transaction\'s logs', async () => /Program log: Instruction: /.test(await page.locator('pre.logs').textContent()), 30_000);
  await shot('tx');
  // The buyer's jobs.
  await page.goto(`${appUrl}#/buyer/${wallet.address}`);
  await until('the buyer\'s three jobs', async () => (await page.locator('main table tbody tr').count()) === 3, 30_000);
  await shot('buyer');

  await page.goto(appUrl);
  await page.getByTestId('wallet-address').waitFor({ timeout: 10_000 }); // reconnected after the reload
  await until('the settled jobs on the overview', async () => {
    const settled = await page.getByTestId('jobs-settled').textContent();
    return settled.includes(job.slice(0, 6)) && settled.includes(report.customJob.slice(0, 6));
  }, 30_000);
  await shot('overview-after');
});
