/** A buyer's jobs (memcmp on the job's buyer). */
import type { Address } from '@solana/kit';
import { findJobs } from '@concord/client';
import { JOB_STATES, loadMarket, rpc, short, tokens, watch } from '../chain';
import { h, link, notice, replace, table } from '../ui';

export function buyerPage(root: HTMLElement, buyer: Address): () => void {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Reading jobs…'));
  replace(root, h('h1', {}, 'Jobs of ', h('code', {}, buyer)), body);
  const render = async () => {
    try {
      const [info, jobs] = await Promise.all([loadMarket(), findJobs(rpc, { buyer })]);
      jobs.sort((a, b) => Number(b.data.createdSlot - a.data.createdSlot));
      replace(body, table(['Job', 'State', 'Replicas', 'Price / replica', 'In escrow'], jobs.map((j) => [
        link(`#/job/${j.address}`, short(j.address, 6)), JOB_STATES[j.data.state], `${j.data.filled}/${j.data.replicas}`,
        tokens(j.data.pricePerReplica, info.decimals), tokens(j.data.escrowOwed, info.decimals),
      ])));
    } catch (e) {
      replace(body, notice('error', `Cannot read the jobs: ${(e as Error).message}`));
    }
  };
  render();
  return watch({ account: buyer }, render, 5000);
}
