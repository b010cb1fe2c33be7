/**
 * One job: its terms and state, the draw, every slot (who holds it, commitment, revealed hash,
 * outcome), the money (escrow, payouts, slashes, refund, from its events), its transactions,
 * live while it runs; once settled, its result downloaded from the job's store and verified in
 * the browser against the hash the providers agreed on.
 */
import { address as toAddress, createNoopSigner, isSome, type Address } from '@solana/kit';
import { HttpStore, cancelInstruction, downloadResult, fromCanonicalBytes, fromHex, market as m, type ConcordEvent } from '@concord/client';
import { sendFromWallet } from '../send';
import { current } from '../wallet';
import { JOB_STATES, SLOT_OUTCOMES, SLOT_STATUSES, ZERO32, hex, history, loadJob, loadMarket, short, tokens, watch, type HistoryEntry } from '../chain';
import { facts, h, link, notice, replace, table } from '../ui';
import { eventList } from './events';

const when = (secs: bigint) => (secs > 0n ? new Date(Number(secs) * 1000).toLocaleString() : '—');
const MAX_MANIFEST_BYTES = 1 << 20;

export function jobPage(root: HTMLElement, addr: Address): () => void {
  const head = h('div', {});
  const slots = h('section', {});
  const result = h('section', { 'data-testid': 'result' });
  const actions = h('div', { class: 'actions' });
  const txs = h('section', {});
  replace(root, h('h1', {}, 'Job ', h('code', {}, addr)), head, actions, slots, result, txs);
  let last = '';
  let verifying = false;
  let verified = false;
  let rendering: Promise<void> | null = null;
  const render = () => (rendering ??= draw().finally(() => { rendering = null; }));
  const draw = async () => {
    try {
      const [info, maybe] = await Promise.all([loadMarket(), loadJob(addr)]);
      if (!maybe.exists) {
        replace(head, notice('info', 'No job at this address (a closed job\'s account is gone; its transactions remain).'));
      }
      const hist = await history(addr);
      const key = JSON.stringify([maybe.exists ? hex(m.getJobEncoder().encode(maybe.data)) : 'gone', hist.map((e) => `${e.signature}:${e.loaded}`)]);
      if (key === last) return;
      last = key;
      const d = info.decimals;
      if (maybe.exists) {
        const j = maybe.data;
        const state = JOB_STATES[j.state];
        const agreed = isSome(j.agreedHash) ? hex(j.agreedHash.value) : null;
        replace(head,
          h('p', {}, h('span', { class: `state ${state}`, 'data-testid': 'job-state' }, state),
            j.state === m.JobState.Open ? ` · ${j.filled} of ${j.replicas} slots claimed, draw round ${j.drawRound}` : '',
            j.state === m.JobState.Running ? ` · ${j.committed} committed, ${j.revealed} revealed` : ''),
          facts([
            ['Buyer', link(`#/buyer/${j.buyer}`, j.buyer)],
            ['Job id', j.jobId],
            ['Manifest', h('code', {}, hex(j.manifestHash))],
            ['Store', j.manifestUri],
            ['Replicas', `${j.replicas}, quorum ${j.quorum}${j.auditors ? ', 1 auditor' : ''}${j.referees ? `, ${j.referees} referees (dispute)` : ''}`],
            ['Price per replica', `${tokens(j.pricePerReplica, d)} (fee ${tokens(j.feePerReplica, d)})`],
            ['Collateral per replica', tokens(j.collateralPerReplica, d)],
            ['In escrow', tokens(j.escrowOwed, d)],
            ['Claims until', when(j.claimDeadline)],
            ['Execution until', when(j.execDeadline)],
            ['Reveals until', when(j.revealDeadline)],
            ['Draw', `round ${j.drawRound}, seeded by slot ${j.seedSlot}, ${j.roundSlots} slot(s) drawn`],
            ['Audit', j.auditBps === 0 ? 'none (market without audits)' : j.auditDecided ? (j.auditors ? 'audited' : 'not audited') : `${j.auditBps / 100} % chance, not decided yet`],
            ['Agreed result', agreed ? h('code', { 'data-testid': 'agreed-hash' }, agreed) : '—'],
          ]));
        const me = current();
        if (me && me.account.address === j.buyer && j.state === m.JobState.Open && j.referees === 0) {
          replace(actions, h('button', { 'data-testid': 'cancel', onclick: async (e: Event) => {
            const b = e.target as HTMLButtonElement;
            b.disabled = true;
            try {
              const ix = await cancelInstruction(createNoopSigner(toAddress(me.account.address)), addr, j, { address: info.config.paymentMint, tokenProgram: info.tokenProgram });
              await sendFromWallet([ix], (s) => replace(actions, notice('info', `cancel_job: ${s}…`)));
              replace(actions, notice('ok', 'Cancelled: the deposit, less what claimed slots are owed, is back in your wallet.'));
              last = '';
              render();
            } catch (err) {
              replace(actions, notice('error', (err as Error).message, { 'data-testid': 'cancel-error' }));
            }
          } }, 'Cancel the job'), h('small', { class: 'muted' }, ' (only while open; claimed slots are compensated)'));
        } else if (actions.querySelector('button')) {
          replace(actions);
        }
        const used = j.replicas + j.auditors + j.referees;
        replace(slots, h('h2', {}, 'Slots'),
          table(['#', 'Role', 'Provider', 'Status', 'Commitment', 'Revealed result', 'Outcome'],
            j.slots.slice(0, used).map((s, i) => [
              i,
              i < j.replicas ? 'replica' : i < j.replicas + j.auditors ? 'auditor' : 'referee',
              s.status === m.SlotStatus.Empty ? '—' : link(`#/provider/${s.provider}`, short(s.provider, 6)),
              SLOT_STATUSES[s.status],
              hex(s.commitment) === ZERO32 ? '—' : h('code', {}, short(hex(s.commitment), 8)),
              hex(s.resultHash) === ZERO32 ? '—' : h('code', { class: agreed && hex(s.resultHash) !== agreed ? 'bad' : '' }, short(hex(s.resultHash), 8)),
              h('span', { class: `outcome ${SLOT_OUTCOMES[s.outcome]}` }, SLOT_OUTCOMES[s.outcome]),
            ]), { 'data-testid': 'slots' }));
        if (agreed && j.state === m.JobState.Settled && !verifying && !verified) {
          replace(result, h('h2', {}, 'Result'),
            h('button', { class: 'primary', 'data-testid': 'verify', onclick: () => verify(j.manifestUri, j.manifestHash, agreed) }, 'Download and verify the result'));
        } else if (!agreed && j.state === m.JobState.Settled) {
          replace(result, h('h2', {}, 'Result'), notice('info', 'Settled without an agreed result (no quorum): the buyer was refunded.'));
        }
      }
      replace(txs, h('h2', {}, 'Money and transactions'), payouts(hist, d), transactions(hist, d));
    } catch (e) {
      replace(head, notice('error', `Cannot read the job: ${(e as Error).message}`));
    }
  };

  const verify = async (uri: string, manifestHash: ArrayLike<number>, agreed: string) => {
    verifying = true;
    const status = notice('info', 'Downloading the manifest…');
    replace(result, h('h2', {}, 'Result'), status);
    try {
      const store = new HttpStore(uri);
      const manifest = fromCanonicalBytes(await store.get(hex(manifestHash), MAX_MANIFEST_BYTES));
      replace(status, 'Downloading the outputs and checking them against the agreed hash…');
      const outputs = await downloadResult(store, fromHex(agreed), manifest);
      verified = true;
      replace(result, h('h2', {}, 'Result'),
        notice('ok', `Verified: ${outputs.length} output buffer(s), ${outputs.reduce((t, o) => t + o.length, 0)} bytes, hash to the agreed result ${short(agreed, 8)}.`, { 'data-testid': 'verified' }),
        table(['Output', 'Bytes', 'First values (u32)', 'Download'], outputs.map((o, i) => [
          i, o.length,
          h('code', {}, Array.from(new Uint32Array(o.buffer, o.byteOffset, Math.min(8, o.length >> 2))).join(' ')),
          link(URL.createObjectURL(new Blob([o as BlobPart])), `output-${i}.bin`, { download: `${addr}-output-${i}.bin` }),
        ])));
    } catch (e) {
      replace(result, h('h2', {}, 'Result'), notice('error', `Not verified: ${(e as Error).message}`, { 'data-testid': 'verify-error' }),
        h('button', { onclick: () => verify(uri, manifestHash, agreed) }, 'Try again'));
    } finally {
      verifying = false;
    }
  };

  render();
  return watch({ account: addr }, render, 3000);
}

