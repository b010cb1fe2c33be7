/**
 * The buyer flow: pick a kernel of the reproducible library or bring WGSL and input files,
 * set replicas, quorum, price and collateral, then the blobs go to the content store (progress
 * shown), the wallet signs `create_job` (escrowing price × replicas, and one price more as the
 * auditor's pay on a market with audits), and the job's page follows it live.
 */
import { address, createNoopSigner } from '@solana/kit';
import {
  HttpStore, buildJob, findAssociatedTokenAddress, findJobPda, fromHex, manifestFromJson, market as m, publishJob, type Job,
} from '@concord/client';
import { cluster, loadMarket, parseTokens, rpc, tokens } from '../chain';
import { sendFromWallet } from '../send';
import { h, notice, replace } from '../ui';
import { current } from '../wallet';

interface LibraryKernel {
  name: string; ops: number; op_unit: string; manifest: unknown; manifest_id: string;
  modules: Record<string, string>; blobs: Record<string, string>;
}

let library: Promise<LibraryKernel[]> | null = null;
function loadLibrary(): Promise<LibraryKernel[]> {
  library ??= fetch(`${import.meta.env.BASE_URL}library.json`).then(async (r) => {
    if (!r.ok) throw new Error(`library.json: ${r.status}`);
    return (await r.json()).kernels as LibraryKernel[];
  });
  return library;
}

function libraryJob(k: LibraryKernel): Job {
  return {
    manifest: manifestFromJson(k.manifest),
    modules: new Map(Object.entries(k.modules)),
    blobs: new Map(Object.entries(k.blobs).map(([hash, hex]) => [hash, fromHex(hex)])),
  };
}

