/**
 * Wallets through the Wallet Standard: every wallet that registers itself with the page
 * (Phantom, Solflare, Backpack, or a test wallet) and can connect and sign Solana
 * transactions for this cluster's chain is offered; the connected account signs buyers'
 * transactions (`solana:signTransaction`), the app sends them itself.
 */
import { getWallets } from '@wallet-standard/app';
import type { Wallet, WalletAccount } from '@wallet-standard/base';
import { cluster } from './chain';

const CONNECT = 'standard:connect';
const DISCONNECT = 'standard:disconnect';
const SIGN = 'solana:signTransaction';

interface SignFeature {
  [SIGN]: {
    signTransaction(...inputs: { account: WalletAccount; transaction: Uint8Array; chain?: string }[]):
      Promise<{ signedTransaction: Uint8Array }[]>;
  };
}
interface ConnectFeature {
  [CONNECT]: { connect(input?: { silent?: boolean }): Promise<{ accounts: readonly WalletAccount[] }> };
}

export interface Connected { wallet: Wallet; account: WalletAccount }

let connected: Connected | null = null;
const listeners = new Set<() => void>();
const changed = () => listeners.forEach((l) => l());

/** Wallets that can connect and sign Solana transactions. */
export function usableWallets(): Wallet[] {
  return getWallets().get().filter((w) => CONNECT in w.features && SIGN in w.features
    && w.chains.some((c) => c.startsWith('solana:')));
}

export function onWalletsChanged(listener: () => void) {
  listeners.add(listener);
  const { on } = getWallets();
  const off1 = on('register', listener);
  const off2 = on('unregister', listener);
  return () => { listeners.delete(listener); off1(); off2(); };
}

export const current = () => connected;

export async function connect(wallet: Wallet, silent = false): Promise<Connected> {
  const { accounts } = await (wallet.features as unknown as ConnectFeature)[CONNECT].connect({ silent });
  const account = accounts.find((a) => a.chains.includes(cluster.chain)) ?? accounts[0];
  if (!account) throw new Error(`${wallet.name} gave no account`);
  if (!account.chains.includes(cluster.chain)) {
    throw new Error(`${wallet.name}'s account is for ${account.chains.join(', ')}, not ${cluster.chain}`);
  }
  connected = { wallet, account };
  localStorage.setItem('concord.wallet', wallet.name);
  changed();
  return connected;
}

export async function disconnect() {
  const w = connected?.wallet;
  connected = null;
  localStorage.removeItem('concord.wallet');
  changed();
  const f = w?.features[DISCONNECT] as { disconnect(): Promise<void> } | undefined;
  await f?.disconnect();
}

/** Has the connected wallet sign a transaction (wire bytes); returns the signed bytes. */
export async function signWithWallet(transaction: Uint8Array): Promise<Uint8Array> {
  if (!connected) throw new Error('connect a wallet first');
  const [out] = await (connected.wallet.features as unknown as SignFeature)[SIGN].signTransaction({
    account: connected.account, transaction, chain: cluster.chain,
  });
  return out.signedTransaction;
}
