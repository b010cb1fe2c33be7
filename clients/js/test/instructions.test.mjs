// Every instruction of both programs, built with the generated client and sent to a real local
// chain (concord-localnet, started here): each either succeeds, with its effect checked on the
// decoded accounts, on token balances and on the events it emitted (decoded with
// `eventsOfTransaction`), or fails with the named error the Rust tests (tests/it) expect for that
// situation, recognised with the generated `isConcord…Error` and found by name in the program's
// logs. Decoded accounts are compared with what the Rust side reads (the `concord` CLI).
//
// The story: the admin turns audits off (`update_market`), pauses and resumes the market; three
// providers register, stake and join the draws; a buyer creates four jobs (audits are then turned
// back on: jobs keep the rate they were created with). Job A lives a whole life (the drawn
// providers claim, commit, reveal; settle pays them; close moves the fees), job D settles with a
// provider that never committed (slashed, then burned by close), job B is redrawn and cancelled
// with a claimed slot (compensated), job C expires unfilled (refunded); the admin withdraws the
// fees. A fourth provider unbonds, withdraws and closes its account (the admin shortens the
// unbonding period for it and restores it). What cannot succeed here (initialization again,
// collateral calls by anyone but the market, audits on a market without audits, a dispute's
// settlement without a dispute…) fails by name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  AccountRole,
  address,
  appendTransactionMessageInstructions,
  createKeyPairSignerFromBytes,
  createTransactionMessage,
  getSignatureFromTransaction,
  isSolanaError,
  pipe,
  SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from '@solana/kit';
import { associatedTokenAccount, binary, startChain } from '../testing/chain.mjs';

const {
  market, staking, commitmentHash, eventsOfTransaction, findJobPda, toHex,
  settleInstruction, cancelInstruction, settleStep, slotAccounts, withRemainingAccounts,
} = createRequire(import.meta.url)('@concord/client');

const CLOCK = address('SysvarC1ock11111111111111111111111111111111');
const confirmed = { commitment: 'confirmed' };
const PRICE = 1_000_000n;
const COLLATERAL = 1_000_000n;
const STAKE = 5_000_000n;
const R = new Uint8Array(32).fill(0x5a); // the result hash every honest replica reveals
const OTHER = new Uint8Array(32).fill(0x77);

let chain, rpc, admin, outsider, buyer, buyerToken, mint, tokenProgram, drawSet, decimals;
let marketConfigAddress, stakingConfigAddress, feeVault, fee, takeWindow;
/** The three providers in the draws: { signer, provider (PDA), vault, token, index }. */
const ps = [];
/** The jobs by name: { address, args, deposit, ... }. */
const jobs = {};

