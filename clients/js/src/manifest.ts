/**
 * The job manifest in TypeScript, byte for byte as `concord_protocol::Manifest`: its JSON
 * interchange form (hashes and uniform bytes as lowercase hex), its canonical bytes (borsh:
 * fields in order, little-endian integers, u32 length prefixes, enum variants as one byte) and
 * its identity, blake3 of the canonical bytes, which is the `manifest_hash` a job carries on
 * chain. `buildJob` assembles a one-pass job from WGSL, inputs and output sizes the way
 * `concord job submit --wgsl` does (inputs bound from binding 0, then the outputs).
 */
import {
  addCodecSizePrefix,
  fixCodecSize,
  getArrayCodec,
  getBytesCodec,
  getDiscriminatedUnionCodec,
  getStructCodec,
  getU32Codec,
  getU64Codec,
  getUtf8Codec,
  type Codec,
} from '@solana/kit';
import { blake3 } from '@noble/hashes/blake3';

/** A content-addressed blob: blake3 hash (hex) and size. */
export interface BlobRef { hash: string; size: bigint }
export type Buffer =
  | { kind: 'input'; hash: string; size: bigint }
  | { kind: 'output'; size: bigint }
  | { kind: 'uniform'; bytes: string }
  | { kind: 'scratch'; size: bigint };
export interface Binding { binding: number; buffer: number }
export interface Pass {
  module: BlobRef;
  entryPoint: string;
  dispatch: [number, number, number];
  bindings: Binding[];
}
export interface Manifest {
  version: number;
  buffers: Buffer[];
  passes: Pass[];
  maxRuntimeMs: bigint;
  gasPerInvocation: number;
}

/** The gas budget of a manifest whose JSON has none (`DEFAULT_GAS_PER_INVOCATION`). */
export const DEFAULT_GAS_PER_INVOCATION = 4096;

export const toHex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
export function fromHex(hex: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(hex)) throw new Error(`not lowercase hex: ${hex.slice(0, 20)}…`);
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** blake3 of `bytes`, as lowercase hex: a blob's name in a content store. */
export const blobHash = (bytes: Uint8Array) => toHex(blake3(bytes));

const hash32 = fixCodecSize(getBytesCodec(), 32);
const bytesU32 = addCodecSizePrefix(getBytesCodec(), getU32Codec());
const blobRefBorsh = getStructCodec([['hash', hash32], ['size', getU64Codec()]]);
const bufferBorsh = getDiscriminatedUnionCodec([
  ['Input', getStructCodec([['hash', hash32], ['size', getU64Codec()]])],
  ['Output', getStructCodec([['size', getU64Codec()]])],
  ['Uniform', getStructCodec([['bytes', bytesU32]])],
  ['Scratch', getStructCodec([['size', getU64Codec()]])],
]);
const manifestBorsh = getStructCodec([
  ['version', getU32Codec()],
  ['buffers', getArrayCodec(bufferBorsh)],
  ['passes', getArrayCodec(getStructCodec([
    ['module', blobRefBorsh],
    ['entryPoint', addCodecSizePrefix(getUtf8Codec(), getU32Codec())],
    ['dispatch', getArrayCodec(getU32Codec(), { size: 3 })],
    ['bindings', getArrayCodec(getStructCodec([['binding', getU32Codec()], ['buffer', getU32Codec()]]))],
  ]))],
  ['maxRuntimeMs', getU64Codec()],
  ['gasPerInvocation', getU32Codec()],
]);

const KIND_TO_VARIANT = { input: 'Input', output: 'Output', uniform: 'Uniform', scratch: 'Scratch' } as const;

/** The canonical bytes (borsh) of a manifest. */
export function canonicalBytes(m: Manifest): Uint8Array {
  return new Uint8Array(manifestBorsh.encode({
    version: m.version,
    buffers: m.buffers.map((b) => {
      switch (b.kind) {
        case 'input': return { __kind: 'Input' as const, hash: fromHex(b.hash), size: b.size };
        case 'uniform': return { __kind: 'Uniform' as const, bytes: fromHex(b.bytes) };
        default: return { __kind: KIND_TO_VARIANT[b.kind], size: b.size };
      }
    }),
    passes: m.passes.map((p) => ({
      module: { hash: fromHex(p.module.hash), size: p.module.size },
      entryPoint: p.entryPoint,
      dispatch: p.dispatch,
      bindings: p.bindings,
    })),
    maxRuntimeMs: m.maxRuntimeMs,
    gasPerInvocation: m.gasPerInvocation,
  }));
}

