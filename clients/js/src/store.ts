/**
 * A content store over HTTP, as `concord_sdk::store::BlobStore::http` uses one: `PUT <base>/<name>`
 * writes, `GET`/`HEAD` read; a blob's name is its blake3 hash in hex, and every read is checked
 * against it. Works in browsers (`fetch`) and in node. `publishJob` uploads a job's modules,
 * inputs and manifest the way `concord_sdk::results::publish_job` does.
 */
import { blobHash, canonicalBytes, manifestId, toHex, type Job } from './manifest';

/** A failed store request, with what was asked and what the store answered. */
export class StoreError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'StoreError';
  }
}

export class HttpStore {
  readonly base: string;
  constructor(base: string) {
    this.base = base.replace(/\/+$/, '');
  }

  private async request(method: string, name: string, body?: Uint8Array): Promise<Response> {
    const url = `${this.base}/${name}`;
    let response: Response;
    try {
      response = await fetch(url, { method, body: body as BodyInit | undefined });
    } catch (e) {
      throw new StoreError(`the store at ${this.base} is unreachable: ${(e as Error).message}`);
    }
    return response;
  }

  /** Stores `bytes` under `name` (a hash, or a named record such as `results/<hex>`). */
  async putNamed(name: string, bytes: Uint8Array): Promise<void> {
    const r = await this.request('PUT', name, bytes);
    if (!r.ok) throw new StoreError(`the store refused ${name}: ${r.status} ${await r.text()}`, r.status);
  }

  /** Stores `bytes` under their hash unless a blob of that name and size is there; returns the hash. */
  async put(bytes: Uint8Array): Promise<string> {
    const hash = blobHash(bytes);
    const head = await this.request('HEAD', hash);
    if (!(head.ok && Number(head.headers.get('content-length')) === bytes.length)) {
      await this.putNamed(hash, bytes);
    }
    return hash;
  }

  /** Reads `name`, refusing more than `maxBytes`. */
  async getNamed(name: string, maxBytes: number): Promise<Uint8Array> {
    const r = await this.request('GET', name);
    if (r.status === 404) throw new StoreError(`${name} is not in the store at ${this.base}`, 404);
    if (!r.ok) throw new StoreError(`the store answered ${r.status} for ${name}`, r.status);
    const declared = Number(r.headers.get('content-length') ?? 0);
    if (declared > maxBytes) throw new StoreError(`${name} is ${declared} bytes, over the ${maxBytes} allowed`);
    const bytes = new Uint8Array(await r.arrayBuffer());
    if (bytes.length > maxBytes) throw new StoreError(`${name} is ${bytes.length} bytes, over the ${maxBytes} allowed`);
    return bytes;
  }

  /** Reads blob `hash` and checks that its bytes hash to it. */
  async get(hash: string, maxBytes: number): Promise<Uint8Array> {
    const bytes = await this.getNamed(hash, maxBytes);
    const actual = blobHash(bytes);
    if (actual !== hash) throw new StoreError(`the store returned bytes hashing to ${actual} for blob ${hash}`);
    return bytes;
  }
}

/**
 * Uploads a job's modules, inputs and manifest (canonical bytes, last); returns the manifest's
 * identity, the job's on-chain `manifest_hash`. `progress(done, total)` after each blob.
 */
export async function publishJob(
  store: HttpStore,
  job: Job,
  progress: (done: number, total: number) => void = () => {},
): Promise<Uint8Array> {
  const encoder = new TextEncoder();
  const blobs = [...[...job.modules.values()].map((s) => encoder.encode(s)), ...job.blobs.values()];
  const total = blobs.length + 1;
  let done = 0;
  for (const bytes of blobs) {
    await store.put(bytes);
    progress(++done, total);
  }
  const id = manifestId(job.manifest);
  const stored = await store.put(canonicalBytes(job.manifest));
  if (stored !== toHex(id)) throw new Error('the manifest blob does not hash to the manifest identity');
  progress(total, total);
  return id;
}
