/** The market at a glance: its terms, the jobs by state, and the providers with their stake. */
import { market as m, staking as s } from '@concord/client';
import { JOB_STATES, backendNames, loadJobs, loadMarket, loadProviders, short, tokens, watch } from '../chain';
import { facts, h, link, replace, table } from '../ui';

export function overview(root: HTMLElement): () => void {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Reading the market…'));
  replace(root, h('h1', {}, 'Market'), body);
  let busy = false;
  const render = async () => {
    if (busy) return;
    busy = true;
    try {
      const [info, jobs, providers] = await Promise.all([loadMarket(), loadJobs(), loadProviders()]);
      const d = info.decimals;
      const cfg = info.config;
      jobs.sort((a, b) => Number(b.data.createdSlot - a.data.createdSlot));
      const counts = JOB_STATES.map((name, i) => [name, jobs.filter((j) => j.data.state === i).length] as const);
      const staked = providers.reduce((t, p) => t + p.data.staked, 0n);
      const groups = [
        ['Open', [m.JobState.Open]],
        ['Running', [m.JobState.Running]],
        ['Settled and closed out', [m.JobState.Settled, m.JobState.Cancelled, m.JobState.Expired]],
      ] as const;
      replace(body,
        h('section', { class: 'cards' },
          facts([
            ['Protocol fee', `${cfg.params.feeBps / 100} %`],
            ['Audited jobs', `${cfg.params.auditBps / 100} %`],
            ['Market', cfg.paused ? 'paused' : 'accepting jobs'],
            ['Jobs', counts.map(([n, c]) => `${c} ${n}`).join(' · ')],
            ['Providers', `${providers.length} (${providers.filter((p) => p.data.acceptingJobs).length} accepting)`],
            ['Total stake', `${tokens(staked, d)} tokens`],
          ], { 'data-testid': 'market-facts' })),
        ...groups.map(([title, states]) => {
          const rows = jobs.filter((j) => (states as readonly number[]).includes(j.data.state));
          return h('section', {},
            h('h2', {}, `${title} (${rows.length})`),
            table(['Job', 'Buyer', 'State', 'Replicas', 'Price / replica', 'Fee / replica', 'Created (slot)'],
              rows.map((j) => [
                link(`#/job/${j.address}`, short(j.address, 6)),
                link(`#/buyer/${j.data.buyer}`, short(j.data.buyer)),
                h('span', { class: `state ${JOB_STATES[j.data.state]}` }, JOB_STATES[j.data.state]),
                `${j.data.filled}/${j.data.replicas} (q ${j.data.quorum})`,
                tokens(j.data.pricePerReplica, d),
                tokens(j.data.feePerReplica, d),
                j.data.createdSlot,
              ]), { 'data-testid': `jobs-${title.split(' ')[0].toLowerCase()}` }));
        }),
        h('section', {},
          h('h2', {}, `Providers (${providers.length})`),
          table(['Provider', 'GPU', 'Memory', 'Backends', 'Staked', 'Locked', 'Jobs paid', 'Accepting'],
            providers.sort((a, b) => Number(b.data.staked - a.data.staked)).map((p) => [
              link(`#/provider/${p.data.authority}`, short(p.data.authority, 6)),
              p.data.hardware.gpuName,
              `${p.data.hardware.memoryMib} MiB`,
              backendNames(p.data.hardware.backend),
              tokens(p.data.staked, d),
              tokens(p.data.locked, d),
              p.data.stats.jobsPaid,
              p.data.acceptingJobs ? 'yes' : 'no',
            ]), { 'data-testid': 'providers' })),
      );
    } catch (e) {
      replace(body, h('p', { class: 'notice error', role: 'alert' }, `Cannot read the market: ${(e as Error).message}`));
    } finally {
      busy = false;
    }
  };
  render();
  const stopJobs = watch({ program: m.CONCORD_MARKET_PROGRAM_ADDRESS }, debounce(render));
  const stopProviders = watch({ program: s.CONCORD_STAKING_PROGRAM_ADDRESS }, debounce(render), 10_000);
  return () => { stopJobs(); stopProviders(); };
}

export function debounce(f: () => void, ms = 400) {
  let t: ReturnType<typeof setTimeout> | undefined;
  return () => { clearTimeout(t); t = setTimeout(f, ms); };
}
