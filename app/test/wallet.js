// A Wallet Standard wallet for the browser test, injected into the page before the app loads
// (Playwright's addInitScript, with { address, publicKey }): it registers itself the way
// Phantom, Solflare and Backpack do, offers one account on solana:localnet, and signs
// transactions through `concordTestWalletSign`, a function the test exposes from node, which
// holds the key. Nothing of the app knows it is a test wallet.
(({ address, publicKey }) => {
  const account = Object.freeze({
    address,
    publicKey: new Uint8Array(publicKey),
    chains: ['solana:localnet'],
    features: ['solana:signTransaction'],
    label: 'Test buyer',
  });
  const listeners = new Set();
  let accounts = [];
  const emit = () => listeners.forEach((l) => l({ accounts }));
  const wallet = {
    version: '1.0.0',
    name: 'Concord Test Wallet',
    icon: 'data:image/svg+xml;base64,' + btoa('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#3b5bdb"/></svg>'),
    chains: ['solana:localnet'],
    get accounts() { return accounts; },
    features: {
      'standard:connect': {
        version: '1.0.0',
        async connect() { accounts = [account]; emit(); return { accounts }; },
      },
      'standard:disconnect': {
        version: '1.0.0',
        async disconnect() { accounts = []; emit(); },
      },
      'standard:events': {
        version: '1.0.0',
        on(event, listener) {
          if (event !== 'change') return () => {};
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      },
      'solana:signTransaction': {
        version: '1.0.0',
        supportedTransactionVersions: ['legacy', 0],
        async signTransaction(...inputs) {
          return Promise.all(inputs.map(async ({ account: a, transaction }) => {
            if (a.address !== address) throw new Error('unknown account');
            const signed = await window.concordTestWalletSign(Array.from(transaction));
            return { signedTransaction: new Uint8Array(signed) };
          }));
        },
      },
    },
  };
  const callback = ({ register }) => register(wallet);
  window.addEventListener('wallet-standard:app-ready', (event) => callback(event.detail));
  window.dispatchEvent(new CustomEvent('wallet-standard:register-wallet', { detail: callback }));
})
