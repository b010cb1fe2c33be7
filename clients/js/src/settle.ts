/**
 * The accounts the IDL cannot list: `settle`, `settle_referees`, `cancel_job` and
 * `refund_unfilled` take per-slot accounts after their named ones (for each slot holder: its
 * `Provider`, its payout token account, its stake vault; `refund_unfilled` only the
 * `Provider`s), and which of them settles a job next depends on its state, as
 * `concord_sdk::chain::mint::SettleStep` decides. Payouts go to each holder's associated token
 * account, which must exist (`createAssociatedTokenIdempotent` first).
 */
import {
  AccountRole,
  address,
  getAddressEncoder,
  getProgramDerivedAddress,
  type AccountMeta,
  type Address,
  type Instruction,
  type TransactionSigner,
} from '@solana/kit';
import * as market from './generated/market';
import * as staking from './generated/staking';

/** The associated token program. */
export const ASSOCIATED_TOKEN_PROGRAM_ADDRESS = address('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL');

/** `owner`'s associated token account for `mint` under `tokenProgram`. */
export async function findAssociatedTokenAddress(owner: Address, mint: Address, tokenProgram: Address): Promise<Address> {
  const enc = getAddressEncoder();
  const [ata] = await getProgramDerivedAddress({
    programAddress: ASSOCIATED_TOKEN_PROGRAM_ADDRESS,
    seeds: [enc.encode(owner), enc.encode(tokenProgram), enc.encode(mint)],
  });
  return ata;
}

/** The slots claimed so far (`Job::filled_slots`). */
export const filledSlots = (job: market.Job) => job.slots.slice(0, Math.min(job.filled, job.slots.length));
/** The replicas' slots and the auditor's, claimed so far (`Job::replica_slots`). */
export const replicaSlots = (job: market.Job) => filledSlots(job).slice(0, job.replicas + job.auditors);
/** The referees' slots claimed so far (`Job::referee_slots`). */
export const refereeSlots = (job: market.Job) => filledSlots(job).slice(job.replicas + job.auditors);

/** Holder `Provider`, payout token account, stake vault for each slot, all writable. */
export async function slotAccounts(slots: readonly market.Slot[], mint: Address, tokenProgram: Address): Promise<AccountMeta[]> {
  const metas: AccountMeta[] = [];
  for (const s of slots) {
    const [provider] = await staking.findProviderPda({ authority: s.provider });
    const [vault] = await staking.findStakeVaultPda({ provider });
    for (const a of [provider, await findAssociatedTokenAddress(s.provider, mint, tokenProgram), vault]) {
      metas.push({ address: a, role: AccountRole.WRITABLE });
    }
  }
  return metas;
}

/** `ix` with `extra` accounts after its own. */
export function withRemainingAccounts<T extends Instruction>(ix: T, extra: AccountMeta[]): T {
  return { ...ix, accounts: [...(ix.accounts ?? []), ...extra] };
}

/** Which instruction settles a job next (`SettleStep::of`, less the dispute check Rust makes to name it). */
export function settleStep(job: market.Job): 'refundUnfilled' | 'settleReferees' | 'settle' {
  if (job.state === market.JobState.Open && job.referees === 0) return 'refundUnfilled';
  if (refereeSlots(job).some((s) => s.outcome === market.SlotOutcome.Pending)) return 'settleReferees';
  return 'settle';
}

export interface PaymentMint { address: Address; tokenProgram: Address }

/** The next settling instruction of `job` at `jobAddress` (anyone may send it). */
export async function settleInstruction(jobAddress: Address, job: market.Job, mint: PaymentMint): Promise<Instruction> {
  const common = {
    job: jobAddress,
    buyerToken: await findAssociatedTokenAddress(job.buyer, mint.address, mint.tokenProgram),
    paymentMint: mint.address,
    tokenProgram: mint.tokenProgram,
  };
  switch (settleStep(job)) {
    case 'refundUnfilled': {
      const holders: AccountMeta[] = [];
      for (const s of filledSlots(job)) {
        holders.push({ address: (await staking.findProviderPda({ authority: s.provider }))[0], role: AccountRole.WRITABLE });
      }
      return withRemainingAccounts(await market.getRefundUnfilledInstructionAsync(common), holders);
    }
    case 'settleReferees':
      return withRemainingAccounts(await market.getSettleRefereesInstructionAsync(common),
        await slotAccounts(refereeSlots(job), mint.address, mint.tokenProgram));
    case 'settle':
      return withRemainingAccounts(await market.getSettleInstructionAsync(common),
        await slotAccounts(replicaSlots(job), mint.address, mint.tokenProgram));
  }
}

/** The buyer's `cancel_job` of an open job, compensating each slot holder. */
export async function cancelInstruction(buyer: TransactionSigner, jobAddress: Address, job: market.Job, mint: PaymentMint): Promise<Instruction> {
  const ix = await market.getCancelJobInstructionAsync({
    buyer,
    job: jobAddress,
    buyerToken: await findAssociatedTokenAddress(job.buyer, mint.address, mint.tokenProgram),
    paymentMint: mint.address,
    tokenProgram: mint.tokenProgram,
  });
  return withRemainingAccounts(ix, await slotAccounts(filledSlots(job), mint.address, mint.tokenProgram));
}
