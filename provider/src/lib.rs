//! One provider's part of a job, defined once and driven by both the agent (with its journal)
//! and the CLI's provider commands (with state files): **execute** the job (or take the
//! canonical outcome of an invalid one), **record** the result and salt durably (the driver's
//! job), **commit** `commitment_hash(job, provider, result, salt)`, **reveal** result and salt
//! in the reveal window, and **publish** the outputs to the job's store only after the reveal
//! (published earlier, anyone could copy their hash into a commitment without running the job).
//!
//! [`Chaos`] is the one liar mode (demos and tests): it corrupts the outputs before hashing.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use concord_compute::executor::{ExecError, Execution, Executor};
use concord_protocol::job::{InvalidJob, Job};
use concord_protocol::{result_hash, Hash32};
use concord_sdk::chain::{commitment_hash, commitment_salt, ix};
use concord_sdk::results;
use concord_sdk::store::{BlobStore, StoreError};
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

/// How a provider treats its results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Chaos {
    /// Commit what the job computed.
    #[default]
    Honest,
    /// XOR the first byte of the first non-empty output with a non-zero mask before hashing
    /// (a liar, for demos and tests of slashing; liars with different masks disagree with
    /// each other too).
    CorruptResults(u8),
}

/// What a provider commits to for a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Executed {
    /// The hash committed and revealed: the result hash, or the canonical error outcome.
    pub result: Hash32,
    /// The output buffers (none for an invalid job), to publish after the reveal.
    pub outputs: Option<Vec<Vec<u8>>>,
    /// Why the job is invalid, if it is.
    pub invalid: Option<InvalidJob>,
}

impl Executed {
    /// The committed result of `execution`, after `chaos`.
    pub fn from_execution(execution: Execution, chaos: Chaos) -> Executed {
        match execution {
            Execution::Completed { mut outputs, .. } => {
                if let Chaos::CorruptResults(mask) = chaos {
                    if let Some(byte) = outputs.iter_mut().find_map(|o| o.first_mut()) {
                        *byte ^= mask.max(1);
                    }
                }
                Executed {
                    result: result_hash(&outputs),
                    outputs: Some(outputs),
                    invalid: None,
                }
            }
            Execution::Invalid(e) => Executed {
                result: e.outcome().hash(),
                outputs: None,
                invalid: Some(e),
            },
        }
    }
}

/// Runs `job` (fetched from its store: a runnable job, or why it is invalid) on `executor`
/// without blocking the async runtime.
pub async fn execute(
    executor: &Executor,
    job: Result<Job, InvalidJob>,
) -> Result<Execution, ExecError> {
    let job = match job {
        Ok(job) => job,
        Err(invalid) => return Ok(Execution::Invalid(invalid)),
    };
    let executor = executor.clone();
    tokio::task::spawn_blocking(move || executor.execute(&job))
        .await
        .map_err(|e| ExecError::WorkerCrashed(format!("the executor task failed: {e}")))?
}

/// A provider's signing identity for commitments: its wallet and the salts derived from its
/// secret key (secret to others, never lost: a restarted provider derives them again).
pub struct Identity {
    pub me: Pubkey,
    secret: [u8; 32],
}

impl Identity {
    pub fn new(keypair: &Keypair) -> Identity {
        let mut secret = [0u8; 32];
        secret.copy_from_slice(&keypair.to_bytes()[..32]);
        Identity {
            me: keypair.pubkey(),
            secret,
        }
    }

    /// The salt of this provider's commitment to the incarnation of `job` created in
    /// `created_slot` (`Job::created_slot`).
    pub fn salt(&self, job: &Pubkey, created_slot: u64) -> [u8; 32] {
        commitment_salt(&self.secret, job, created_slot)
    }

    /// The commitment this provider posts for `result` of `job`.
    pub fn commitment(&self, job: &Pubkey, created_slot: u64, result: &Hash32) -> [u8; 32] {
        commitment_hash(job, &self.me, &result.0, &self.salt(job, created_slot))
    }

