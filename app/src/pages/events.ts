/** Events as people read them: the event's name and its fields (amounts in tokens). */
import { toHex, type ConcordEvent } from '@concord/client';
import { tokens, short } from '../chain';
import { h } from '../ui';

/** u64 fields that hold token amounts (u8 counts such as `paid` are numbers, not bigints). */
const AMOUNT = /amount|deposit|refund|due|price|fee|stake|staked|total|collateral|locked|paid|slashed|earned|unbonding/i;
const TIME = /deadline|At$/i;

export function field(key: string, v: unknown, d: number): string {
  if (typeof v === 'bigint') {
    if (AMOUNT.test(key)) return tokens(v, d);
    if (TIME.test(key) && v > 1_000_000_000n) return new Date(Number(v) * 1000).toLocaleTimeString();
    return v.toString();
  }
  if (v instanceof Uint8Array) return short(toHex(v), 8);
  if (v && typeof v === 'object' && '__option' in v) {
    const o = v as unknown as { __option: string; value?: unknown };
    return o.__option === 'Some' ? field(key, o.value, d) : '—';
  }
  if (typeof v === 'string' && v.length > 30) return short(v, 6);
  return String(v);
}

export function eventList(events: ConcordEvent[], d: number) {
  return h('ul', { class: 'events' }, events.map((e) =>
    h('li', {}, h('b', {}, e.name), ' ',
      Object.entries(e.data as Record<string, unknown>).filter(([k]) => k !== 'job').map(([k, v]) => `${k} ${field(k, v, d)}`).join(' · '))));
}
