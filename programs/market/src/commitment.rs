//! The commitment hash, defined once for the program, the SDK, the agent and the tests:
//! `SHA-256("concord-commit-v1" ‖ job ‖ provider ‖ result_hash ‖ salt)`. SHA-256 because the
//! `sol_sha256` syscall is available on every cluster (the blake3 one is not); the result hash
//! it commits to is the executor's 32-byte blake3 hash.
use anchor_lang::prelude::Pubkey;

/// Domain separator of the commitment.
pub const COMMITMENT_DOMAIN: &[u8] = b"concord-commit-v1";

/// The commitment a provider posts for `result_hash` in `job`, hidden by a secret `salt`.
pub fn commitment_hash(
    job: &Pubkey,
    provider: &Pubkey,
    result_hash: &[u8; 32],
    salt: &[u8; 32],
) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[
        COMMITMENT_DOMAIN,
        job.as_ref(),
        provider.as_ref(),
        result_hash,
        salt,
    ])
    .to_bytes()
}
