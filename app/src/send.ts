/**
 * Sending instructions from the connected wallet: a legacy transaction with the wallet's
 * account as fee payer and signer, signed by the wallet, sent with preflight, confirmed at
 * `confirmed` by a signature subscription (status polling as the fallback). A rejection is
 * reported with the program's own name and message for the error, read from the logs
 * (Anchor's error line) or, failing that, from the IDL's error table.
 */
import {
  address,
  appendTransactionMessageInstructions,
  compileTransaction,
  createTransactionMessage,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  getTransactionDecoder,
  getTransactionEncoder,
  isSolanaError,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  type Instruction,
  type Signature,
} from '@solana/kit';
import { market, staking } from '@concord/client';
import { rpc, subscriptions } from './chain';
import { current, signWithWallet } from './wallet';

/** A transaction the chain refused, with the program's name for why. */
export class ChainRefusal extends Error {
  constructor(message: string, readonly errorName: string | null, readonly logs: readonly string[]) {
    super(message);
    this.name = 'ChainRefusal';
  }
}

/** Anchor's `... Error Code: NAME. Error Number: N. Error Message: MSG.` line, if any. */
function anchorError(logs: readonly string[]): { name: string; message: string } | null {
  for (const line of logs) {
    const m = line.match(/AnchorError.*Error Code: (\w+)\. Error Number: \d+\. Error Message: (.*?)\.?$/);
    if (m) return { name: m[1], message: m[2] };
  }
  return null;
}

/** The named error of a failed transaction, from its logs or the custom code and the IDLs. */
export function describeFailure(logs: readonly string[], code?: number): { name: string | null; message: string } {
  const anchor = anchorError(logs);
  if (anchor) return anchor;
  const failing = logs.map((l) => l.match(/^Program (\w+) failed: custom program error: 0x([0-9a-f]+)/)).find(Boolean);
  const number = failing ? parseInt(failing[2], 16) : code;
  if (number !== undefined) {
    // The generated tables of messages are dropped from production builds; the names stay.
    const staking_ = failing?.[1] === staking.CONCORD_STAKING_PROGRAM_ADDRESS;
    const prefix = staking_ ? 'CONCORD_STAKING_ERROR__' : 'CONCORD_MARKET_ERROR__';
    const entry = Object.entries(staking_ ? staking : market).find(([k, v]) => k.startsWith(prefix) && v === number);
    if (entry) {
      const name = entry[0].slice(prefix.length).toLowerCase().replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase());
      return { name, message: `error ${number}` };
    }
  }
  const last = [...logs].reverse().find((l) => / failed: /.test(l));
  return { name: null, message: last ?? 'the transaction failed' };
}

async function confirm(signature: Signature, lastValidBlockHeight: bigint): Promise<void> {
  const abort = new AbortController();
  try {
    const notified = (async () => {
      const stream = await subscriptions.signatureNotifications(signature, { commitment: 'confirmed' }).subscribe({ abortSignal: abort.signal });
      for await (const n of stream) return n.value.err;
      return undefined;
    })().catch(() => new Promise<never>(() => {}));
    const polled = (async () => {
      for (;;) {
        await new Promise((r) => setTimeout(r, 1500));
        const { value: [status] } = await rpc.getSignatureStatuses([signature]).send();
        if (status && (status.confirmationStatus === 'confirmed' || status.confirmationStatus === 'finalized')) return status.err;
        const height = await rpc.getBlockHeight({ commitment: 'confirmed' }).send();
        if (height > lastValidBlockHeight) throw new Error('the transaction expired before it was confirmed; try again');
      }
    })();
    const err = await Promise.race([notified, polled]);
    if (err) {
      const tx = await rpc.getTransaction(signature, { commitment: 'confirmed', encoding: 'json', maxSupportedTransactionVersion: 0 }).send();
      const logs = tx?.meta?.logMessages ?? [];
      const { name, message } = describeFailure(logs);
      throw new ChainRefusal(name ? `${name}: ${message}` : message, name, logs);
    }
  } finally {
    abort.abort();
  }
}

/** Signs `instructions` with the connected wallet, sends and confirms them; returns the signature. */
export async function sendFromWallet(instructions: Instruction[], onStage: (stage: string) => void = () => {}): Promise<Signature> {
  const me = current();
  if (!me) throw new Error('connect a wallet first');
  const { value: blockhash } = await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
  const message = pipe(
    // Legacy: every wallet signs it, nothing here needs lookup tables, and a fresh local chain
    // includes version-0 transactions only some 25 s after it starts.
    createTransactionMessage({ version: 'legacy' }),
    (m) => setTransactionMessageFeePayer(address(me.account.address), m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  const unsigned = new Uint8Array(getTransactionEncoder().encode(compileTransaction(message)));
  onStage(`waiting for ${me.wallet.name} to sign`);
  const signed = getTransactionDecoder().decode(await signWithWallet(unsigned));
  const signature = getSignatureFromTransaction(signed);
  onStage('sending');
  try {
    await rpc.sendTransaction(getBase64EncodedWireTransaction(signed), { encoding: 'base64', preflightCommitment: 'confirmed' }).send();
  } catch (e) {
    if (isSolanaError(e)) {
      const ctx = (e.context ?? {}) as { logs?: readonly string[] };
      const logs = ctx.logs ?? [];
      const cause = (e.cause ?? {}) as { context?: { code?: number } };
      const { name, message } = describeFailure(logs, cause.context?.code);
      throw new ChainRefusal(name ? `${name}: ${message}` : message, name, logs);
    }
    throw e;
  }
  onStage('confirming');
  await confirm(signature, blockhash.lastValidBlockHeight);
  return signature;
}
