// The generated client against a real local chain (concord-localnet, started here): accounts
// decode to the values the Rust side reads (the `concord` CLI), instructions built with the
// generated client succeed, and a program error reaches the client as its named error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { address, appendTransactionMessageInstructions, createTransactionMessage, pipe } from '@solana/kit';
import { associatedTokenAccount, startChain } from '../testing/chain.mjs';

const { market, staking } = createRequire(import.meta.url)('@concord/client');
let chain, rpc, cli;

before(async () => {
  chain = await startChain();
  ({ rpc, cli } = chain);
});

after(() => chain?.stop());

test('the market config decodes to what the Rust CLI reads', async () => {
  const [configAddress] = await market.findConfigPda();
  const config = await market.fetchMarketConfig(rpc, configAddress, { commitment: 'confirmed' });
  const shown = cli('market', 'show');
  assert.equal(config.data.admin, shown.admin);
  assert.equal(config.data.paymentMint, shown.payment_mint);
  assert.equal(config.data.treasury, shown.treasury);
  assert.equal(config.data.drawSet, shown.draw_set);
  assert.equal(config.data.paused, shown.paused);
  assert.equal(config.data.params.feeBps, shown.fee_bps);
  assert.equal(config.data.params.auditBps, shown.audit_bps);
  assert.equal(Number(config.data.params.takeWindow), shown.take_window_seconds);
});

test('a provider registers and stakes with the generated client; a zero deposit fails by name', async () => {
  const authority = await chain.funded();
  const [stakingConfigAddress] = await staking.findConfigPda();
  const stakingConfig = await staking.fetchStakingConfig(rpc, stakingConfigAddress, { commitment: 'confirmed' });
  const stakeMint = stakingConfig.data.stakeMint;
  const [providerAddress] = await staking.findProviderPda({ authority: authority.address });
  const [stakeVault] = await staking.findStakeVaultPda({ provider: providerAddress });
  const register = await staking.getRegisterProviderInstructionAsync({
    authority,
    stakeMint,
    tokenProgram: chain.tokenProgram,
    hardware: { gpuName: 'llvmpipe', memoryMib: 4096, features: 0n, backend: 1 },
    metadataUri: 'https://example.org/js',
  });
  const source = await associatedTokenAccount(authority.address, stakeMint, chain.tokenProgram);
  const deposit = await staking.getDepositStakeInstructionAsync({
    authority, stakeVault, source, stakeMint, tokenProgram: chain.tokenProgram, amount: 3_000_000n,
  });
  await chain.send(authority, [register, deposit]);

  const provider = await staking.fetchProvider(rpc, providerAddress, { commitment: 'confirmed' });
  const shown = cli('provider', 'show', authority.address);
  assert.equal(provider.data.authority, authority.address);
  assert.equal(provider.data.staked, 3_000_000n);
  assert.equal(shown.staked, '3');
  assert.equal(shown.authority, provider.data.authority);
  assert.equal(shown.gpu, provider.data.hardware.gpuName);
  assert.equal(shown.memory_mib, provider.data.hardware.memoryMib);
  assert.equal(shown.backend, provider.data.hardware.backend);
  assert.equal(shown.accepting_jobs, provider.data.acceptingJobs);
  assert.equal(shown.metadata_uri, provider.data.metadataUri);
  assert.equal(provider.data.hardware.gpuName, 'llvmpipe');

  const zero = await staking.getDepositStakeInstructionAsync({
    authority, stakeVault, source, stakeMint, tokenProgram: chain.tokenProgram, amount: 0n,
  });
  let failure;
  let message;
  try {
    message = pipe(createTransactionMessage({ version: 0 }), (m) => appendTransactionMessageInstructions([zero], m));
    await chain.send(authority, [zero]);
  } catch (e) {
    failure = e;
  }
  assert.ok(failure, 'a zero deposit is refused');
  assert.ok(
    staking.isConcordStakingError(failure.cause ?? failure, message, staking.CONCORD_STAKING_ERROR__ZERO_AMOUNT),
    `not ZeroAmount: ${failure}`,
  );
  assert.match(staking.getConcordStakingErrorMessage(staking.CONCORD_STAKING_ERROR__ZERO_AMOUNT), /zero/i);
});
