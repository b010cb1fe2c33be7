/**
 * What Codama cannot generate from the IDL: the job PDA, whose seeds include the buyer's
 * `job_id` as 8 little-endian bytes (`["job", buyer, job_id]`, as `concord_sdk::pda::job`).
 */
import {
  getAddressEncoder,
  getProgramDerivedAddress,
  getU64Encoder,
  type Address,
  type ProgramDerivedAddress,
} from '@solana/kit';
import { CONCORD_MARKET_PROGRAM_ADDRESS } from './generated/market';

/** The address of `buyer`'s job number `jobId`. */
export function findJobPda(buyer: Address, jobId: bigint): Promise<ProgramDerivedAddress> {
  return getProgramDerivedAddress({
    programAddress: CONCORD_MARKET_PROGRAM_ADDRESS,
    seeds: ['job', getAddressEncoder().encode(buyer), getU64Encoder().encode(jobId)],
  });
}
