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

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed vector; `clients/js/test/commitment.test.mjs` checks the TypeScript client's
    /// `commitmentHash` against the same bytes.
    #[test]
    fn the_commitment_of_a_fixed_vector() {
        let got = commitment_hash(
            &Pubkey::new_from_array([1; 32]),
            &Pubkey::new_from_array([2; 32]),
            &[3; 32],
            &[4; 32],
        );
        let expected: [u8; 32] = [
            97, 11, 44, 64, 35, 14, 53, 75, 46, 46, 87, 102, 102, 223, 99, 16, 239, 48, 244, 176,
            39, 224, 41, 216, 77, 101, 36, 125, 0, 162, 17, 43,
        ];
        assert_eq!(got, expected);
    }
}
