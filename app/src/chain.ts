/**
 * The chain as the pages read it: one RPC and one PubSub connection, the market's config and
 * payment mint, jobs and providers (getProgramAccounts), an account's transactions with their
 * decoded events, live account and program notifications with a polling fallback, and the
 * names and amounts people read.
 */
import {
  address,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  getBase64Encoder,
  type Address,
  type Signature,
} from '@solana/kit';
import {
  eventsOfTransaction,
  findJobs,
  findProviders,
  market,
  staking,
  toHex,
  type ConcordEvent,
} from '@concord/client';
import { currentCluster } from './env';

export const cluster = currentCluster();
export const rpc = createSolanaRpc(cluster.rpc);
export const subscriptions = createSolanaRpcSubscriptions(cluster.ws);

export interface MarketInfo {
  config: market.MarketConfig;
  configAddress: Address;
  decimals: number;
  tokenProgram: Address;
  stakingConfig: staking.StakingConfig;
}

let marketInfo: Promise<MarketInfo> | null = null;

/** The market config, the payment mint's decimals and token program (read once). */
export function loadMarket(): Promise<MarketInfo> {
  marketInfo ??= (async () => {
    const [configAddress] = await market.findConfigPda();
    const config = await market.fetchMarketConfig(rpc, configAddress, { commitment: 'confirmed' });
    const [stakingAddress] = await staking.findConfigPda();
    const stakingConfig = await staking.fetchStakingConfig(rpc, stakingAddress, { commitment: 'confirmed' });
    const mint = await rpc.getAccountInfo(config.data.paymentMint, { encoding: 'base64', commitment: 'confirmed' }).send();
    if (!mint.value) throw new Error(`the payment mint ${config.data.paymentMint} does not exist`);
    const data = getBase64Encoder().encode(mint.value.data[0]);
    return { config: config.data, configAddress, decimals: data[44], tokenProgram: mint.value.owner, stakingConfig: stakingConfig.data };
  })();
  marketInfo.catch(() => { marketInfo = null; });
  return marketInfo;
}

export const loadJobs = () => findJobs(rpc);
export const loadProviders = () => findProviders(rpc);

export async function loadJob(addr: Address) {
  return (await market.fetchMaybeJob(rpc, addr, { commitment: 'confirmed' }));
}

export async function loadProvider(authority: Address) {
  const [pda] = await staking.findProviderPda({ authority });
  return { pda, account: await staking.fetchMaybeProvider(rpc, pda, { commitment: 'confirmed' }) };
}

/** A transaction of an account, with what it emitted. */
export interface HistoryEntry {
  signature: Signature;
  slot: bigint;
  blockTime: bigint | null;
  failed: boolean;
  /** False while the node has listed the signature but not yet stored the transaction. */
  loaded: boolean;
  events: ConcordEvent[];
  logs: readonly string[];
}

/** Transactions already read: a confirmed transaction never changes. */
const seen = new Map<Signature, Omit<HistoryEntry, 'signature' | 'slot' | 'blockTime' | 'failed'>>();

/** The latest `limit` transactions touching `addr`, newest first, with their events and logs. */
export async function history(addr: Address, limit = 40): Promise<HistoryEntry[]> {
  const sigs = await rpc.getSignaturesForAddress(addr, { commitment: 'confirmed', limit }).send();
  return Promise.all(sigs.map(async (s) => {
    let body = seen.get(s.signature);
    if (!body) {
      const tx = await rpc.getTransaction(s.signature, { commitment: 'confirmed', encoding: 'json', maxSupportedTransactionVersion: 0 }).send();
      body = { loaded: tx !== null, events: tx ? eventsOfTransaction(tx as never) : [], logs: tx?.meta?.logMessages ?? [] };
      if (tx) seen.set(s.signature, body);
    }
    return { signature: s.signature, slot: s.slot, blockTime: s.blockTime, failed: s.err !== null, ...body };
  }));
}

export async function loadTransaction(signature: Signature) {
  return rpc.getTransaction(signature, { commitment: 'confirmed', encoding: 'json', maxSupportedTransactionVersion: 0 }).send();
}

/**
 * Calls `refresh` whenever `addr` (an account) or the program `program` changes, over PubSub,
 * and every `pollMs` as a fallback (a dropped socket is resubscribed on the next poll).
 * Returns a function that stops it.
 */
export function watch(target: { account: Address } | { program: Address }, refresh: () => void, pollMs = 4000): () => void {
  const stop = new AbortController();
  let subscribed = false;
  const subscribe = async () => {
    if (subscribed || stop.signal.aborted) return;
    subscribed = true;
    try {
      const stream = 'account' in target
        ? await subscriptions.accountNotifications(target.account, { commitment: 'confirmed', encoding: 'base64' }).subscribe({ abortSignal: stop.signal })
        : await subscriptions.programNotifications(target.program, { commitment: 'confirmed', encoding: 'base64' }).subscribe({ abortSignal: stop.signal });
      for await (const _ of stream) refresh();
    } catch {
      // dropped: the next poll resubscribes
    } finally {
      subscribed = false;
    }
  };
  subscribe();
  const timer = setInterval(() => { refresh(); subscribe(); }, pollMs);
  stop.signal.addEventListener('abort', () => clearInterval(timer));
  return () => stop.abort();
}

/** `units` of the payment token as a decimal string. */
export function tokens(units: bigint, decimals: number): string {
  const neg = units < 0n;
  const abs = neg ? -units : units;
  const scale = 10n ** BigInt(decimals);
  const frac = (abs % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${abs / scale}${frac ? '.' + frac : ''}`;
}

/** A decimal token amount as base units; throws on more decimals than the mint has. */
export function parseTokens(text: string, decimals: number): bigint {
  const m = text.trim().match(/^(\d+)(?:\.(\d+))?$/);
  if (!m) throw new Error(`"${text}" is not an amount`);
  const frac = m[2] ?? '';
  if (frac.length > decimals) throw new Error(`"${text}" has more than ${decimals} decimals`);
  return BigInt(m[1]) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0');
}

export const JOB_STATES = ['open', 'running', 'settled', 'cancelled', 'expired'] as const;
export const SLOT_STATUSES = ['empty', 'claimed', 'committed', 'revealed'] as const;
export const SLOT_OUTCOMES = ['pending', 'paid', 'unpaid', 'slashed', 'released', 'compensated'] as const;
/** Backend bits of a hardware profile (`concord_staking::backend::NAMES`). */
export const BACKENDS = [['vulkan', 1], ['metal', 2], ['dx12', 4], ['gl', 8], ['webgpu', 16]] as const;
export const backendNames = (bits: number) => BACKENDS.filter(([, b]) => bits & b).map(([n]) => n).join(', ') || 'none';

export const hex = (bytes: ArrayLike<number>) => toHex(Uint8Array.from(bytes));
export const short = (s: string, n = 4) => (s.length > 2 * n + 1 ? `${s.slice(0, n)}…${s.slice(-n)}` : s);
export const isAddress = (s: string) => { try { address(s); return true; } catch { return false; } };
export const ZERO32 = '0'.repeat(64);
