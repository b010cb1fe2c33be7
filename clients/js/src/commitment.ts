/**
 * The commitment a slot holder posts (`programs/market/src/commitment.rs`):
 * `SHA-256("concord-commit-v1" ‖ job ‖ provider ‖ result_hash ‖ salt)`, with the executor's
 * 32-byte result hash and a secret 32-byte salt. Web Crypto's SHA-256 (browsers, Node 20+).
 */
import { getAddressEncoder, type Address } from '@solana/kit';

/** Domain separator of the commitment. */
export const COMMITMENT_DOMAIN = 'concord-commit-v1';

/** The commitment for `resultHash` in `job` by the slot holder `provider`, hidden by `salt`. */
export async function commitmentHash(
  job: Address,
  provider: Address,
  resultHash: Uint8Array,
  salt: Uint8Array,
): Promise<Uint8Array> {
  if (resultHash.length !== 32 || salt.length !== 32) {
    throw new RangeError('the result hash and the salt are 32 bytes each');
  }
  const enc = getAddressEncoder();
  const parts = [
    new TextEncoder().encode(COMMITMENT_DOMAIN),
    enc.encode(job),
    enc.encode(provider),
    resultHash,
    salt,
  ];
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', data));
}
