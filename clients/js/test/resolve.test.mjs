// Every instruction of both programs, built by Codama's generated client and by Anchor's own
// TypeScript client (@anchor-lang/core) from the IDL, with only the accounts the IDL cannot
// derive given (the same random addresses to both): both resolve every other account — PDAs
// from their seeds (event authorities included), fixed addresses, programs — to the same
// account list, in the same order, with the same signer and writable flags. Offline: no chain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { address, createNoopSigner, getAddressEncoder, getProgramDerivedAddress } from '@solana/kit';

const require = createRequire(import.meta.url);
const anchor = require('@anchor-lang/core');
const { Keypair, PublicKey } = require('@solana/web3.js');
const client = require('@concord/client');
const here = dirname(fileURLToPath(import.meta.url));

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const pascal = (s) => camel(s).replace(/^./, (c) => c.toUpperCase());

/** The instruction's accounts as leaves with the groups they sit in (Anchor nests them,
 * Codama flattens them). */
function leaves(accounts, groups = []) {
  return accounts.flatMap((a) => (a.accounts ? leaves(a.accounts, [...groups, camel(a.name)]) : [{ ...a, groups }]));
}

/** Seeds that read another account's data (`job.buyer`): no client can follow them. */
const readsData = (a) => a.pda?.seeds.some((s) => s.kind === 'account' && s.path.includes('.'));

/** A placeholder value of an IDL type, for Anchor (BN, PublicKey) and for Codama (bigint, Address). */
function placeholder(type, idl, forAnchor) {
  if (typeof type === 'string') {
    if (['u64', 'i64', 'u128', 'i128'].includes(type)) return forAnchor ? new anchor.BN(1) : 1n;
    if (type === 'bool') return false;
    if (type === 'string') return 'x';
    if (type === 'pubkey') return forAnchor ? PublicKey.default : address('11111111111111111111111111111111');
    if (type === 'bytes') return forAnchor ? Buffer.alloc(0) : new Uint8Array(0);
    return 1;
  }
  if (type.array) return Array.from({ length: type.array[1] }, () => placeholder(type.array[0], idl, forAnchor));
  if (type.vec) return [];
  if (type.option) return null;
  if (type.defined) {
    const def = idl.types.find((t) => t.name === type.defined.name);
    if (def.type.kind === 'enum') return forAnchor ? { [camel(def.type.variants[0].name)]: {} } : 0;
    return Object.fromEntries((def.type.fields ?? []).map((f) => [camel(f.name), placeholder(f.type, idl, forAnchor)]));
  }
  throw new Error(`no placeholder for ${JSON.stringify(type)}`);
}

/** An account's address from its IDL seeds: constants, other accounts (from `known`), and
 * arguments (u64 fields of the instruction's arguments, little-endian). */
async function derive(account, known, args, programId) {
  const enc = getAddressEncoder();
  const seeds = account.pda.seeds.map((s) => {
    if (s.kind === 'const') return new Uint8Array(s.value);
    if (s.kind === 'account') return enc.encode(known[camel(s.path)]);
    const value = s.path.split('.').reduce((v, k) => v[camel(k)], args);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(value), true);
    return bytes;
  });
  const program = account.pda.program
    ? address(new PublicKey(Uint8Array.from(account.pda.program.value)).toBase58())
    : programId;
  return (await getProgramDerivedAddress({ programAddress: program, seeds }))[0];
}

for (const [file, namespace] of [['concord_staking', 'staking'], ['concord_market', 'market']]) {
  const idl = JSON.parse(readFileSync(join(here, '..', '..', '..', 'idl', `${file}.json`), 'utf8'));
  const program = new anchor.Program(idl, new anchor.AnchorProvider(
    new anchor.web3.Connection('http://127.0.0.1:1'), new anchor.Wallet(Keypair.generate()), {},
  ));
  const generated = client[namespace];

  for (const ix of idl.instructions) {
    test(`${file}.${ix.name}: Codama's and Anchor's clients resolve the same accounts`, async () => {
      const accounts = leaves(ix.accounts);
      // What the caller gives (random here, the same to both clients): accounts without seeds
      // or address, and PDAs whose seeds read another account's data.
      const given = {};
      for (const a of accounts) {
        if ((!a.pda && !a.address) || readsData(a)) given[camel(a.name)] = address(Keypair.generate().publicKey.toBase58());
      }
      const argValues = Object.fromEntries(ix.args.map((arg) => [camel(arg.name), placeholder(arg.type, idl, false)]));
      // Codama inlines a lone struct argument used nowhere else (no codec of its own) into
      // its fields.
      const lone = ix.args.length === 1 && ix.args[0].type.defined
        && idl.types.find((t) => t.name === ix.args[0].type.defined.name)?.type.kind === 'struct'
        && !generated[`get${ix.args[0].type.defined.name}Encoder`];
      const codamaArgs = lone ? argValues[camel(ix.args[0].name)] : argValues;
      // PDAs seeded by an argument: Codama takes them as inputs; derived from the IDL here.
      const derived = {};
      for (const a of accounts) {
        if (a.pda?.seeds.some((s) => s.kind === 'arg') && !given[camel(a.name)]) {
          derived[camel(a.name)] = await derive(a, { ...given, ...derived }, argValues, address(idl.address));
        }
      }
      const anchorAccounts = {};
      for (const a of accounts) {
        const value = given[camel(a.name)];
        if (!value) continue;
        let at = anchorAccounts;
        for (const g of a.groups) at = at[g] ??= {};
        at[camel(a.name)] = new PublicKey(value);
      }
      const anchorArgs = ix.args.map((arg) => placeholder(arg.type, idl, true));
      const built = await program.methods[camel(ix.name)](...anchorArgs).accountsPartial(anchorAccounts).instruction();

      const input = { ...derived, ...codamaArgs };
      for (const a of accounts) {
        const name = camel(a.name);
        if (given[name]) input[name] = a.signer ? createNoopSigner(given[name]) : given[name];
      }
      const build = generated[`get${pascal(ix.name)}InstructionAsync`] ?? generated[`get${pascal(ix.name)}Instruction`];
      const codama = await build(input);

      const ours = codama.accounts.map((m) => [m.address, m.role >= 2, m.role % 2 === 1]);
      const theirs = built.keys.map((k) => [k.pubkey.toBase58(), k.isSigner, k.isWritable]);
      assert.deepEqual(ours, theirs);
      // Event authorities and fixed programs come from the IDL, never from the caller (the
      // token program is the caller's: SPL Token or Token-2022).
      for (const a of accounts) {
        if (a.name.endsWith('event_authority') || ['program', 'staking_program', 'system_program'].includes(a.name)) {
          assert.ok(!given[camel(a.name)], `${ix.name}.${a.name} is not resolvable from the IDL`);
        }
      }
    });
  }
}
