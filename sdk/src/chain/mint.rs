//! The market's payment mint (= stake mint) as clients need it: its token program and
//! decimals, wallets' associated token accounts, amounts in whole units, a job's escrow keys,
//! and the instructions that settle (or refund) a job and pay every slot holder.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use concord_market::{Job, JobState, Slot};

use super::accounts::Chain;
use super::errors::ChainError;
use super::ix::{self, EscrowKeys};
use super::pda;

/// What the next settling transaction of an ended-or-ending job does
/// ([`Mint::settle_instruction`] sends it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettleStep {
    /// An open job past its claim deadline: `refund_unfilled`.
    Refund,
    /// A dispute whose referee phase is over: `settle_referees` records the verdict.
    SettleReferees,
    /// The compared reveals differ: `settle` opens a dispute (nobody is paid yet).
    OpenDispute,
    /// `settle` ends the job.
    Settle,
}

impl SettleStep {
    /// The step `job` is at.
    pub fn of(job: &Job) -> SettleStep {
        if job.state == JobState::Open && !job.disputed() {
            SettleStep::Refund
        } else if !job.referees_settled() {
            SettleStep::SettleReferees
        } else if concord_market::settlement::opens_dispute(job) {
            SettleStep::OpenDispute
        } else {
            SettleStep::Settle
        }
    }

    /// What the step did once it landed, for people and logs.
    pub fn done(self) -> &'static str {
        match self {
            SettleStep::Refund => "refunded the unfilled job",
            SettleStep::SettleReferees => "settled the dispute's referees",
            SettleStep::OpenDispute => "opened a dispute",
            SettleStep::Settle => "settled the job",
        }
    }
}

/// A string that is not a token amount in whole units.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a token amount (e.g. 2 or 0.5)")]
pub struct BadAmount(pub String);

/// The payment mint.
#[derive(Clone, Copy, Debug)]
pub struct Mint {
    pub address: Pubkey,
    pub token_program: Pubkey,
    pub decimals: u8,
}

impl Mint {
    /// A wallet's associated token account for this mint.
    pub fn account_of(&self, wallet: &Pubkey) -> Pubkey {
        pda::associated_token(wallet, &self.address, &self.token_program)
    }

