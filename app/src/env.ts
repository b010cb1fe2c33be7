/**
 * Which cluster the app talks to: the RPC URL (`?rpc=`, else the last one chosen, else the
 * local chain on 8899), its PubSub URL (`?ws=`, else the RPC port + 1 as solana-test-validator
 * and most providers serve it), the content store blobs go to (`?store=`, else the local
 * chain's store on RPC port + 2), and the local chain's faucet when the RPC is on this machine.
 */
export interface Cluster {
  rpc: string;
  ws: string;
  store: string;
  faucet: string | null;
  /** The Wallet Standard chain id (`solana:localnet`, `solana:devnet`, …). */
  chain: `solana:${string}`;
}

const KEY = 'concord.cluster';

function derive(rpc: string, given: Partial<Cluster>): Cluster {
  const url = new URL(rpc);
  const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const ws = new URL(rpc);
  ws.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (url.port) ws.port = String(port + 1);
  const side = `${url.protocol}//${url.hostname}:${port + 2}`;
  const chain = local ? 'solana:localnet'
    : /devnet/.test(url.hostname) ? 'solana:devnet'
    : /testnet/.test(url.hostname) ? 'solana:testnet' : 'solana:mainnet';
  return {
    rpc,
    ws: given.ws || ws.toString().replace(/\/$/, ''),
    store: given.store || `${side}/store`,
    faucet: local ? side : null,
    chain,
  };
}

/** The cluster from the page's URL, else the one saved, else the local chain. */
export function currentCluster(): Cluster {
  const q = new URLSearchParams(location.search);
  const saved: Partial<Cluster> = JSON.parse(localStorage.getItem(KEY) ?? '{}');
  const rpc = q.get('rpc') ?? saved.rpc ?? 'http://127.0.0.1:8899';
  return derive(rpc, { ws: q.get('ws') ?? (q.get('rpc') ? undefined : saved.ws), store: q.get('store') ?? (q.get('rpc') ? undefined : saved.store) });
}

/** Saves a cluster choice (the page reloads onto it). */
export function saveCluster(rpc: string, store?: string): Cluster {
  const c = derive(rpc, { store });
  localStorage.setItem(KEY, JSON.stringify({ rpc: c.rpc, store: store || undefined }));
  return c;
}