/** Decodes canonical bytes; trailing bytes are an error, as in Rust. */
export function fromCanonicalBytes(bytes: Uint8Array): Manifest {
  const [m, read] = manifestBorsh.read(bytes, 0);
  if (read !== bytes.length) throw new Error(`${bytes.length - read} trailing bytes after the manifest`);
  return {
    version: m.version,
    buffers: m.buffers.map((b): Buffer => {
      switch (b.__kind) {
        case 'Input': return { kind: 'input', hash: toHex(new Uint8Array(b.hash)), size: b.size };
        case 'Output': return { kind: 'output', size: b.size };
        case 'Uniform': return { kind: 'uniform', bytes: toHex(new Uint8Array(b.bytes)) };
        case 'Scratch': return { kind: 'scratch', size: b.size };
      }
    }),
    passes: m.passes.map((p) => ({
      module: { hash: toHex(new Uint8Array(p.module.hash)), size: p.module.size },
      entryPoint: p.entryPoint,
      dispatch: [p.dispatch[0], p.dispatch[1], p.dispatch[2]],
      bindings: p.bindings.map((b) => ({ binding: b.binding, buffer: b.buffer })),
    })),
    maxRuntimeMs: m.maxRuntimeMs,
    gasPerInvocation: m.gasPerInvocation,
  };
}

/** The manifest's identity: blake3 of its canonical bytes (the on-chain `manifest_hash`). */
export const manifestId = (m: Manifest): Uint8Array => blake3(canonicalBytes(m));

/** Reads the JSON interchange form (`Manifest::to_json`, `concord kernel export`). */
export function manifestFromJson(json: any): Manifest {
  const big = (v: unknown) => BigInt(v as number | string);
  return {
    version: json.version,
    buffers: json.buffers.map((b: any): Buffer => {
      switch (b.kind) {
        case 'input': return { kind: 'input', hash: b.hash, size: big(b.size) };
        case 'output': return { kind: 'output', size: big(b.size) };
        case 'uniform': return { kind: 'uniform', bytes: b.bytes };
        case 'scratch': return { kind: 'scratch', size: big(b.size) };
        default: throw new Error(`unknown buffer kind ${b.kind}`);
      }
    }),
    passes: json.passes.map((p: any) => ({
      module: { hash: p.module.hash, size: big(p.module.size) },
      entryPoint: p.entry_point,
      dispatch: p.dispatch,
      bindings: p.bindings,
    })),
    maxRuntimeMs: big(json.max_runtime_ms),
    gasPerInvocation: json.gas_per_invocation ?? DEFAULT_GAS_PER_INVOCATION,
  };
}

/** The indices of the buffers that form the result, in buffer order. */
export const outputIndices = (m: Manifest) =>
  m.buffers.flatMap((b, i) => (b.kind === 'output' ? [i] : []));

/** A job ready to publish: the manifest and the content of every blob it names. */
export interface Job {
  manifest: Manifest;
  /** WGSL sources by blob hash (hex). */
  modules: Map<string, string>;
  /** Input blobs by hash (hex). */
  blobs: Map<string, Uint8Array>;
}

/** A one-pass job, as `concord job submit --wgsl` builds it: buffer i is bound at binding i. */
export function buildJob(args: {
  wgsl: string;
  entryPoint?: string;
  dispatch: [number, number, number];
  inputs: Uint8Array[];
  outputSizes: number[];
  gasPerInvocation?: number;
  maxRuntimeMs?: number;
}): Job {
  const blobs = new Map<string, Uint8Array>();
  const buffers: Buffer[] = [];
  for (const bytes of args.inputs) {
    const hash = blobHash(bytes);
    blobs.set(hash, bytes);
    buffers.push({ kind: 'input', hash, size: BigInt(bytes.length) });
  }
  for (const size of args.outputSizes) buffers.push({ kind: 'output', size: BigInt(size) });
  const source = new TextEncoder().encode(args.wgsl);
  const module = { hash: blobHash(source), size: BigInt(source.length) };
  return {
    manifest: {
      version: 2,
      buffers,
      passes: [{
        module,
        entryPoint: args.entryPoint ?? 'main',
        dispatch: args.dispatch,
        bindings: buffers.map((_, i) => ({ binding: i, buffer: i })),
      }],
      maxRuntimeMs: BigInt(args.maxRuntimeMs ?? 60_000),
      gasPerInvocation: args.gasPerInvocation ?? DEFAULT_GAS_PER_INVOCATION,
    },
    modules: new Map([[module.hash, args.wgsl]]),
    blobs,
  };
}

export { blobRefBorsh as blobRefCodec, bytesU32 as borshBytesCodec };
export type { Codec };
