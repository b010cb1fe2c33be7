// The generated client against a real local chain (concord-localnet, started here): accounts
// decode to the values the Rust side reads (the `concord` CLI), instructions built with the
// generated client succeed, and a program error reaches the client as its named error.
// Needs the debug binaries: CONCORD_BIN (default $CARGO_TARGET_DIR/debug, then
// ~/.cache/concord/target/debug).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import {
  address,
  appendTransactionMessageInstructions,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  createTransactionMessage,
  generateKeyPairSigner,
  getAddressEncoder,
  getProgramDerivedAddress,
  pipe,
  sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from '@solana/kit';

const { market, staking } = createRequire(import.meta.url)('../dist/index.js');

const bin = process.env.CONCORD_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'concord', 'target'), 'debug');
let chain, ledger, info, rpc, send;

before(async () => {
  for (const b of ['concord-localnet', 'concord']) {
    assert.ok(existsSync(join(bin, b)), `${join(bin, b)} is missing: cargo build -p concord-localnet -p concord-cli`);
  }
  ledger = mkdtempSync(join(tmpdir(), 'concord-js-'));
  const port = 41000 + Math.floor(Math.random() * 2000) * 4;
  chain = spawn(join(bin, 'concord-localnet'),
    ['--quiet', '--ledger', ledger, '--rpc-port', `${port}`, '--token-faucet-port', `${port + 2}`],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  chain.stderr.on('data', (d) => { stderr += d; });
  for (let i = 0; i < 240 && !existsSync(join(ledger, 'localnet.json')); i++) {
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(existsSync(join(ledger, 'localnet.json')), `concord-localnet did not start: ${stderr.slice(-2000)}`);
  info = JSON.parse(readFileSync(join(ledger, 'localnet.json'), 'utf8'));
  rpc = createSolanaRpc(info.rpc_url);
  send = sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions: createSolanaRpcSubscriptions(info.pubsub_url) });
});

after(() => {
  chain?.kill('SIGTERM');
  if (ledger) rmSync(ledger, { recursive: true, force: true });
});

/** `concord <args> --output json` against the chain. */
function cli(...args) {
  return JSON.parse(execFileSync(join(bin, 'concord'), ['-u', info.rpc_url, '--output', 'json', ...args], { encoding: 'utf8' }));
}

async function funded() {
  const signer = await generateKeyPairSigner();
  const res = await fetch(`${info.token_faucet_url}/airdrop`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ address: signer.address, sol: 5, tokens: 20 }),
  });
  assert.equal(res.status, 200, await res.text());
  return signer;
}

async function sendIxs(payer, instructions) {
  const { value: blockhash } = await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(payer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  const signed = await signTransactionMessageWithSigners(message);
  await send(signed, { commitment: 'confirmed' });
  return message;
}

async function associatedTokenAccount(owner, mint, tokenProgram) {
  const enc = getAddressEncoder();
  const [ata] = await getProgramDerivedAddress({
    programAddress: address('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL'),
    seeds: [enc.encode(owner), enc.encode(tokenProgram), enc.encode(mint)],
  });
  return ata;
}

test('the market config decodes to what the Rust CLI reads', async () => {
  const [configAddress] = await market.findConfigPda();
  const config = await market.fetchMarketConfig(rpc, configAddress, { commitment: 'confirmed' });
  const shown = cli('market', 'show');
  assert.equal(config.data.admin, shown.admin);
  assert.equal(config.data.paymentMint, shown.payment_mint);
  assert.equal(config.data.treasury, shown.treasury);
  assert.equal(config.data.drawSet, shown.draw_set);
  assert.equal(config.data.paused, shown.paused);
  assert.equal(config.data.params.feeBps, shown.fee_bps);
  assert.equal(config.data.params.auditBps, shown.audit_bps);
  assert.equal(Number(config.data.params.takeWindow), shown.take_window_seconds);
});

test('a provider registers and stakes with the generated client; a zero deposit fails by name', async () => {
  const authority = await funded();
  const [stakingConfigAddress] = await staking.findConfigPda();
  const stakingConfig = await staking.fetchStakingConfig(rpc, stakingConfigAddress, { commitment: 'confirmed' });
  const stakeMint = stakingConfig.data.stakeMint;
  const [providerAddress] = await staking.findProviderPda({ authority: authority.address });
  const [stakeVault] = await staking.findStakeVaultPda({ provider: providerAddress });
  const register = await staking.getRegisterProviderInstructionAsync({
    authority,
    stakeMint,
    tokenProgram: address(info.token_program),
    hardware: { gpuName: 'llvmpipe', memoryMib: 4096, features: 0n, backend: 1 },
    metadataUri: 'https://example.org/js',
  });
  const source = await associatedTokenAccount(authority.address, stakeMint, address(info.token_program));
  const deposit = await staking.getDepositStakeInstructionAsync({
    authority, stakeVault, source, stakeMint, tokenProgram: address(info.token_program), amount: 3_000_000n,
  });
  await sendIxs(authority, [register, deposit]);

  const provider = await staking.fetchProvider(rpc, providerAddress, { commitment: 'confirmed' });
  const shown = cli('provider', 'show', authority.address);
  assert.equal(provider.data.authority, authority.address);
  assert.equal(provider.data.staked, 3_000_000n);
  assert.equal(shown.staked, '3');
  assert.equal(shown.authority, provider.data.authority);
  assert.equal(shown.gpu, provider.data.hardware.gpuName);
  assert.equal(shown.memory_mib, provider.data.hardware.memoryMib);
  assert.equal(shown.backend, provider.data.hardware.backend);
  assert.equal(shown.accepting_jobs, provider.data.acceptingJobs);
  assert.equal(shown.metadata_uri, provider.data.metadataUri);
  assert.equal(provider.data.hardware.gpuName, 'llvmpipe');

  const zero = await staking.getDepositStakeInstructionAsync({
    authority, stakeVault, source, stakeMint, tokenProgram: address(info.token_program), amount: 0n,
  });
  let failure;
  let message;
  try {
    message = pipe(createTransactionMessage({ version: 0 }), (m) => appendTransactionMessageInstructions([zero], m));
    await sendIxs(authority, [zero]);
  } catch (e) {
    failure = e;
  }
  assert.ok(failure, 'a zero deposit is refused');
  assert.ok(
    staking.isConcordStakingError(failure.cause ?? failure, message, staking.CONCORD_STAKING_ERROR__ZERO_AMOUNT),
    `not ZeroAmount: ${failure}`,
  );
  assert.match(staking.getConcordStakingErrorMessage(staking.CONCORD_STAKING_ERROR__ZERO_AMOUNT), /zero/i);
});
