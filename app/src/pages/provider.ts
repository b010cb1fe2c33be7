/**
 * One provider: stake (free, locked by open slots, unbonding), hardware, counters, what it
 * earned and lost, and its history (the transactions of its staking account, with events).
 */
import type { Address } from '@solana/kit';
import { findJobs, market as m } from '@concord/client';
import { JOB_STATES, SLOT_OUTCOMES, backendNames, history, loadMarket, loadProvider, rpc, short, tokens, watch } from '../chain';
import { facts, h, link, notice, replace, table } from '../ui';
import { eventList } from './events';

export function providerPage(root: HTMLElement, authority: Address): () => void {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Reading the provider…'));
  replace(root, h('h1', {}, 'Provider ', h('code', {}, authority)), body);
  let pda: Address | null = null;
  const render = async () => {
    try {
      const [info, p] = await Promise.all([loadMarket(), loadProvider(authority)]);
      pda = p.pda;
      if (!p.account.exists) {
        replace(body, notice('info', 'This address has no provider account (not registered, or closed).'));
        return;
      }
      const d = info.decimals;
      const v = p.account.data;
      const free = v.staked - v.locked - v.unbonding;
      const [hist, jobs] = await Promise.all([history(p.pda, 30), findJobs(rpc)]);
      const mine = jobs.filter((j) => j.data.slots.some((s) => s.provider === authority && s.status !== m.SlotStatus.Empty));
      replace(body,
        facts([
          ['Staked', `${tokens(v.staked, d)} tokens`],
          ['Free', tokens(free, d)],
          ['Locked (open slots)', tokens(v.locked, d)],
          ['Unbonding', v.unbonding > 0n ? `${tokens(v.unbonding, d)} until ${new Date(Number(v.unbondingReleaseAt) * 1000).toLocaleString()}` : '0'],
          ['Earned', tokens(v.stats.earned, d)],
          ['Slashed', tokens(v.stats.slashed, d)],
          ['Jobs', `${v.stats.jobsClaimed} claimed, ${v.stats.jobsPaid} paid, ${v.stats.jobsSlashed} slashed`],
          ['GPU', `${v.hardware.gpuName}, ${v.hardware.memoryMib} MiB, ${backendNames(v.hardware.backend)}`],
          ['Accepting jobs', v.acceptingJobs ? 'yes' : 'no'],
          ['Registered', new Date(Number(v.registeredAt) * 1000).toLocaleString()],
          ['Staking account', h('code', {}, p.pda)],
        ], { 'data-testid': 'provider-facts' }),
        h('h2', {}, `Jobs (${mine.length})`),
        table(['Job', 'State', 'Slot', 'Outcome'], mine.map((j) => {
          const i = j.data.slots.findIndex((s) => s.provider === authority && s.status !== m.SlotStatus.Empty);
          return [link(`#/job/${j.address}`, short(j.address, 6)), JOB_STATES[j.data.state], i, SLOT_OUTCOMES[j.data.slots[i].outcome]];
        })),
        h('h2', {}, 'History'),
        table(['Transaction', 'Slot', 'Events'], hist.map((t) => [link(`#/tx/${t.signature}`, short(t.signature, 8)), t.slot, t.failed ? 'failed' : eventList(t.events, d)]), { 'data-testid': 'provider-history' }),
      );
    } catch (e) {
      replace(body, notice('error', `Cannot read the provider: ${(e as Error).message}`));
    }
  };
  // The staking account's changes (stake, locks, payouts) drive the page; it is known once
  // the first read derived it.
  let stop = () => {};
  let left = false;
  render().then(() => { if (pda && !left) stop = watch({ account: pda }, render, 5000); });
  return () => { left = true; stop(); };
}