    /// Parses a whole-unit amount ("1.5") into base units.
    pub fn parse_units(&self, amount: &str) -> Result<u64, BadAmount> {
        let bad = || BadAmount(amount.to_string());
        let (whole, frac) = amount.split_once('.').unwrap_or((amount, ""));
        if frac.len() > usize::from(self.decimals) || (whole.is_empty() && frac.is_empty()) {
            return Err(bad());
        }
        let parse = |digits: &str| -> Result<u64, BadAmount> {
            if digits.is_empty() {
                Ok(0)
            } else if digits.bytes().all(|b| b.is_ascii_digit()) {
                digits.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let frac_units = parse(frac)?
            .checked_mul(10u64.pow(u32::from(self.decimals) - frac.len() as u32))
            .ok_or_else(bad)?;
        parse(whole)?
            .checked_mul(10u64.pow(u32::from(self.decimals)))
            .and_then(|w| w.checked_add(frac_units))
            .ok_or_else(bad)
    }

    /// Formats base units as whole units ("1.5").
    pub fn format(&self, units: u64) -> String {
        let scale = 10u64.pow(u32::from(self.decimals));
        let frac = units % scale;
        if frac == 0 {
            format!("{}", units / scale)
        } else {
            let s = format!("{frac:0width$}", width = usize::from(self.decimals));
            format!("{}.{}", units / scale, s.trim_end_matches('0'))
        }
    }

    /// The accounts that hold and move the deposit of `job` (bought by `buyer`).
    pub fn escrow(&self, job: &Pubkey, buyer: &Pubkey) -> EscrowKeys {
        EscrowKeys {
            job: *job,
            buyer_token: self.account_of(buyer),
            payment_mint: self.address,
            token_program: self.token_program,
        }
    }

    /// The slot holders' payout token accounts of `job`, created if missing (idempotent):
    /// sent in their own transaction before [`Mint::settle_instruction`], since with five
    /// replicas both would not fit in one.
    pub fn payout_account_instructions(&self, payer: &Pubkey, job: &Job) -> Vec<Instruction> {
        job.filled_slots()
            .iter()
            .map(|s| {
                ix::create_associated_token_idempotent(
                    payer,
                    &s.provider,
                    &self.address,
                    &self.token_program,
                )
            })
            .collect()
    }

    /// What settles `job` at `address` next: `refund_unfilled` while it is still open (no
    /// dispute), `settle_referees` in a dispute whose referees are not settled yet, otherwise
    /// `settle` (which opens a dispute when revealed hashes differ). Each pays the slot
    /// holders' associated token accounts.
    pub fn settle_instruction(&self, address: &Pubkey, job: &Job) -> Instruction {
        let keys = self.escrow(address, &job.buyer);
        match SettleStep::of(job) {
            SettleStep::Refund => {
                let holders: Vec<Pubkey> = job.filled_slots().iter().map(|s| s.provider).collect();
                ix::refund_unfilled(&keys, &holders)
            }
            SettleStep::SettleReferees => {
                ix::settle_referees(&keys, &self.payouts_of(job.referee_slots()))
            }
            SettleStep::OpenDispute | SettleStep::Settle => {
                ix::settle(&keys, &self.payouts_of(job.replica_slots()))
            }
        }
    }

    /// The buyer's `cancel_job` of the open `job` at `address`, compensating each slot holder
    /// into its associated token account (created first by
    /// [`Mint::payout_account_instructions`]).
    pub fn cancel_instruction(&self, address: &Pubkey, job: &Job) -> Instruction {
        let keys = self.escrow(address, &job.buyer);
        ix::cancel_job(&job.buyer, &keys, &self.slot_payouts(job))
    }

    /// Each filled slot's holder and its associated token account, in slot order.
    fn slot_payouts(&self, job: &Job) -> Vec<(Pubkey, Pubkey)> {
        self.payouts_of(job.filled_slots())
    }

    /// Each of `slots`' holder and its associated token account, in order.
    fn payouts_of(&self, slots: &[Slot]) -> Vec<(Pubkey, Pubkey)> {
        slots
            .iter()
            .map(|s| (s.provider, self.account_of(&s.provider)))
            .collect()
    }
}

impl Chain {
    /// The payment mint named by the market config, with its token program and decimals.
    pub async fn payment_mint(&self) -> Result<Mint, ChainError> {
        let config = self.market_config().await?;
        let account = self
            .rpc
            .get_account(&config.payment_mint)
            .await
            .map_err(self.rpc_err())?;
        let decimals = *account
            .data
            .get(44)
            .ok_or(ChainError::NotAMint(config.payment_mint))?;
        Ok(Mint {
            address: config.payment_mint,
            token_program: account.owner,
            decimals,
        })
    }
}

/// The salt of a provider's commitment to one incarnation of `job` (the address, and the slot
/// `created_slot` that incarnation was created in), derived from its secret key: secret to
/// others, never lost (a restarted provider derives it again), and never repeated when a job
/// address is reused after close (claims land only after the creation slot, so two
/// incarnations that reach a reveal never share one).
pub fn commitment_salt(secret: &[u8], job: &Pubkey, created_slot: u64) -> [u8; 32] {
    let mut material = secret.to_vec();
    material.extend_from_slice(job.as_ref());
    material.extend_from_slice(&created_slot.to_le_bytes());
    blake3::derive_key("concord commitment salt v2", &material)
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_market::{SlotOutcome, SlotStatus, MAX_REFEREES};

    fn revealed(hash: u8) -> Slot {
        Slot {
            provider: Pubkey::new_unique(),
            status: SlotStatus::Revealed,
            result_hash: [hash; 32],
            ..Slot::default()
        }
    }

    #[test]
    fn the_settle_step_follows_the_job() {
        let mut job = Job {
            replicas: 3,
            quorum: 2,
            ..Job::default()
        };
        assert_eq!(SettleStep::of(&job), SettleStep::Refund);
        job.state = JobState::Running;
        job.filled = 3;
        job.slots[..3].copy_from_slice(&[revealed(1), revealed(1), revealed(1)]);
        assert_eq!(SettleStep::of(&job), SettleStep::Settle);
        job.slots[2] = revealed(2);
        assert_eq!(SettleStep::of(&job), SettleStep::OpenDispute);
        // The dispute drew its referees: they settle first, then the replicas.
        job.referees = MAX_REFEREES as u8;
        job.filled = 3 + job.referees;
        for s in &mut job.slots[3..usize::from(job.filled)] {
            *s = revealed(1);
        }
        assert_eq!(SettleStep::of(&job), SettleStep::SettleReferees);
        for s in &mut job.slots[3..usize::from(job.filled)] {
            s.outcome = SlotOutcome::Paid;
        }
        assert_eq!(SettleStep::of(&job), SettleStep::Settle);
        assert_eq!(SettleStep::OpenDispute.done(), "opened a dispute");
    }
}