export function submitPage(root: HTMLElement): () => void {
  const me = current();
  if (!me) {
    replace(root, h('h1', {}, 'New job'), notice('info', 'Connect a wallet (top right) to escrow a job.'));
    return () => {};
  }
  const buyer = address(me.account.address);
  const field = (label: string, input: HTMLElement, hint = '') => h('label', {}, h('span', {}, label), input, hint ? h('small', {}, hint) : null);
  const num = (name: string, value: string, attrs: Record<string, string> = {}) => h('input', { name, value, inputmode: 'decimal', ...attrs });
  const kernel = h('select', { name: 'kernel' });
  const wgsl = h('textarea', { name: 'wgsl', rows: '10', spellcheck: 'false', placeholder: '@group(0) @binding(0) var<storage, read> a: array<u32>;\n…\n@compute @workgroup_size(64) fn main(…) { … }' });
  const inputs = h('input', { name: 'inputs', type: 'file', multiple: true });
  const form = h('form', { class: 'submit', onsubmit: (e: Event) => { e.preventDefault(); go(); } },
    h('fieldset', {}, h('legend', {}, 'What to run'),
      h('label', { class: 'inline' }, h('input', { type: 'radio', name: 'source', value: 'library', checked: true }), ' A kernel of the reproducible library'),
      field('Kernel', kernel),
      h('label', { class: 'inline' }, h('input', { type: 'radio', name: 'source', value: 'wgsl' }), ' Your WGSL'),
      field('WGSL', wgsl),
      h('div', { class: 'row' },
        field('Entry point', num('entry', 'main')),
        field('Dispatch x,y,z', num('dispatch', '1,1,1')),
        field('Gas per invocation', num('gas', '4096'), 'loop iterations one invocation may run')),
      h('div', { class: 'row' },
        field('Input files', inputs, 'bound in order from binding 0'),
        field('Output sizes (bytes)', num('outputs', '1024'), 'comma-separated, bound after the inputs'))),
    h('fieldset', {}, h('legend', {}, 'Terms'),
      h('div', { class: 'row' },
        field('Replicas', num('replicas', '3', { type: 'number', min: '3', max: '5' })),
        field('Quorum', num('quorum', '', { placeholder: 'majority' })),
        field('Price per replica', num('price', '2'), 'tokens'),
        field('Collateral per replica', num('collateral', '3'), 'tokens, locked by each provider')),
      h('div', { class: 'row' },
        field('Claim window', num('claim', '600'), 'seconds'),
        field('Execution window', num('exec', '600'), 'seconds'),
        field('Reveal window', num('reveal', '600'), 'seconds'),
        field('Min GPU memory', num('memory', '0'), 'MiB'))),
    h('p', { class: 'summary', 'data-testid': 'summary' }),
    h('button', { class: 'primary', type: 'submit', 'data-testid': 'escrow' }, 'Upload and escrow'),
  );
  const status = h('div', { 'data-testid': 'submit-status' });
  replace(root, h('h1', {}, 'New job'), form, status);
  const val = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
  const summary = form.querySelector('.summary') as HTMLElement;

  const updateSummary = async () => {
    try {
      const info = await loadMarket();
      const d = info.decimals;
      const price = parseTokens(val('price'), d);
      const r = BigInt(val('replicas'));
      const deposit = price * (r + (info.config.params.auditBps > 0 ? 1n : 0n));
      const ata = await findAssociatedTokenAddress(buyer, info.config.paymentMint, info.tokenProgram);
      const bal = await rpc.getTokenAccountBalance(ata, { commitment: 'confirmed' }).send().then((b) => BigInt(b.value.amount), () => 0n);
      replace(summary, `Escrow: ${tokens(deposit, d)} tokens`,
        info.config.params.auditBps > 0 ? ` (${r} replicas + one price reserved for a possible audit, refunded if none is drawn)` : ` (${r} replicas)`,
        `; fee ${info.config.params.feeBps / 100} % of each paid replica. Your balance: ${tokens(bal, d)} tokens.`);
    } catch (e) {
      replace(summary, (e as Error).message);
    }
  };
  form.addEventListener('input', updateSummary);
  updateSummary();
  loadLibrary().then((ks) => {
    replace(kernel, ...ks.map((k) => h('option', { value: k.name }, `${k.name} (${k.ops.toLocaleString()} ${k.op_unit})`)));
  }, (e) => replace(kernel, h('option', {}, `library unavailable: ${e.message}`)));

  const buildFromForm = async (): Promise<Job> => {
    if ((form.elements.namedItem('source') as RadioNodeList).value === 'library') {
      const k = (await loadLibrary()).find((x) => x.name === kernel.value);
      if (!k) throw new Error('pick a kernel');
      return libraryJob(k);
    }
    if (!wgsl.value.trim()) throw new Error('paste your WGSL');
    const dispatch = val('dispatch').split(',').map((x) => Number(x.trim()));
    if (dispatch.length !== 3 || dispatch.some((x) => !Number.isInteger(x) || x < 1)) throw new Error('dispatch is x,y,z workgroup counts');
    const outputs = val('outputs').split(',').filter((x) => x.trim()).map((x) => Number(x.trim()));
    if (outputs.length === 0 || outputs.some((x) => !Number.isInteger(x) || x < 1)) throw new Error('give at least one output size in bytes');
    const files = await Promise.all([...(inputs.files ?? [])].map(async (f) => new Uint8Array(await f.arrayBuffer())));
    return buildJob({ wgsl: wgsl.value, entryPoint: val('entry') || 'main', dispatch: dispatch as [number, number, number], inputs: files, outputSizes: outputs, gasPerInvocation: Number(val('gas')) });
  };

  const go = async () => {
    const button = form.querySelector('button[type=submit]') as HTMLButtonElement;
    button.disabled = true;
    const stage = (text: string) => replace(status, notice('info', text));
    try {
      const info = await loadMarket();
      const d = info.decimals;
      const replicas = Number(val('replicas'));
      const quorum = val('quorum') ? Number(val('quorum')) : Math.floor(replicas / 2) + 1;
      const price = parseTokens(val('price'), d);
      const collateral = parseTokens(val('collateral'), d);
      const job = await buildFromForm();
      const store = new HttpStore(cluster.store);
      stage('Uploading the job to the store…');
      const manifestHash = await publishJob(store, job, (done, total) => stage(`Uploading the job to ${store.base}: ${done} of ${total} blobs`));
      const jobId = BigInt(Date.now());
      const [jobAddress] = await findJobPda(buyer, jobId);
      const ix = await m.getCreateJobInstructionAsync({
        buyer: createNoopSigner(buyer),
        job: jobAddress,
        buyerToken: await findAssociatedTokenAddress(buyer, info.config.paymentMint, info.tokenProgram),
        paymentMint: info.config.paymentMint,
        tokenProgram: info.tokenProgram,
        jobId,
        manifestHash,
        manifestUri: store.base,
        requirements: { minMemoryMib: Number(val('memory') || 0), requiredFeatures: 0n, backends: 0 },
        replicas, quorum,
        pricePerReplica: price, collateralPerReplica: collateral,
        claimWindow: BigInt(val('claim')), execWindow: BigInt(val('exec')), revealWindow: BigInt(val('reveal')),
        maxFeeBps: info.config.params.feeBps,
      });
      await sendFromWallet([ix], (s) => stage(`create_job: ${s}…`));
      location.hash = `#/job/${jobAddress}`;
    } catch (e) {
      replace(status, notice('error', (e as Error).message, { 'data-testid': 'submit-error' }));
    } finally {
      button.disabled = false;
    }
  };
  return () => {};
}