/** Who was paid, slashed, compensated or refunded, from the job's events. */
function payouts(hist: HistoryEntry[], d: number) {
  const rows: [string, string, string][] = [];
  for (const e of [...hist].reverse().flatMap((x) => x.events)) {
    const ev = e as ConcordEvent & { data: Record<string, unknown> };
    const amount = (k: string) => tokens(ev.data[k] as bigint, d);
    switch (ev.name) {
      case 'JobCreated': rows.push(['escrowed', String(ev.data.buyer), amount('deposit')]); break;
      case 'SlotPaid': rows.push(['paid', String(ev.data.providerAuthority), amount('amount')]); break;
      case 'SlotSlashed': rows.push(['slashed', String(ev.data.providerAuthority), amount('amount')]); break;
      case 'SlotCompensated': rows.push(['compensated', String(ev.data.providerAuthority), amount('amount')]); break;
      case 'JobSettled': rows.push(['refunded to the buyer', '', amount('buyerRefund')]); break;
      case 'JobCancelled': rows.push(['refunded to the buyer (cancelled)', '', amount('refund')]); break;
    }
  }
  return table(['', 'Who', 'Tokens'], rows.map(([what, who, t]) => [what, who ? link(`#/provider/${who}`, short(who, 6)) : '', t]), { 'data-testid': 'payouts' });
}

function transactions(hist: HistoryEntry[], d: number) {
  return table(['Transaction', 'Slot', 'Events'], hist.map((t) => [
    link(`#/tx/${t.signature}`, short(t.signature, 8)),
    t.slot,
    t.failed ? h('span', { class: 'bad' }, 'failed') : eventList(t.events, d),
  ]), { 'data-testid': 'transactions' });
}