// ---------------------------------------------------------------------------------------------
// Helpers: sending, errors, events, time, balances, the Rust CLI.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something truthy (generous limit: slow machines). */
async function until(what, fn, limitMs = 90_000, everyMs = 300) {
  const end = Date.now() + limitMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Sends `instructions` paid by `payer`: `{ signature, message }` once confirmed, or
 * `{ error, message, logs }` when the transaction fails (the preflight simulation's logs).
 * Legacy messages: a fresh local chain includes version 0 transactions only from about slot 32
 * on (some 25 s after its start), legacy ones at once. */
async function send(payer, instructions) {
  const { value: blockhash } = await rpc.getLatestBlockhash(confirmed).send();
  const message = pipe(
    createTransactionMessage({ version: 'legacy' }),
    (m) => setTransactionMessageFeePayerSigner(payer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  const transaction = await signTransactionMessageWithSigners(message);
  const signature = getSignatureFromTransaction(transaction);
  try {
    await chain.sendAndConfirm(transaction, confirmed);
    return { signature, message };
  } catch (error) {
    return { error, message, logs: error.context?.logs ?? error.cause?.context?.logs ?? [] };
  }
}

const explain = (r) => `${r.error?.message} (${r.error?.cause?.message})\n${(r.logs ?? []).join('\n')}`;

/** Sends and requires success; returns `{ signature, events }`. */
async function ok(what, payer, instructions) {
  const r = await send(payer, instructions);
  assert.ok(!r.error, `${what} failed: ${explain(r)}`);
  return { signature: r.signature, events: await eventsOf(r.signature) };
}

/** The generated client's view of `program`'s error `name` (PascalCase, as the Rust enum):
 * its code (`CONCORD_MARKET_ERROR__NOT_A_SLOT_HOLDER`…), its message, and its matcher. */
function programError(program, name) {
  const generated = program === 'market' ? market : staking;
  const upper = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toUpperCase();
  const constant = `CONCORD_${program.toUpperCase()}_ERROR__${upper}`;
  const code = generated[constant];
  assert.equal(typeof code, 'number', `the generated client has no ${constant}`);
  return program === 'market'
    ? { code, message: market.getConcordMarketErrorMessage(code), is: market.isConcordMarketError }
    : { code, message: staking.getConcordStakingErrorMessage(code), is: staking.isConcordStakingError };
}

/** Whether the failed send `r` failed with `program`'s error `name`. */
function failedWith(r, program, name) {
  const { code, is } = programError(program, name);
  return Boolean(r.error) && is(r.error.cause ?? r.error, r.message, code);
}

/** Sends and requires `program`'s error `name`: by the generated client's matcher, and in the
 * program's own log line (Anchor's `Error Code: <name>. Error Number: <code>. Error Message:
 * <the generated message>`). */
async function refused(what, program, name, payer, instructions) {
  const r = await send(payer, instructions);
  assert.ok(r.error, `${what} succeeded; expected ${name}`);
  assert.ok(failedWith(r, program, name), `${what}: not ${name}: ${explain(r)}`);
  const { code, message } = programError(program, name);
  const line = r.logs.find((l) => l.includes(`Error Code: ${name}. Error Number: ${code}.`));
  assert.ok(line, `${what}: no log line names ${name}:\n${r.logs.join('\n')}`);
  assert.ok(line.includes(`Error Message: ${message}`), `${what}: log line ${line} lacks "${message}"`);
  return r;
}

/** Sends and requires the system program's AccountAlreadyInUse (custom error 0, "already in
 * use" in the logs): what re-initializing an `init` account gives, as tests/it expect. */
async function alreadyInUse(what, payer, instructions) {
  const r = await send(payer, instructions);
  assert.ok(r.error, `${what} succeeded; expected AccountAlreadyInUse`);
  const cause = r.error.cause ?? r.error;
  assert.ok(isSolanaError(cause, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM) && cause.context.code === 0,
    `${what}: not the system program's AccountAlreadyInUse: ${explain(r)}`);
  assert.ok(r.logs.some((l) => /Allocate: account .* already in use/.test(l)), `${what}: ${r.logs.join('\n')}`);
  assert.ok(r.logs.some((l) => l === 'Program 11111111111111111111111111111111 failed: custom program error: 0x0'),
    r.logs.join('\n'));
}

/** Sends and requires Anchor's own error `name` (`code`: AccountNotInitialized 3012…), which
 * the generated client has no matcher for: by its code and its log line. */
async function anchorRefused(what, name, code, payer, instructions) {
  const r = await send(payer, instructions);
  assert.ok(r.error, `${what} succeeded; expected ${name}`);
  const cause = r.error.cause ?? r.error;
  assert.ok(isSolanaError(cause, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM) && cause.context.code === code,
    `${what}: not ${name}: ${explain(r)}`);
  assert.ok(r.logs.some((l) => l.includes(`Error Code: ${name}. Error Number: ${code}.`)), `${what}: ${r.logs.join('\n')}`);
}

/** The Concord events of a confirmed transaction, decoded by the client. */
async function eventsOf(signature) {
  const tx = await until(`transaction ${signature}`, () =>
    rpc.getTransaction(signature, { ...confirmed, encoding: 'json', maxSupportedTransactionVersion: 0 }).send(), 60_000, 100);
  const events = eventsOfTransaction(tx);
  // Where and when it ran: the slot, and the bank's clock (`Clock::unix_timestamp`).
  events.slot = tx.slot;
  events.blockTime = tx.blockTime;
  return events;
}

/** The events called `name` of `program`. */
const named = (events, name, program = 'market') => events.filter((e) => e.name === name && e.program === program).map((e) => e.data);

/** The one event called `name`. */
function one(events, name, program = 'market') {
  const found = named(events, name, program);
  assert.equal(found.length, 1, `one ${program} ${name} expected in ${JSON.stringify(events.map((e) => e.name))}`);
  return found[0];
}

/** The chain's clock (the Clock sysvar's unix_timestamp), as programs read it. */
async function chainTime() {
  const { value } = await rpc.getAccountInfo(CLOCK, { ...confirmed, encoding: 'base64' }).send();
  return Buffer.from(value.data[0], 'base64').readBigInt64LE(32);
}

const waitChainTime = (what, atLeast) => until(what, async () => (await chainTime()) >= atLeast, 120_000);

async function tokens(account) {
  const { value } = await rpc.getTokenAccountBalance(account, confirmed).send();
  return BigInt(value.amount);
}

async function lamports(account) {
  return (await rpc.getBalance(account, confirmed).send()).value;
}

const fetchJob = async (job) => (await market.fetchJob(rpc, job, confirmed)).data;
const fetchProvider = async (p) => (await staking.fetchProvider(rpc, p.provider, confirmed)).data;

/** `concord --output json <args>` against the chain; integers of 16 digits and more are kept
 * exact (as strings) instead of rounding to doubles. */
function cli(...args) {
  const out = execFileSync(binary('concord'), ['-u', chain.info.rpc_url, '--output', 'json', ...args], { encoding: 'utf8' });
  return JSON.parse(out.replace(/([:,[]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"$2"'));
}

/** `units` of the payment mint in whole units, as the Rust SDK prints them (`Mint::format`). */
function format(units) {
  const scale = 10n ** BigInt(decimals);
  const frac = units % scale;
  if (frac === 0n) return `${units / scale}`;
  return `${units / scale}.${frac.toString().padStart(decimals, '0').replace(/0+$/, '')}`;
}

const eqInt = (shown, decoded, what) => assert.equal(BigInt(shown), BigInt(decoded), what);
const lower = (enumeration, value) => enumeration[value].toLowerCase();
const optionHex = (o) => (o.__option === 'Some' ? toHex(new Uint8Array(o.value)) : null);

/** The decoded job equals what `concord job status` reads. */
async function jobMatchesCli(job) {
  const d = await fetchJob(job);
  const shown = cli('job', 'status', job);
  assert.equal(shown.job, job);
  assert.equal(shown.buyer, d.buyer);
  eqInt(shown.job_id, d.jobId, 'job_id');
  assert.equal(shown.state, lower(market.JobState, d.state));
  assert.equal(shown.manifest_hash, toHex(new Uint8Array(d.manifestHash)));
  assert.equal(shown.manifest_uri, d.manifestUri);
  for (const [k, v] of [['replicas', d.replicas], ['quorum', d.quorum], ['filled', d.filled],
    ['committed', d.committed], ['revealed', d.revealed], ['draw_round', d.drawRound],
    ['referees', d.referees], ['audit_bps', d.auditBps]]) {
    assert.equal(shown[k], v, k);
  }
  assert.equal(shown.price_per_replica, format(d.pricePerReplica));
  assert.equal(shown.collateral_per_replica, format(d.collateralPerReplica));
  for (const [k, v] of [['claim_deadline', d.claimDeadline], ['seed_slot', d.seedSlot],
    ['exec_deadline', d.execDeadline], ['reveal_deadline', d.revealDeadline]]) {
    eqInt(shown[k], v, k);
  }
  assert.equal(shown.agreed_hash, optionHex(d.agreedHash));
  // Our jobs: created with audits off, never disputed.
  assert.equal(d.referees, 0);
  assert.equal(shown.dispute, 'none');
  assert.equal(d.auditBps, 0);
  assert.equal(shown.audit, 'off');
  assert.equal(shown.slots.length, d.filled);
  shown.slots.forEach((s, i) => {
    const slot = d.slots[i];
    assert.equal(s.role, i < d.replicas ? 'replica' : 'auditor');
    assert.equal(s.provider, slot.provider);
    assert.equal(s.status, lower(market.SlotStatus, slot.status));
    assert.equal(s.outcome, lower(market.SlotOutcome, slot.outcome));
    assert.equal(s.result_hash, slot.status === market.SlotStatus.Revealed ? toHex(new Uint8Array(slot.resultHash)) : null);
  });
  return d;
}

/** The decoded provider equals what `concord provider show` reads. */
async function providerMatchesCli(authority) {
  const [pda] = await staking.findProviderPda({ authority });
  const d = (await staking.fetchProvider(rpc, pda, confirmed)).data;
  const shown = cli('provider', 'show', authority);
  assert.equal(shown.authority, d.authority);
  assert.equal(shown.gpu, d.hardware.gpuName);
  assert.equal(shown.memory_mib, d.hardware.memoryMib);
  assert.equal(shown.backend, d.hardware.backend);
  eqInt(shown.features, d.hardware.features, 'features');
  assert.equal(shown.accepting_jobs, d.acceptingJobs);
  for (const k of ['staked', 'locked', 'unbonding']) assert.equal(shown[k], format(d[k]), k);
  eqInt(shown.unbonding_release_at, d.unbondingReleaseAt, 'unbonding_release_at');
  eqInt(shown.jobs_claimed, d.stats.jobsClaimed, 'jobs_claimed');
  eqInt(shown.jobs_paid, d.stats.jobsPaid, 'jobs_paid');
  eqInt(shown.jobs_slashed, d.stats.jobsSlashed, 'jobs_slashed');
  assert.equal(shown.earned, format(d.stats.earned));
  assert.equal(shown.slashed, format(d.stats.slashed));
  assert.equal(shown.metadata_uri, d.metadataUri);
  return d;
}

/** The decoded market and staking configs equal what `concord market show` reads. */
async function marketMatchesCli() {
  const m = (await market.fetchMarketConfig(rpc, marketConfigAddress, confirmed)).data;
  const s = (await staking.fetchStakingConfig(rpc, stakingConfigAddress, confirmed)).data;
  const shown = cli('market', 'show');
  assert.equal(shown.market_program, market.CONCORD_MARKET_PROGRAM_ADDRESS);
  assert.equal(shown.staking_program, staking.CONCORD_STAKING_PROGRAM_ADDRESS);
  assert.equal(shown.admin, m.admin);
  assert.equal(shown.treasury, m.treasury);
  assert.equal(shown.fee_vault, feeVault);
  assert.equal(shown.payment_mint, m.paymentMint);
  assert.equal(shown.freeze_authority_trusted, s.freezeAuthorityTrusted);
  assert.equal(shown.paused, m.paused);
  assert.equal(shown.fee_bps, m.params.feeBps);
  assert.deepEqual(shown.replicas, [m.params.minReplicas, m.params.maxReplicas]);
  eqInt(shown.price_per_replica[0], m.params.minPricePerReplica, 'min price');
  eqInt(shown.price_per_replica[1], m.params.maxPricePerReplica, 'max price');
  eqInt(shown.min_collateral_per_replica, m.params.minCollateralPerReplica, 'min collateral');
  eqInt(shown.window_seconds[0], m.params.minWindow, 'min window');
  eqInt(shown.window_seconds[1], m.params.maxWindow, 'max window');
  eqInt(shown.take_window_seconds, m.params.takeWindow, 'take window');
  assert.equal(shown.audit_bps, m.params.auditBps);
  assert.equal(shown.draw_set, m.drawSet);
  eqInt(shown.min_stake, s.minStake, 'min stake');
  eqInt(shown.unbonding_period, s.unbondingPeriod, 'unbonding period');
  return { m, s };
}

/** `instruction` with `accounts` appended (remaining accounts), all writable. */
const withRemaining = (instruction, accounts) =>
  withRemainingAccounts(instruction, accounts.map((a) => ({ address: a, role: AccountRole.WRITABLE })));

/** The per-slot accounts settle and cancel_job take, from the client (`slotAccounts`): each
 * slot holder's staking provider, payout token account and stake vault, in slot order. */
const slotsOf = async (job) => (await slotAccounts(job.slots.slice(0, job.filled), mint, tokenProgram)).map((m) => m.address);
const mintInfo = () => ({ address: mint, tokenProgram });

const escrow = (job) => ({ job, buyerToken, paymentMint: mint, tokenProgram });

/** The claims of `job` by `claimers`, in one transaction (slots in this order), retried while
 * the draw's seed slot is not produced yet (DrawNotReady) or the job's creation slot is still
 * current (ClaimInCreationSlot); any other refusal fails. Checks SlotClaimed, and JobStarted
 * when the last slot is taken. Returns the events. */
async function claimAll(job, claimers) {
  const instructions = await Promise.all(claimers.map((p) =>
    market.getClaimSlotInstructionAsync({ providerAuthority: p.signer, drawSet, job })));
  const r = await until(`the claims of ${job}`, async () => {
    const r = await send(claimers[0].signer, instructions);
    if (!r.error) return r;
    if (failedWith(r, 'market', 'DrawNotReady') || failedWith(r, 'market', 'ClaimInCreationSlot')) return null;
    assert.fail(`claim refused: ${explain(r)}`);
  }, 120_000, 250);
  const events = await eventsOf(r.signature);
  const d = await fetchJob(job);
  assert.deepEqual(named(events, 'SlotClaimed'),
    claimers.map((p, slot) => ({ job, providerAuthority: p.signer.address, slot })));
  assert.deepEqual(named(events, 'CollateralLocked', 'staking').map((e) => [e.provider, e.amount]),
    claimers.map((p) => [p.provider, COLLATERAL]));
  claimers.forEach((p, i) => {
    assert.equal(d.slots[i].provider, p.signer.address);
    assert.equal(d.slots[i].status, market.SlotStatus.Claimed);
  });
  assert.equal(d.filled, claimers.length);
  if (d.filled === d.replicas) {
    assert.deepEqual(one(events, 'JobStarted'), { job, execDeadline: d.execDeadline, revealDeadline: d.revealDeadline });
    assert.equal(d.execDeadline, events.blockTime + d.execWindow, 'the last claim starts the execution window');
    assert.equal(d.state, market.JobState.Running);
    assert.equal(d.revealDeadline, d.execDeadline + d.revealWindow);
  } else {
    assert.equal(named(events, 'JobStarted').length, 0);
    assert.equal(d.state, market.JobState.Open);
  }
  return events;
}

/** Each of `entries` ([provider, hash, salt]) commits to its result in `job`, in one
 * transaction; checks ResultCommitted and the slots. */
async function commit(job, entries) {
  const commitments = await Promise.all(entries.map(([p, hash, salt]) => commitmentHash(job, p.signer.address, hash, salt)));
  const instructions = await Promise.all(entries.map(([p], i) =>
    market.getCommitResultInstructionAsync({ providerAuthority: p.signer, job, commitment: commitments[i] })));
  const { events } = await ok('commit_result', entries[0][0].signer, instructions);
  assert.deepEqual(named(events, 'ResultCommitted').map((e) => ({ ...e, commitment: [...e.commitment] })),
    entries.map(([p], i) => ({ job, providerAuthority: p.signer.address, commitment: [...commitments[i]] })));
  const d = await fetchJob(job);
  entries.forEach(([p], i) => {
    const slot = d.slots.find((s) => s.provider === p.signer.address);
    assert.equal(slot.status, market.SlotStatus.Committed);
    assert.deepEqual([...slot.commitment], [...commitments[i]]);
  });
}

const revealIx = (p, job, resultHash, salt) =>
  market.getRevealResultInstructionAsync({ providerAuthority: p.signer, job, resultHash, salt });

/** Each of `entries` ([provider, hash, salt]) reveals in `job`, in one transaction; checks
 * ResultRevealed and the slots. */
async function reveal(job, entries) {
  const instructions = await Promise.all(entries.map(([p, hash, salt]) => revealIx(p, job, hash, salt)));
  const { events } = await ok('reveal_result', entries[0][0].signer, instructions);
  assert.deepEqual(named(events, 'ResultRevealed').map((e) => ({ ...e, resultHash: [...e.resultHash] })),
    entries.map(([p, hash]) => ({ job, providerAuthority: p.signer.address, resultHash: [...hash] })));
  const d = await fetchJob(job);
  for (const [p, hash] of entries) {
    const slot = d.slots.find((s) => s.provider === p.signer.address);
    assert.equal(slot.status, market.SlotStatus.Revealed);
    assert.deepEqual([...slot.resultHash], [...hash]);
  }
}

const salt = (i) => new Uint8Array(32).fill(i + 1);

function jobArgs(jobId, fill, windows = {}) {
  return {
    jobId,
    manifestHash: new Uint8Array(32).fill(fill),
    manifestUri: `https://example.org/manifests/${fill}.json`,
    requirements: { minMemoryMib: 0, requiredFeatures: 0n, backends: 0 },
    replicas: 3,
    quorum: 2,
    pricePerReplica: PRICE,
    collateralPerReplica: COLLATERAL,
    // Generous windows: a loaded machine may take a while to get its claims in.
    claimWindow: 300n,
    execWindow: 300n,
    revealWindow: 300n,
    maxFeeBps: 500,
    ...windows,
  };
}

async function createJobIx(args, signer = buyer) {
  const [job] = await findJobPda(signer.address, args.jobId);
  return { job, instruction: await market.getCreateJobInstructionAsync({ buyer: signer, job, ...escrow(job), ...args }) };
}

/** Creates a job (`early` runs as soon as it landed) and checks its account, its events and its
 * escrow. */
async function createJob(args, early = async () => {}) {
  const { job, instruction } = await createJobIx(args);
  const r = await send(buyer, [instruction]);
  assert.ok(!r.error, `create_job failed: ${explain(r)}`);
  await early(job);
  const events = await eventsOf(r.signature);
  const d = await fetchJob(job);
  const deposit = PRICE * 3n; // audits off: no auditor's price escrowed
  const created = one(events, 'JobCreated');
  assert.equal(created.job, job);
  assert.equal(created.buyer, buyer.address);
  assert.equal(created.jobId, args.jobId);
  assert.equal(d.jobId, args.jobId);
  assert.deepEqual([...created.manifestHash], [...args.manifestHash]);
  assert.deepEqual([...d.manifestHash], [...args.manifestHash]);
  assert.equal(created.replicas, 3);
  assert.equal(created.quorum, 2);
  assert.equal(created.pricePerReplica, PRICE);
  assert.equal(created.deposit, deposit);
  assert.equal(created.claimDeadline, d.claimDeadline);
  assert.equal(d.claimDeadline, d.createdAt + args.claimWindow);
  const round = one(events, 'DrawRoundBegun');
  assert.deepEqual(round, { job, round: 0, seedSlot: d.seedSlot, slots: 3 });
  assert.equal(d.createdSlot, events.slot, 'created in the slot of its transaction');
  assert.equal(d.createdAt, events.blockTime);
  assert.equal(d.roundStartedAt, events.blockTime);
  assert.equal(d.seedSlot, d.createdSlot + 4n, 'seeded SEED_DELAY_SLOTS later');
  assert.equal(d.state, market.JobState.Open);
  assert.equal(d.auditBps, 0);
  assert.equal(d.escrowOwed, deposit);
  assert.equal(d.feePerReplica, fee);
  const [vault] = await market.findVaultPda({ job });
  assert.equal(await tokens(vault), deposit);
  await jobMatchesCli(job);
  return { address: job, args, deposit };
}

// ---------------------------------------------------------------------------------------------

before(async () => {
  chain = await startChain();
  rpc = chain.rpc;
  ({ paymentMint: mint, tokenProgram } = chain);
  decimals = chain.info.decimals;
  const key = JSON.parse(readFileSync(join(chain.info.ledger, 'admin-keypair.json'), 'utf8'));
  admin = await createKeyPairSignerFromBytes(Uint8Array.from(key));
  assert.equal(admin.address, chain.info.admin);
  [marketConfigAddress] = await market.findConfigPda();
  [stakingConfigAddress] = await staking.findConfigPda();
  [feeVault] = await market.findFeeVaultPda();
  const config = (await market.fetchMarketConfig(rpc, marketConfigAddress, confirmed)).data;
  drawSet = config.drawSet;
  takeWindow = config.params.takeWindow;
  fee = (PRICE * BigInt(config.params.feeBps)) / 10_000n;
  let signers;
  [outsider, buyer, ...signers] = await Promise.all([0, 1, 2, 3, 4].map(() => chain.funded()));
  buyerToken = await associatedTokenAccount(buyer.address, mint, tokenProgram);
  for (const signer of signers) {
    const [provider] = await staking.findProviderPda({ authority: signer.address });
    const [vault] = await staking.findStakeVaultPda({ provider });
    ps.push({ signer, provider, vault, token: await associatedTokenAccount(signer.address, mint, tokenProgram) });
  }
});

after(() => chain?.stop());

test('the admin: update_market and set_paused succeed; outsiders, a paused market and re-initialization fail by name', async () => {
  const { m } = await marketMatchesCli();
  assert.equal(m.admin, admin.address);
  assert.equal(m.treasury, chain.info.treasury);
  assert.equal(m.paymentMint, mint);
  assert.equal(m.params.auditBps, 7000);
  assert.equal(m.paused, false);

  const update = (signer, params) => market.getUpdateMarketInstructionAsync({ admin: signer, treasury: m.treasury, params });
  const pause = (signer, paused) => market.getSetPausedInstructionAsync({ admin: signer, paused });
  await refused('update_market by an outsider', 'market', 'Unauthorized', outsider, [await update(outsider, { ...m.params, auditBps: 0 })]);
  await refused('set_paused by an outsider', 'market', 'Unauthorized', outsider, [await pause(outsider, true)]);
  await refused('update_market beyond the hard caps', 'market', 'InvalidParams', admin, [
    await update(admin, { ...m.params, feeBps: 1001 }),
  ]);
  await refused('withdraw_fees by an outsider', 'market', 'Unauthorized', outsider, [
    await market.getWithdrawFeesInstructionAsync({ admin: outsider, treasury: m.treasury, paymentMint: mint, tokenProgram }),
  ]);

  // Audits off, so that jobs escrow no auditor's price and reveal as soon as all committed.
  const { events } = await ok('update_market', admin, [await update(admin, { ...m.params, auditBps: 0 })]);
  assert.deepEqual(one(events, 'MarketUpdated'), { admin: admin.address, treasury: m.treasury, paused: false });
  const off = await marketMatchesCli();
  assert.equal(off.m.params.auditBps, 0);
  assert.deepEqual({ ...off.m.params, auditBps: 7000 }, m.params, 'only audit_bps changed');

  // Paused: no job can be created.
  const paused = await ok('set_paused(true)', admin, [await pause(admin, true)]);
  assert.equal(one(paused.events, 'MarketUpdated').paused, true);
  assert.equal((await marketMatchesCli()).m.paused, true);
  const { job, instruction } = await createJobIx(jobArgs(99n, 99));
  const before = await tokens(buyerToken);
  await refused('create_job while paused', 'market', 'MarketPaused', buyer, [instruction]);
  assert.equal((await market.fetchMaybeJob(rpc, job, confirmed)).exists, false);
  assert.equal(await tokens(buyerToken), before);
  const resumed = await ok('set_paused(false)', admin, [await pause(admin, false)]);
  assert.deepEqual(one(resumed.events, 'MarketUpdated'), { admin: admin.address, treasury: m.treasury, paused: false });
  assert.equal((await marketMatchesCli()).m.paused, false);

  // Both configs exist: initializing either again is the system program's AccountAlreadyInUse.
  await alreadyInUse('initialize_market again', admin, [await market.getInitializeMarketInstructionAsync({
    admin, paymentMint: mint, treasury: m.treasury, drawSet: m.drawSet, tokenProgram, params: m.params, drawEpochSlots: 8n,
  })]);
  const [marketAuthority] = await market.findMarketAuthorityPda();
  await alreadyInUse('initialize_config again', admin, [await staking.getInitializeConfigInstructionAsync({
    admin, stakeMint: mint, params: { minStake: 1_000_000n, unbondingPeriod: 60n }, marketAuthority, trustFreezeAuthority: false,
  })]);
});

// Independent: the three providers' setup and a fourth provider's whole life, side by side.
describe('providers', { concurrency: true }, () => {
  test('providers register, stake and join the draws; collateral calls by anyone but the market fail by name', async () => {
    const stakingConfig = (await staking.fetchStakingConfig(rpc, stakingConfigAddress, confirmed)).data;
    assert.equal(stakingConfig.stakeMint, mint);
    for (const [i, p] of ps.entries()) {
      const register = await staking.getRegisterProviderInstructionAsync({
        authority: p.signer, stakeMint: mint, tokenProgram,
        hardware: { gpuName: `gpu-${i}`, memoryMib: 8192 + i, features: BigInt(i), backend: 1 << i },
        metadataUri: `https://example.org/providers/${i}.json`,
      });
      const deposit = await staking.getDepositStakeInstructionAsync({
        authority: p.signer, stakeVault: p.vault, source: p.token, stakeMint: mint, tokenProgram, amount: STAKE,
      });
      const join = await market.getJoinDrawsInstructionAsync({ providerAuthority: p.signer, drawSet });
      const before = await tokens(p.token);
      const { events } = await ok(`provider ${i} registers, stakes, joins`, p.signer, [register, deposit, join]);
      assert.deepEqual(one(events, 'ProviderRegistered', 'staking'), { provider: p.provider, authority: p.signer.address });
      assert.deepEqual(one(events, 'StakeDeposited', 'staking'), { provider: p.provider, amount: STAKE, staked: STAKE });
      const joined = one(events, 'DrawWeightSet');
      assert.equal(joined.providerAuthority, p.signer.address);
      assert.equal(joined.weight, STAKE);
      p.index = joined.index;
      const [entryAddress] = await market.findDrawEntryPda({ providerAuthority: p.signer.address });
      const entry = (await market.fetchDrawEntry(rpc, entryAddress, confirmed)).data;
      assert.equal(entry.authority, p.signer.address);
      assert.equal(entry.index, joined.index);
      const set = (await market.fetchDrawSet(rpc, drawSet, confirmed)).data;
      assert.equal(set.authorities[entry.index], p.signer.address);
      assert.equal(set.epochSlots, 8n);
      assert.equal(joined.effectiveEpoch, set.epoch + 1n);
      assert.equal(set.len, i + 1);
      assert.equal(await tokens(p.vault), STAKE);
      assert.equal(await tokens(p.token), before - STAKE);
      const d = await providerMatchesCli(p.signer.address);
      assert.equal(d.staked, STAKE);
      assert.equal(d.stakeVault, p.vault);
      assert.equal(d.hardware.gpuName, `gpu-${i}`);
      assert.equal(d.acceptingJobs, true);
    }

    // Joining twice: the draw entry exists (tests/it/draws.rs); joining unregistered: no provider.
    await alreadyInUse('join_draws again', ps[0].signer, [
      await market.getJoinDrawsInstructionAsync({ providerAuthority: ps[0].signer, drawSet }),
    ]);
    await anchorRefused('join_draws without a provider account', 'AccountNotInitialized', 3012, outsider, [
      await market.getJoinDrawsInstructionAsync({ providerAuthority: outsider, drawSet }),
    ]);

    // Anyone syncs a provider's draw weight.
    const [entry0] = await market.findDrawEntryPda({ providerAuthority: ps[0].signer.address });
    const sync = await ok('sync_draw_weight', outsider, [
      await market.getSyncDrawWeightInstructionAsync({ drawSet, drawEntry: entry0, provider: ps[0].provider }),
    ]);
    const synced = one(sync.events, 'DrawWeightSet');
    const setAfterSync = (await market.fetchDrawSet(rpc, drawSet, confirmed)).data;
    assert.deepEqual(synced, {
      providerAuthority: ps[0].signer.address, index: ps[0].index, weight: STAKE, effectiveEpoch: setAfterSync.epoch + 1n,
    });
    assert.equal(setAfterSync.epoch, sync.events.slot / setAfterSync.epochSlots, 'the set rolled to the sync\'s epoch');

    // The provider changes its metadata URI only.
    const updated = await ok('update_provider', ps[0].signer, [await staking.getUpdateProviderInstructionAsync({
      authority: ps[0].signer, hardware: null, metadataUri: 'https://example.org/providers/0-v2.json', acceptingJobs: null,
    })]);
    assert.deepEqual(one(updated.events, 'ProviderUpdated', 'staking'), { provider: ps[0].provider, acceptingJobs: true });
    const d0 = await providerMatchesCli(ps[0].signer.address);
    assert.equal(d0.metadataUri, 'https://example.org/providers/0-v2.json');
    assert.equal(d0.hardware.gpuName, 'gpu-0');

    await refused('a zero deposit', 'staking', 'ZeroAmount', ps[0].signer, [await staking.getDepositStakeInstructionAsync({
      authority: ps[0].signer, stakeVault: ps[0].vault, source: ps[0].token, stakeMint: mint, tokenProgram, amount: 0n,
    })]);

    // Only the market's authority PDA may lock, unlock or slash (tests/it/staking.rs).
    const outsiderToken = await associatedTokenAccount(outsider.address, mint, tokenProgram);
    await refused('lock_collateral by an outsider', 'staking', 'UnauthorizedMarket', outsider, [
      await staking.getLockCollateralInstructionAsync({ marketAuthority: outsider, provider: ps[0].provider, amount: 1n }),
    ]);
    await refused('unlock_collateral by an outsider', 'staking', 'UnauthorizedMarket', outsider, [
      await staking.getUnlockCollateralInstructionAsync({ marketAuthority: outsider, provider: ps[0].provider, amount: 0n, paid: 0n }),
    ]);
    await refused('slash by an outsider', 'staking', 'UnauthorizedMarket', outsider, [await staking.getSlashInstructionAsync({
      marketAuthority: outsider, provider: ps[0].provider, stakeVault: ps[0].vault, destination: outsiderToken,
      stakeMint: mint, tokenProgram, amount: 1n,
    })]);
    await refused('slash by the provider itself', 'staking', 'UnauthorizedMarket', ps[0].signer, [await staking.getSlashInstructionAsync({
      marketAuthority: ps[0].signer, provider: ps[0].provider, stakeVault: ps[0].vault, destination: ps[0].token,
      stakeMint: mint, tokenProgram, amount: 1n,
    })]);
    const after0 = await fetchProvider(ps[0]);
    assert.equal(after0.locked, 0n);
    assert.equal(after0.staked, STAKE);
    assert.equal(await tokens(ps[0].vault), STAKE);
  });

  test('a provider unbonds, withdraws and closes; the admin shortens the unbonding period and restores it', async () => {
    const p = await chain.funded();
    const [provider] = await staking.findProviderPda({ authority: p.address });
    const [vault] = await staking.findStakeVaultPda({ provider });
    const token = await associatedTokenAccount(p.address, mint, tokenProgram);
    const staked = 2_000_000n;
    const registered = await ok('register and stake', p, [
      await staking.getRegisterProviderInstructionAsync({
        authority: p, stakeMint: mint, tokenProgram,
        hardware: { gpuName: 'unbonder', memoryMib: 1024, features: 0n, backend: 1 }, metadataUri: '',
      }),
      await staking.getDepositStakeInstructionAsync({
        authority: p, stakeVault: vault, source: token, stakeMint: mint, tokenProgram, amount: staked,
      }),
    ]);
    assert.deepEqual(one(registered.events, 'StakeDeposited', 'staking'), { provider, amount: staked, staked });
    const vaultAccounts = { authority: p, stakeVault: vault, destination: token, stakeMint: mint, tokenProgram };
    const withdraw = () => staking.getWithdrawStakeInstructionAsync(vaultAccounts);
    const unbond = (amount, maxUnbondingPeriod) => staking.getRequestUnbondInstructionAsync({ authority: p, amount, maxUnbondingPeriod });
    const close = () => staking.getCloseProviderInstructionAsync(vaultAccounts);

    // Stops accepting jobs, with a new profile.
    const hardware = { gpuName: 'unbonder-2', memoryMib: 2048, features: 5n, backend: 2 };
    const updated = await ok('update_provider', p, [await staking.getUpdateProviderInstructionAsync({
      authority: p, hardware, metadataUri: 'https://example.org/leaving.json', acceptingJobs: false,
    })]);
    assert.deepEqual(one(updated.events, 'ProviderUpdated', 'staking'), { provider, acceptingJobs: false });
    const profile = await providerMatchesCli(p.address);
    assert.deepEqual(profile.hardware, hardware);
    assert.equal(profile.metadataUri, 'https://example.org/leaving.json');
    assert.equal(profile.acceptingJobs, false);

    await refused('withdraw_stake with nothing unbonding', 'staking', 'NothingToWithdraw', p, [await withdraw()]);
    await refused('request_unbond with a bound under the period', 'staking', 'UnbondingPeriodAboveBound', p, [await unbond(1n, 59n)]);
    await refused('request_unbond of more than is free', 'staking', 'InsufficientFreeStake', p, [await unbond(staked + 1n, 60n)]);
    const first = await ok('request_unbond', p, [await unbond(staked / 2n, 60n)]);
    const requested = one(first.events, 'UnbondRequested', 'staking');
    let d = await providerMatchesCli(p.address);
    assert.deepEqual(requested, { provider, amount: staked / 2n, releaseAt: d.unbondingReleaseAt });
    assert.equal(d.unbonding, staked / 2n);
    assert.equal(d.unbondingReleaseAt, first.events.blockTime + 60n, 'released a minute later');
    await refused('withdraw_stake before the unbonding period', 'staking', 'UnbondingNotElapsed', p, [await withdraw()]);
    await refused('close_provider with stake', 'staking', 'StakeRemaining', p, [await close()]);

    // The admin sets a zero unbonding period (outsiders cannot); a new request restarts the period.
    const { minStake } = (await marketMatchesCli()).s;
    const configIx = (signer, unbondingPeriod) =>
      staking.getUpdateConfigInstructionAsync({ admin: signer, params: { minStake, unbondingPeriod } });
    await refused('update_config by an outsider', 'staking', 'Unauthorized', outsider, [await configIx(outsider, 0n)]);
    await refused('update_config with a zero minimum stake', 'staking', 'InvalidConfig', admin, [
      await staking.getUpdateConfigInstructionAsync({ admin, params: { minStake: 0n, unbondingPeriod: 60n } }),
    ]);
    const zero = await ok('update_config', admin, [await configIx(admin, 0n)]);
    assert.deepEqual(one(zero.events, 'ConfigUpdated', 'staking'), {
      admin: admin.address, freezeAuthorityTrusted: false, minStake, unbondingPeriod: 0n,
    });
    assert.equal((await marketMatchesCli()).s.unbondingPeriod, 0n);
    const second = await ok('request_unbond (the rest)', p, [await unbond(staked - staked / 2n, 60n)]);
    d = await fetchProvider({ provider });
    assert.equal(d.unbonding, staked);
    assert.equal(one(second.events, 'UnbondRequested', 'staking').releaseAt, d.unbondingReleaseAt);
    assert.equal(d.unbondingReleaseAt, second.events.blockTime, 'the period restarted, now zero');

    const before = await tokens(token);
    const withdrawn = await ok('withdraw_stake', p, [await withdraw()]);
    assert.deepEqual(one(withdrawn.events, 'StakeWithdrawn', 'staking'), { provider, amount: staked });
    assert.equal(await tokens(token), before + staked);
    d = await providerMatchesCli(p.address);
    assert.equal(d.staked, 0n);
    assert.equal(d.unbonding, 0n);

    const sol = await lamports(p.address);
    const closed = await ok('close_provider', p, [await close()]);
    assert.deepEqual(one(closed.events, 'ProviderClosed', 'staking'), { provider });
    assert.equal((await staking.fetchMaybeProvider(rpc, provider, confirmed)).exists, false);
    assert.equal((await rpc.getAccountInfo(vault, confirmed).send()).value, null);
    assert.ok((await lamports(p.address)) > sol, 'the rent came back');

    const restored = await ok('update_config (restore)', admin, [await configIx(admin, 60n)]);
    assert.equal(one(restored.events, 'ConfigUpdated', 'staking').unbondingPeriod, 60n);
    assert.equal((await marketMatchesCli()).s.unbondingPeriod, 60n);
  });
});

test('jobs: created, claimed by the drawn providers, committed, revealed, settled and closed', async () => {
  // Weights set in a draw epoch count from the next: create the jobs once the epoch of the last
  // edit of the draw set is over.
  const set = (await market.fetchDrawSet(rpc, drawSet, confirmed)).data;
  await until('the next draw epoch', async () => (await rpc.getSlot(confirmed).send()) / set.epochSlots > set.epoch, 60_000);

  // B's first draw round is young (its take window is 8 s): a redraw is too early.
  const buyerBefore = await tokens(buyerToken);
  jobs.B = await createJob(jobArgs(2n, 2), async (job) =>
    refused('redraw within the take window', 'market', 'RedrawTooEarly', outsider, [
      await market.getRedrawInstructionAsync({ job, drawSet }),
    ]));
  // A (a job id over 2^53), C (expires unfilled) and D (a short execution window: one
  // provider never commits), created side by side.
  [jobs.A, jobs.C, jobs.D] = await Promise.all([
    createJob(jobArgs(0xffff_ffff_ffff_ff01n, 1)),
    createJob(jobArgs(3n, 3, { claimWindow: 5n })),
    createJob(jobArgs(4n, 4, { execWindow: 20n })),
  ]);
  const [A, B, D] = [jobs.A.address, jobs.B.address, jobs.D.address];
  assert.equal(await tokens(buyerToken), buyerBefore - 4n * PRICE * 3n);

  // Audits back on: the jobs keep the rate they were created with.
  const { m } = await marketMatchesCli();
  await ok('update_market (restore)', admin, [await market.getUpdateMarketInstructionAsync({
    admin, treasury: m.treasury, params: { ...m.params, auditBps: 7000 },
  })]);
  assert.equal((await marketMatchesCli()).m.params.auditBps, 7000);
  assert.equal((await jobMatchesCli(A)).auditBps, 0);

  // B's claim window is open, and it is not running.
  await refused('refund_unfilled within the claim window', 'market', 'ClaimWindowOpen', outsider, [
    await market.getRefundUnfilledInstructionAsync(escrow(B)),
  ]);
  await refused('commit_result by no slot holder of an open job', 'market', 'NotASlotHolder', ps[0].signer, [
    await market.getCommitResultInstructionAsync({ providerAuthority: ps[0].signer, job: B, commitment: new Uint8Array(32).fill(1) }),
  ]);
  await refused('close_job of an open job', 'market', 'JobNotTerminal', outsider, [
    await market.getCloseJobInstructionAsync({ ...escrow(B), buyer: buyer.address }),
  ]);

  // Three providers in the draw set: the first round of each job draws all three. A and D are
  // claimed by all three, B by the first only; D's two honest providers commit at once.
  const [events] = await Promise.all([
    claimAll(A, ps),
    claimAll(D, ps).then(async (e) => { await commit(D, [[ps[0], R, salt(10)], [ps[1], R, salt(11)]]); return e; }),
    claimAll(B, ps.slice(0, 1)),
  ]).then((all) => [all.flat()]);
  // Each provider's locks, in whatever order the jobs landed: 1, 2 (, 3) collaterals locked.
  for (const [i, p] of ps.entries()) {
    const held = i === 0 ? 3n : 2n;
    const locks = named(events, 'CollateralLocked', 'staking').filter((e) => e.provider === p.provider);
    assert.deepEqual(locks.map((e) => e.locked).sort((x, y) => Number(x - y)),
      [1n, 2n, 3n].slice(0, Number(held)).map((n) => n * COLLATERAL));
    const d = await providerMatchesCli(p.signer.address);
    assert.equal(d.locked, held * COLLATERAL);
    assert.equal(d.stats.jobsClaimed, held);
  }
  await jobMatchesCli(A);
  await jobMatchesCli(B);
  await refused('a claim of a running job', 'market', 'JobNotOpen', ps[0].signer, [
    await market.getClaimSlotInstructionAsync({ providerAuthority: ps[0].signer, drawSet, job: A }),
  ]);

  // A: commit, reveal.
  await commit(A, [[ps[0], R, salt(0)]]);
  await refused('a reveal before every slot committed', 'market', 'RevealNotOpen', ps[0].signer, [await revealIx(ps[0], A, R, salt(0))]);
  await refused('a second commit', 'market', 'AlreadyCommitted', ps[0].signer, [
    await market.getCommitResultInstructionAsync({ providerAuthority: ps[0].signer, job: A, commitment: new Uint8Array(32).fill(9) }),
  ]);
  await refused('a commit by no slot holder', 'market', 'NotASlotHolder', outsider, [
    await market.getCommitResultInstructionAsync({ providerAuthority: outsider, job: A, commitment: new Uint8Array(32).fill(9) }),
  ]);
  await commit(A, [[ps[1], R, salt(1)], [ps[2], R, salt(2)]]);
  let a = await jobMatchesCli(A);
  assert.equal(a.committed, 3);
  assert.equal(a.auditSeedSlot, 0n, 'no audit armed: the job was created with audits off');
  await refused('audit of a job without audits', 'market', 'NoAuditPending', outsider, [
    await market.getAuditInstructionAsync({ job: A }),
  ]);
  await refused('a reveal that does not open the commitment', 'market', 'CommitmentMismatch', ps[0].signer, [
    await revealIx(ps[0], A, R, salt(7)),
  ]);
  await refused('a reveal of another hash', 'market', 'CommitmentMismatch', ps[0].signer, [await revealIx(ps[0], A, OTHER, salt(0))]);
  await reveal(A, [[ps[0], R, salt(0)], [ps[1], R, salt(1)]]);
  await refused('a second reveal', 'market', 'AlreadyRevealed', ps[0].signer, [await revealIx(ps[0], A, R, salt(7))]);
  const settleIx = async (job, remaining) => withRemaining(await market.getSettleInstructionAsync(escrow(job)), remaining);
  await refused('settle while a reveal is outstanding', 'market', 'SettleTooEarly', outsider, [await settleIx(A, [])]);
  await refused('settle_referees without a dispute', 'market', 'NotDisputed', outsider, [
    await market.getSettleRefereesInstructionAsync(escrow(A)),
  ]);
  await reveal(A, [[ps[2], R, salt(2)]]);
  a = await jobMatchesCli(A);
  assert.equal(a.revealed, 3);
  await refused('settle without the slots\' accounts', 'market', 'SlotAccountsMismatch', outsider, [await settleIx(A, [])]);
  const remaining = await slotsOf(a);
  const swapped = [...remaining];
  swapped[1] = buyerToken; // slot 0 paid into the buyer's account
  await refused('settle paying a slot into another account', 'market', 'WrongPayoutAccount', outsider, [await settleIx(A, swapped)]);

  // Settle: each replica paid its price less the fee, collateral unlocked, fees kept for close.
  const pay = PRICE - fee;
  const balances = await Promise.all(ps.map((p) => tokens(p.token)));
  const provided = await Promise.all(ps.map(fetchProvider));
  const refundBase = await tokens(buyerToken);
  // The client's settleInstruction picks the step and the slots' accounts, as the SDK does.
  assert.equal(settleStep(a), 'settle');
  const settled = await ok('settle', outsider, [await settleInstruction(A, a, mintInfo())]);
  const js = one(settled.events, 'JobSettled');
  assert.deepEqual([...js.agreedHash.value], [...R]);
  assert.deepEqual({ ...js, agreedHash: null }, {
    job: A, agreedHash: null, paid: 3, slashed: 0, burnDue: 0n, buyerRefund: jobs.A.deposit - 3n * PRICE, treasuryDue: 3n * fee,
  });
  assert.deepEqual(named(settled.events, 'SlotPaid'), ps.map((p) => ({ job: A, providerAuthority: p.signer.address, amount: pay })));
  const byProvider = (x, y) => x.provider.localeCompare(y.provider);
  assert.deepEqual(named(settled.events, 'CollateralUnlocked', 'staking').sort(byProvider),
    ps.map((p) => ({ provider: p.provider, amount: COLLATERAL, paid: pay })).sort(byProvider));
  a = await jobMatchesCli(A);
  assert.equal(a.state, market.JobState.Settled);
  assert.deepEqual([...a.agreedHash.value], [...R]);
  assert.deepEqual(a.slots.slice(0, 3).map((s) => s.outcome), Array(3).fill(market.SlotOutcome.Paid));
  assert.equal(a.treasuryDue, js.treasuryDue);
  assert.equal(a.escrowOwed, js.treasuryDue);
  const [vaultA] = await market.findVaultPda({ job: A });
  assert.equal(await tokens(vaultA), 3n * fee);
  assert.equal(await tokens(buyerToken), refundBase + js.buyerRefund);
  for (const [i, p] of ps.entries()) {
    assert.equal(await tokens(p.token), balances[i] + pay);
    const d = await providerMatchesCli(p.signer.address);
    assert.equal(d.locked, provided[i].locked - COLLATERAL);
    assert.equal(d.stats.jobsPaid, provided[i].stats.jobsPaid + 1n);
    assert.equal(d.stats.earned, provided[i].stats.earned + pay);
  }

  // Close (anyone): fees to the fee vault, rent to the buyer, the job and its vault gone.
  const feesBefore = await tokens(feeVault);
  const rent = await lamports(buyer.address);
  const closed = await ok('close_job', outsider, [await market.getCloseJobInstructionAsync({ ...escrow(A), buyer: buyer.address })]);
  assert.deepEqual(one(closed.events, 'JobClosed'), { job: A, fees: 3n * fee, burned: 0n });
  assert.equal(await tokens(feeVault), feesBefore + 3n * fee);
  assert.ok((await lamports(buyer.address)) > rent, 'the rent went to the buyer');
  assert.equal((await market.fetchMaybeJob(rpc, A, confirmed)).exists, false);
  assert.equal((await rpc.getAccountInfo(vaultA, confirmed).send()).value, null);
  await anchorRefused('settle of a closed job', 'AccountNotInitialized', 3012, outsider, [await settleIx(A, remaining)]);

  // D: reveals open once its execution deadline passed (a slot never committed); settle pays
  // the two that revealed the quorum's hash and slashes the one that never committed.
  let d = await fetchJob(D);
  assert.equal(d.committed, 2);
  if ((await chainTime()) + 5n < d.execDeadline) {
    // (Skipped on a machine so slow that the deadline is about to pass.)
    await refused('a reveal before the execution deadline, a slot not committed', 'market', 'RevealNotOpen', ps[0].signer, [
      await revealIx(ps[0], D, R, salt(10)),
    ]);
  }
  await waitChainTime('D\'s execution deadline', d.execDeadline + 1n);
  await reveal(D, [[ps[0], R, salt(10)], [ps[1], R, salt(11)]]);
  const slashedBefore = await fetchProvider(ps[2]);
  const [vaultD] = await market.findVaultPda({ job: D });
  const settledD = await ok('settle (one slot slashed)', outsider, [await settleInstruction(D, d, mintInfo())]);
  const jd = one(settledD.events, 'JobSettled');
  assert.deepEqual({ ...jd, agreedHash: null }, {
    job: D, agreedHash: null, paid: 2, slashed: 1, burnDue: COLLATERAL, buyerRefund: jobs.D.deposit - 2n * PRICE, treasuryDue: 2n * fee,
  });
  assert.deepEqual([...jd.agreedHash.value], [...R]);
  assert.deepEqual(one(settledD.events, 'SlotSlashed'), {
    job: D, providerAuthority: ps[2].signer.address, amount: COLLATERAL, revealedOtherHash: false,
  });
  assert.deepEqual(one(settledD.events, 'StakeSlashed', 'staking'), { provider: ps[2].provider, amount: COLLATERAL, destination: vaultD });
  assert.deepEqual(named(settledD.events, 'SlotPaid').map((e) => e.providerAuthority), [ps[0].signer.address, ps[1].signer.address]);
  d = await jobMatchesCli(D);
  const { Paid, Slashed } = market.SlotOutcome;
  assert.deepEqual(d.slots.slice(0, 3).map((s) => s.outcome), [Paid, Paid, Slashed]);
  assert.equal(d.burnDue, COLLATERAL);
  assert.equal(await tokens(vaultD), 2n * fee + COLLATERAL);
  const slashed = await providerMatchesCli(ps[2].signer.address);
  assert.equal(slashed.staked, slashedBefore.staked - COLLATERAL);
  assert.equal(slashed.locked, slashedBefore.locked - COLLATERAL);
  assert.equal(slashed.stats.jobsSlashed, 1n);
  assert.equal(slashed.stats.slashed, COLLATERAL);
  assert.equal(await tokens(ps[2].vault), STAKE - COLLATERAL);

  // Closing burns the slashed collateral out of the vault: the IDL gives close_job (only it)
  // the payment mint writable, so the generated instruction passes it so.
  const closeD = await market.getCloseJobInstructionAsync({ ...escrow(D), buyer: buyer.address });
  assert.equal(closeD.accounts.find((x) => x.address === mint).role, AccountRole.WRITABLE);
  const supply = async () => BigInt((await rpc.getTokenSupply(mint, confirmed).send()).value.amount);
  const [supplyBefore, feesBeforeD] = [await supply(), await tokens(feeVault)];
  const closedD = await ok('close_job (burning)', outsider, [closeD]);
  assert.deepEqual(one(closedD.events, 'JobClosed'), { job: D, fees: 2n * fee, burned: COLLATERAL });
  assert.equal(await supply(), supplyBefore - COLLATERAL);
  assert.equal(await tokens(feeVault), feesBeforeD + 2n * fee);
  assert.equal((await market.fetchMaybeJob(rpc, D, confirmed)).exists, false);
});

test('job B: redrawn after its take window, then cancelled with its claimed slot compensated', async () => {
  const B = jobs.B.address;
  let b = await fetchJob(B);
  assert.equal(b.filled, 1);
  const cancelIx = async (signer, remaining) =>
    withRemaining(await market.getCancelJobInstructionAsync({ ...escrow(B), buyer: signer }), remaining);
  await refused('cancel_job by another than the buyer', 'market', 'Unauthorized', outsider, [
    await cancelIx(outsider, await slotsOf(b)),
  ]);
  await refused('cancel_job forgetting the claimed slot', 'market', 'SlotAccountsMismatch', buyer, [await cancelIx(buyer, [])]);

  // The first round drew all three; two never came: a new round draws for the two free slots,
  // passing over them (they are drawn again only for want of others).
  await waitChainTime('B\'s take window', b.roundStartedAt + takeWindow);
  const redrawn = await ok('redraw', outsider, [await market.getRedrawInstructionAsync({ job: B, drawSet })]);
  b = await jobMatchesCli(B);
  assert.deepEqual(one(redrawn.events, 'DrawRoundBegun'), { job: B, round: 1, seedSlot: b.seedSlot, slots: 2 });
  assert.equal(b.drawRound, 1);
  assert.equal(b.roundSlots, 2);
  assert.equal(b.seedSlot, redrawn.events.slot + 4n);
  assert.equal(b.roundStartedAt, redrawn.events.blockTime);
  assert.equal(b.absentCount, 2);
  assert.deepEqual([...b.absent.slice(0, 2)].sort(), [ps[1].index, ps[2].index].sort());

  // A commitment while the job is still open (as agents send with their claims): the cancel
  // compensates the committed slot like a claimed one.
  await commit(B, [[ps[0], R, salt(30)]]);
  b = await jobMatchesCli(B);
  assert.equal(b.state, market.JobState.Open);
  assert.equal(b.committed, 1);

  const pay = PRICE - fee;
  const [buyerBefore, holderBefore, provider] = [await tokens(buyerToken), await tokens(ps[0].token), await fetchProvider(ps[0])];
  const cancelled = await ok('cancel_job', buyer, [await cancelInstruction(buyer, B, b, mintInfo())]);
  assert.deepEqual(one(cancelled.events, 'SlotCompensated'), { job: B, providerAuthority: ps[0].signer.address, amount: pay });
  assert.deepEqual(one(cancelled.events, 'CollateralUnlocked', 'staking'), { provider: ps[0].provider, amount: COLLATERAL, paid: pay });
  const refund = jobs.B.deposit - PRICE;
  assert.deepEqual(one(cancelled.events, 'JobCancelled'), { job: B, refund });
  assert.equal(await tokens(buyerToken), buyerBefore + refund);
  assert.equal(await tokens(ps[0].token), holderBefore + pay);
  b = await jobMatchesCli(B);
  assert.equal(b.state, market.JobState.Cancelled);
  assert.equal(b.slots[0].outcome, market.SlotOutcome.Compensated);
  assert.equal(b.escrowOwed, fee);
  const d = await providerMatchesCli(ps[0].signer.address);
  assert.equal(d.locked, provider.locked - COLLATERAL);
  assert.equal(d.stats.earned, provider.stats.earned + pay);
  await refused('cancel_job of a cancelled job', 'market', 'CannotCancel', buyer, [await cancelIx(buyer, [])]);

  const closed = await ok('close_job', buyer, [await market.getCloseJobInstructionAsync({ ...escrow(B), buyer: buyer.address })]);
  assert.deepEqual(one(closed.events, 'JobClosed'), { job: B, fees: fee, burned: 0n });
});

test('job C: nobody claimed it by its claim deadline; anyone refunds it in full', async () => {
  const C = jobs.C.address;
  let c = await jobMatchesCli(C);
  assert.equal(c.filled, 0);
  await waitChainTime('C\'s claim deadline', c.claimDeadline + 1n);
  const before = await tokens(buyerToken);
  assert.equal(settleStep(c), 'refundUnfilled');
  const refunded = await ok('refund_unfilled', outsider, [await settleInstruction(C, c, mintInfo())]);
  assert.deepEqual(one(refunded.events, 'JobExpired'), { job: C, refund: jobs.C.deposit });
  assert.equal(await tokens(buyerToken), before + jobs.C.deposit);
  c = await jobMatchesCli(C);
  assert.equal(c.state, market.JobState.Expired);
  assert.equal(c.escrowOwed, 0n);
  await refused('a claim after the claim deadline', 'market', 'JobNotOpen', ps[0].signer, [
    await market.getClaimSlotInstructionAsync({ providerAuthority: ps[0].signer, drawSet, job: C }),
  ]);
  const closed = await ok('close_job', outsider, [await market.getCloseJobInstructionAsync({ ...escrow(C), buyer: buyer.address })]);
  assert.deepEqual(one(closed.events, 'JobClosed'), { job: C, fees: 0n, burned: 0n });
});

test('the admin withdraws the fees of the closed jobs to the treasury', async () => {
  const { m } = await marketMatchesCli();
  const fees = await tokens(feeVault);
  assert.equal(fees, 3n * fee + 2n * fee + fee, 'A\'s, D\'s and B\'s fees');
  const before = await tokens(m.treasury);
  const withdrawn = await ok('withdraw_fees', admin, [
    await market.getWithdrawFeesInstructionAsync({ admin, treasury: m.treasury, paymentMint: mint, tokenProgram }),
  ]);
  assert.deepEqual(one(withdrawn.events, 'FeesWithdrawn'), { treasury: m.treasury, amount: fees });
  assert.equal(await tokens(m.treasury), before + fees);
  assert.equal(await tokens(feeVault), 0n);
  // The market ends as it began.
  const end = await marketMatchesCli();
  assert.equal(end.m.params.auditBps, 7000);
  assert.equal(end.m.paused, false);
  assert.equal(end.s.unbondingPeriod, 60n);
});
