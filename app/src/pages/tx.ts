/** One transaction: status, slot, the Concord events it emitted and its program logs. */
import type { Signature } from '@solana/kit';
import { eventsOfTransaction } from '@concord/client';
import { loadMarket, loadTransaction } from '../chain';
import { facts, h, notice, replace } from '../ui';
import { eventList } from './events';

export function txPage(root: HTMLElement, signature: Signature): () => void {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Reading the transaction…'));
  replace(root, h('h1', {}, 'Transaction'), h('p', {}, h('code', { class: 'wrap' }, signature)), body);
  let stopped = false;
  (async () => {
    try {
      const info = await loadMarket();
      // A node lists a signature a moment before it serves the transaction: ask again a while.
      let tx = await loadTransaction(signature);
      for (let i = 0; !tx && !stopped && i < 60; i++) {
        replace(body, notice('info', 'Not found at confirmed commitment yet; asking again…'));
        await new Promise((r) => setTimeout(r, 2000));
        tx = await loadTransaction(signature);
      }
      if (!tx) { replace(body, notice('info', 'Not found at confirmed commitment.')); return; }
      replace(body,
        facts([['Slot', tx.slot], ['Status', tx.meta?.err ? `failed: ${JSON.stringify(tx.meta.err, (_, v) => typeof v === 'bigint' ? v.toString() : v)}` : 'succeeded'], ['Fee', `${tx.meta?.fee ?? 0n} lamports`]]),
        h('h2', {}, 'Events'), eventList(eventsOfTransaction(tx as never), info.decimals),
        h('h2', {}, 'Logs'), h('pre', { class: 'logs' }, (tx.meta?.logMessages ?? []).join('\n')));
    } catch (e) {
      replace(body, notice('error', `Cannot read the transaction: ${(e as Error).message}`));
    }
  })();
  return () => { stopped = true; };
}
