/**
 * The programs' events as a dApp or an indexer reads them: `emit_cpi!` puts each event in an
 * inner instruction of the transaction whose data is Anchor's event tag, the event's
 * discriminator and the event (borsh). `eventsOfTransaction` decodes every event of a
 * `getTransaction` result (`json` encoding, at `confirmed` or later).
 */
import { getBase58Encoder } from '@solana/kit';
import { CONCORD_MARKET_EVENTS, type ConcordMarketEvent } from './generated/market';
import { CONCORD_STAKING_EVENTS, type ConcordStakingEvent } from './generated/staking';

/** Anchor's event instruction tag (`EVENT_IX_TAG_LE`), before every emitted event. */
export const EVENT_IX_TAG = new Uint8Array([0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d]);

/** An event of either program, with the program that emitted it. */
export type ConcordEvent =
  | ({ program: 'market' } & ConcordMarketEvent)
  | ({ program: 'staking' } & ConcordStakingEvent);

const startsWith = (data: Uint8Array, prefix: Uint8Array) =>
  data.length >= prefix.length && prefix.every((b, i) => data[i] === b);

/** Decodes an event instruction's data (tag, discriminator, event); null when it is none. */
export function decodeEvent(data: Uint8Array): ConcordEvent | null {
  if (!startsWith(data, EVENT_IX_TAG)) return null;
  const body = data.subarray(EVENT_IX_TAG.length);
  for (const [program, events] of [
    ['market', CONCORD_MARKET_EVENTS],
    ['staking', CONCORD_STAKING_EVENTS],
  ] as const) {
    const event = events.find((e) => startsWith(body, e.discriminator));
    if (event) {
      return { program, name: event.name, data: event.decoder().decode(body) } as ConcordEvent;
    }
  }
  return null;
}

/** The shape of `getTransaction`'s result this reads (json encoding). */
export interface TransactionWithMeta {
  meta: {
    innerInstructions?: ReadonlyArray<{ instructions: ReadonlyArray<{ data: string }> }> | null;
  } | null;
}

/** Every Concord event of a transaction, in emission order. */
export function eventsOfTransaction(tx: TransactionWithMeta): ConcordEvent[] {
  const base58 = getBase58Encoder();
  return (tx.meta?.innerInstructions ?? [])
    .flatMap((inner) => inner.instructions)
    .map((ix) => decodeEvent(new Uint8Array(base58.encode(ix.data))))
    .filter((e): e is ConcordEvent => e !== null);
}
