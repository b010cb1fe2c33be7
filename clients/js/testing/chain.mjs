// A local chain for the node tests (test/): `concord-localnet` started on free ports (stopped by
// `stop`), its faucet, the `concord` CLI against it, and sending instructions with @solana/kit.
// The binaries: CONCORD_BIN, else $CARGO_TARGET_DIR/debug, else ~/.cache/concord/target/debug.
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
  pipe,
  sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from '@solana/kit';

const bin = process.env.CONCORD_BIN ??
  join(process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'concord', 'target'), 'debug');

/** The path of one of Concord's binaries (`concord`, `concord-agent`, `concord-localnet`). */
export function binary(name) {
  const path = join(bin, name);
  assert.ok(existsSync(path), `${path} is missing: cargo build --workspace --bins`);
  return path;
}

/** Starts a chain; resolves once it is ready. */
export async function startChain() {
  for (const b of ['concord-localnet', 'concord']) {
    assert.ok(existsSync(join(bin, b)), `${join(bin, b)} is missing: cargo build -p concord-localnet -p concord-cli`);
  }
  const ledger = mkdtempSync(join(tmpdir(), 'concord-js-'));
  const port = 41000 + Math.floor(Math.random() * 2000) * 4;
  const child = spawn(join(bin, 'concord-localnet'),
    ['--quiet', '--ledger', ledger, '--rpc-port', `${port}`, '--token-faucet-port', `${port + 2}`],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  for (let i = 0; i < 240 && !existsSync(join(ledger, 'localnet.json')); i++) {
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(existsSync(join(ledger, 'localnet.json')), `concord-localnet did not start: ${stderr.slice(-2000)}`);
  const info = JSON.parse(readFileSync(join(ledger, 'localnet.json'), 'utf8'));
  const rpc = createSolanaRpc(info.rpc_url);
  const sendAndConfirm = sendAndConfirmTransactionFactory({
    rpc,
    rpcSubscriptions: createSolanaRpcSubscriptions(info.pubsub_url),
  });
  return {
    info,
    rpc,
    sendAndConfirm,
    tokenProgram: address(info.token_program),
    paymentMint: address(info.payment_mint),
    stop() {
      child.kill('SIGTERM');
      rmSync(ledger, { recursive: true, force: true });
    },
    /** `concord <args> --output json` against this chain. */
    cli(...args) {
      return JSON.parse(execFileSync(join(bin, 'concord'), ['-u', info.rpc_url, '--output', 'json', ...args], { encoding: 'utf8' }));
    },
    /** A new keypair with 5 SOL and 20 payment tokens. */
    async funded() {
      const signer = await generateKeyPairSigner();
      const res = await fetch(`${info.token_faucet_url}/airdrop`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ address: signer.address, sol: 5, tokens: 20 }),
      });
      assert.equal(res.status, 200, await res.text());
      return signer;
    },
    /** Sends `instructions` in one transaction paid by `payer`, confirmed. (A legacy one: a
     * fresh local chain includes version-0 transactions only some 25 s after it starts.) */
    async send(payer, instructions) {
      const { value: blockhash } = await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
      const message = pipe(
        createTransactionMessage({ version: 'legacy' }),
        (m) => setTransactionMessageFeePayerSigner(payer, m),
        (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
        (m) => appendTransactionMessageInstructions(instructions, m),
      );
      await sendAndConfirm(await signTransactionMessageWithSigners(message), { commitment: 'confirmed' });
      return message;
    },
  };
}

/** The associated token account of `owner` for `mint` (the client's derivation). */
export const associatedTokenAccount = (owner, mint, tokenProgram) =>
  createRequire(import.meta.url)('@concord/client').findAssociatedTokenAddress(owner, mint, tokenProgram);
