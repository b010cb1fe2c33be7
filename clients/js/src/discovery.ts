/**
 * Finding jobs and providers with `getProgramAccounts`: the `Job` discriminator and,
 * optionally, its buyer and state, as memcmp filters at the offsets the program fixes
 * (`JOB_BUYER_OFFSET`, `JOB_STATE_OFFSET` in programs/market/src/state/job.rs; Rust:
 * `concord_sdk::chain::JobFilter`); every `Provider` of the staking program.
 */
import {
  getBase58Decoder,
  getBase64Encoder,
  getAddressEncoder,
  type Address,
  type Base58EncodedBytes,
  type Commitment,
  type Decoder,
  type GetProgramAccountsMemcmpFilter,
  type Rpc,
  type SolanaRpcApi,
} from '@solana/kit';
import {
  CONCORD_MARKET_PROGRAM_ADDRESS,
  getJobDecoder,
  getJobDiscriminatorBytes,
  type Job,
  type JobState,
} from './generated/market';
import {
  CONCORD_STAKING_PROGRAM_ADDRESS,
  getProviderDecoder,
  getProviderDiscriminatorBytes,
  type Provider,
} from './generated/staking';

/** Where a `Job` account holds its buyer. */
export const JOB_BUYER_OFFSET = 8n;
/** Where a `Job` account holds its state (one byte, `JobState`). */
export const JOB_STATE_OFFSET = 48n;

function memcmp(offset: bigint, bytes: Uint8Array): GetProgramAccountsMemcmpFilter {
  return {
    memcmp: {
      offset,
      bytes: getBase58Decoder().decode(bytes) as Base58EncodedBytes,
      encoding: 'base58',
    },
  };
}

/** The jobs in `state` (any when omitted) of `buyer` (anyone's when omitted). */
export async function findJobs(
  rpc: Rpc<SolanaRpcApi>,
  filter: { state?: JobState; buyer?: Address } = {},
  commitment: Commitment = 'confirmed',
): Promise<{ address: Address; data: Job }[]> {
  const filters = [memcmp(0n, new Uint8Array(getJobDiscriminatorBytes()))];
  if (filter.buyer !== undefined) {
    filters.push(memcmp(JOB_BUYER_OFFSET, new Uint8Array(getAddressEncoder().encode(filter.buyer))));
  }
  if (filter.state !== undefined) {
    filters.push(memcmp(JOB_STATE_OFFSET, Uint8Array.of(filter.state)));
  }
  return programAccounts(rpc, CONCORD_MARKET_PROGRAM_ADDRESS, filters, getJobDecoder(), commitment);
}

/** Every registered provider (the staking program's `Provider` accounts). */
export async function findProviders(
  rpc: Rpc<SolanaRpcApi>,
  commitment: Commitment = 'confirmed',
): Promise<{ address: Address; data: Provider }[]> {
  const filters = [memcmp(0n, new Uint8Array(getProviderDiscriminatorBytes()))];
  return programAccounts(rpc, CONCORD_STAKING_PROGRAM_ADDRESS, filters, getProviderDecoder(), commitment);
}

/** `program`'s accounts that pass `filters`, decoded. */
async function programAccounts<T extends object>(
  rpc: Rpc<SolanaRpcApi>,
  program: Address,
  filters: GetProgramAccountsMemcmpFilter[],
  decoder: Decoder<T>,
  commitment: Commitment,
): Promise<{ address: Address; data: T }[]> {
  const accounts = await rpc.getProgramAccounts(program, { encoding: 'base64', filters, commitment }).send();
  const base64 = getBase64Encoder();
  return accounts.map(({ pubkey, account }) => ({
    address: pubkey,
    data: decoder.decode(base64.encode(account.data[0])),
  }));
}
