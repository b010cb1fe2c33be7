// The TypeScript commitment hash gives the program's bytes: the same fixed vector as the Rust
// test `commitment::tests::the_commitment_of_a_fixed_vector` (offline).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { getAddressDecoder } from '@solana/kit';

const { commitmentHash } = createRequire(import.meta.url)('@concord/client');
const addr = (byte) => getAddressDecoder().decode(new Uint8Array(32).fill(byte));

test('commitmentHash matches the program on a fixed vector', async () => {
  const got = await commitmentHash(addr(1), addr(2), new Uint8Array(32).fill(3), new Uint8Array(32).fill(4));
  assert.equal(Buffer.from(got).toString('hex'), '610b2c40230e354b2e2e576666df6310ef30f4b027e029d84d65247d00a2112b');
  const other = await commitmentHash(addr(1), addr(2), new Uint8Array(32).fill(3), new Uint8Array(32).fill(5));
  assert.notDeepEqual(other, got, 'the salt changes it');
  await assert.rejects(commitmentHash(addr(1), addr(2), new Uint8Array(31), new Uint8Array(32)), RangeError);
});