    /// `commit_result` for `result` of `job`.
    pub fn commit_instruction(
        &self,
        job: &Pubkey,
        created_slot: u64,
        result: &Hash32,
    ) -> Instruction {
        ix::commit_result(&self.me, job, self.commitment(job, created_slot, result))
    }

    /// `reveal_result` for `result` of `job`.
    pub fn reveal_instruction(
        &self,
        job: &Pubkey,
        created_slot: u64,
        result: &Hash32,
    ) -> Instruction {
        ix::reveal_result(&self.me, job, result.0, self.salt(job, created_slot))
    }
}

/// Publishes outputs for the buyer. Call only once the job settled with this provider's slot
/// paid: earlier, a buyer could force "no quorum" and keep outputs it never paid for.
pub async fn publish(store: &BlobStore, outputs: &[Vec<u8>]) -> Result<Hash32, StoreError> {
    results::publish_outputs(store, outputs).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_compute::executor::{AdapterSummary, Backend};
    use concord_protocol::ErrorCode;

    fn completed(outputs: Vec<Vec<u8>>) -> Execution {
        Execution::Completed {
            result_hash: result_hash(&outputs),
            outputs,
            gpu_time: std::time::Duration::ZERO,
            adapter: AdapterSummary {
                backend: Backend::Vulkan,
                name: "test".into(),
                driver: String::new(),
                device_type: String::new(),
            },
        }
    }

    #[test]
    fn chaos_corrupts_the_first_non_empty_output_and_rehashes() {
        let outputs = vec![vec![], vec![1u8, 2, 3]];
        let honest = Executed::from_execution(completed(outputs.clone()), Chaos::Honest);
        assert_eq!(honest.result, result_hash(&outputs));
        let liar = Executed::from_execution(completed(outputs.clone()), Chaos::CorruptResults(1));
        assert_eq!(liar.outputs, Some(vec![vec![], vec![0u8, 2, 3]]));
        assert_eq!(liar.result, result_hash(&liar.outputs.clone().unwrap()));
        assert_ne!(liar.result, honest.result);
        let other = Executed::from_execution(completed(outputs), Chaos::CorruptResults(2));
        assert_ne!(other.result, liar.result);
        assert_ne!(other.result, honest.result);
    }

    #[test]
    fn invalid_jobs_commit_the_canonical_outcome_whatever_the_chaos() {
        let invalid = InvalidJob::new(ErrorCode::WgslParse, "bad");
        let e = Executed::from_execution(
            Execution::Invalid(invalid.clone()),
            Chaos::CorruptResults(1),
        );
        assert_eq!(
            e.result,
            concord_protocol::error_outcome_hash(ErrorCode::WgslParse)
        );
        assert_eq!((e.outputs, e.invalid), (None, Some(invalid)));
    }

    #[test]
    fn the_commitment_opens_with_the_derived_salt() {
        let key = Keypair::new();
        let id = Identity::new(&key);
        let job = Pubkey::new_unique();
        let result = Hash32([7; 32]);
        assert_eq!(id.salt(&job, 9), Identity::new(&key).salt(&job, 9));
        assert_ne!(id.salt(&job, 9), id.salt(&Pubkey::new_unique(), 9));
        assert_eq!(
            id.commitment(&job, 9, &result),
            commitment_hash(&job, &key.pubkey(), &result.0, &id.salt(&job, 9))
        );
    }

    /// A job address reused after close (a new incarnation, created in a later slot) never
    /// gets the salt an earlier incarnation published in its reveal.
    #[test]
    fn a_reused_job_address_gets_a_fresh_salt() {
        let id = Identity::new(&Keypair::new());
        let job = Pubkey::new_unique();
        let result = Hash32([7; 32]);
        assert_ne!(id.salt(&job, 9), id.salt(&job, 10));
        assert_ne!(
            id.commitment(&job, 9, &result),
            id.commitment(&job, 10, &result)
        );
    }
}
