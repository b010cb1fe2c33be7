/**
 * The Concord web app: a header (the cluster, the wallet, the local faucet) and hash-routed
 * pages: `#/` market, `#/job/<address>`, `#/provider/<authority>`, `#/buyer/<address>`,
 * `#/tx/<signature>`, `#/submit`.
 */
import './style.css';
import { address, signature as toSignature } from '@solana/kit';
import { cluster, isAddress, short } from './chain';
import { saveCluster } from './env';
import { overview } from './pages/overview';
import { jobPage } from './pages/job';
import { providerPage } from './pages/provider';
import { buyerPage } from './pages/buyer';
import { txPage } from './pages/tx';
import { submitPage } from './pages/submit';
import { h, notice, replace } from './ui';
import { connect, current, disconnect, onWalletsChanged, usableWallets } from './wallet';

const top = document.getElementById('top')!;
const page = document.getElementById('page')!;
let leave: () => void = () => {};

function route() {
  leave();
  const [, kind, arg] = location.hash.replace(/^#\/?/, '/').split('/');
  try {
    if (kind === 'job' && isAddress(arg)) leave = jobPage(page, address(arg));
    else if (kind === 'provider' && isAddress(arg)) leave = providerPage(page, address(arg));
    else if (kind === 'buyer' && isAddress(arg)) leave = buyerPage(page, address(arg));
    else if (kind === 'tx' && arg) leave = txPage(page, toSignature(arg));
    else if (kind === 'submit') leave = submitPage(page);
    else leave = overview(page);
  } catch (e) {
    replace(page, notice('error', (e as Error).message));
    leave = () => {};
  }
  header();
}

async function faucet() {
  const me = current();
  if (!me || !cluster.faucet) return;
  const r = await fetch(`${cluster.faucet}/airdrop`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ address: me.account.address, sol: 2, tokens: 100 }),
  });
  alertLine(r.ok ? 'ok' : 'error', r.ok ? 'Sent 2 SOL and 100 tokens from the local faucet.' : `The faucet refused: ${await r.text()}`);
  if (r.ok && location.hash.startsWith('#/submit')) route();
}

function alertLine(kind: 'ok' | 'error', text: string) {
  const line = notice(kind, text, { 'data-testid': 'header-notice' });
  top.querySelector('.notice')?.remove();
  top.append(line);
  setTimeout(() => line.remove(), 8000);
}

function header() {
  const me = current();
  const wallets = usableWallets();
  const walletArea = me
    ? h('div', { class: 'wallet' },
        h('span', { 'data-testid': 'wallet-address', title: me.account.address }, `${me.wallet.name} · ${short(me.account.address)}`),
        cluster.faucet ? h('button', { onclick: faucet, 'data-testid': 'faucet' }, 'Get test tokens') : null,
        h('button', { onclick: () => disconnect() }, 'Disconnect'))
    : h('div', { class: 'wallet' }, wallets.length === 0
        ? h('span', { class: 'muted' }, 'No Solana wallet found (install Phantom, Solflare or Backpack)')
        : wallets.map((w) => h('button', {
            class: 'primary', 'data-testid': `connect-${w.name}`,
            onclick: () => connect(w).catch((e) => alertLine('error', `${w.name}: ${e.message}`)),
          }, w.icon ? h('img', { src: w.icon, alt: '' }) : null, `Connect ${w.name}`)));
  const rpcInput = h('input', { value: cluster.rpc, 'aria-label': 'RPC URL', size: '28' });
  const storeInput = h('input', { value: cluster.store, 'aria-label': 'Store URL', size: '28' });
  replace(top,
    h('nav', {},
      h('a', { href: '#/', class: 'brand' }, 'Concord'),
      h('a', { href: '#/' }, 'Market'),
      h('a', { href: '#/submit', 'data-testid': 'nav-submit' }, 'New job'),
      me ? h('a', { href: `#/buyer/${me.account.address}` }, 'My jobs') : null),
    h('form', { class: 'cluster', onsubmit: (e: Event) => {
      e.preventDefault();
      saveCluster(rpcInput.value.trim(), storeInput.value.trim());
      location.search = '';
    } }, h('label', {}, 'RPC ', rpcInput), h('label', {}, 'Store ', storeInput), h('button', {}, 'Use')),
    walletArea);
}

/** Reconnects the wallet used last (silently: a wallet that needs the user's approval again waits for a click). */
function reconnect() {
  const saved = localStorage.getItem('concord.wallet');
  const w = usableWallets().find((x) => x.name === saved);
  if (w && !current()) connect(w, true).catch(() => {});
}
onWalletsChanged(() => {
  reconnect();
  header();
  if (location.hash.startsWith('#/submit')) route();
});
window.addEventListener('hashchange', route);
route();
reconnect();
