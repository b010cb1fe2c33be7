/**
 * A job's result as `concord_protocol::result` defines it, and its verified download:
 * the result hash is blake3 in key-derivation mode (context `"concord 2026 result v1"`) over
 * `u32 count ‖ for each output i: u32 i ‖ u64 len ‖ bytes`; paid providers publish the
 * outputs as one bundle (borsh `Vec<Vec<u8>>`) with a `results/<hash>` pointer (borsh
 * `BlobRef`) to it, as `concord_sdk::results::publish_outputs` writes them.
 */
import { addCodecSizePrefix, getArrayCodec, getBytesCodec, getU32Codec } from '@solana/kit';
import { blake3 } from '@noble/hashes/blake3';
import { blobRefCodec, outputIndices, toHex, type Manifest } from './manifest';
import type { HttpStore } from './store';

/** The blake3 key-derivation context of the result hash. */
export const RESULT_CONTEXT = 'concord 2026 result v1';

/** Result hash of the output buffers, in buffer order. */
export function resultHash(outputs: Uint8Array[]): Uint8Array {
  const h = blake3.create({ context: new TextEncoder().encode(RESULT_CONTEXT) });
  const u32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return b; };
  const u64 = (n: number) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(n), true); return b; };
  h.update(u32(outputs.length));
  outputs.forEach((out, i) => {
    h.update(u32(i));
    h.update(u64(out.length));
    h.update(out);
  });
  return h.digest();
}

/** Why downloaded outputs are not the job's result. */
export class ResultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResultError';
  }
}

/** Checks count, sizes and (when given) the hash of `outputs` against the manifest; returns their hash. */
export function verifyOutputs(manifest: Manifest, outputs: Uint8Array[], expected?: Uint8Array): Uint8Array {
  const indices = outputIndices(manifest);
  if (indices.length !== outputs.length) {
    throw new ResultError(`the job has ${indices.length} output buffers but ${outputs.length} were given`);
  }
  indices.forEach((b, i) => {
    const declared = Number((manifest.buffers[b] as { size: bigint }).size);
    if (declared !== outputs[i].length) {
      throw new ResultError(`output ${i} is ${outputs[i].length} bytes but the manifest declares ${declared}`);
    }
  });
  const actual = resultHash(outputs);
  if (expected && toHex(actual) !== toHex(expected)) {
    throw new ResultError(`the outputs hash to ${toHex(actual)}, not to the agreed result ${toHex(expected)}`);
  }
  return actual;
}

const bundleCodec = getArrayCodec(addCodecSizePrefix(getBytesCodec(), getU32Codec()));

/** The outputs bundle's bytes, as a paid provider publishes them. */
export const encodeOutputsBundle = (outputs: Uint8Array[]) => new Uint8Array(bundleCodec.encode(outputs));

/** Downloads the outputs published under `agreed` and verifies them before returning them. */
export async function downloadResult(store: HttpStore, agreed: Uint8Array, manifest: Manifest): Promise<Uint8Array[]> {
  const pointer = await store.getNamed(`results/${toHex(agreed)}`, 1024);
  const [blob, read] = blobRefCodec.read(pointer, 0);
  if (read !== pointer.length) throw new ResultError('the results pointer is malformed');
  const limit = outputIndices(manifest).reduce((sum, b) => sum + Number((manifest.buffers[b] as { size: bigint }).size) + 16, 64);
  if (Number(blob.size) > limit) throw new ResultError(`the outputs bundle claims ${blob.size} bytes`);
  const bytes = await store.get(toHex(new Uint8Array(blob.hash)), Number(blob.size));
  const [outputs, used] = bundleCodec.read(bytes, 0);
  if (used !== bytes.length) throw new ResultError('the outputs bundle has trailing bytes');
  const list = outputs.map((o) => new Uint8Array(o));
  verifyOutputs(manifest, list, agreed);
  return list;
}
