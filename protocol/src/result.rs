//! The result hash — defined once, used everywhere — and the check that downloaded outputs
//! form a job's result.
//!
//! Result hash: blake3 in key-derivation mode with context [`RESULT_CONTEXT`] over
//! `u32 count ‖ for each output buffer i (in buffer order): u32 i ‖ u64 len ‖ bytes`
//! (little-endian). Domain separation keeps it distinct from blob and manifest hashes, and
//! the index/length prefixes make the encoding injective.

use crate::hash::Hash32;
use crate::manifest::Manifest;

/// blake3 key-derivation context of the result hash.
pub const RESULT_CONTEXT: &str = "concord 2026 result v1";

/// Result hash of the output buffers, in buffer order.
pub fn result_hash<B: AsRef<[u8]>>(outputs: &[B]) -> Hash32 {
    let mut h = blake3::Hasher::new_derive_key(RESULT_CONTEXT);
    let count = u32::try_from(outputs.len()).expect("more than u32::MAX output buffers");
    h.update(&count.to_le_bytes());
    for (i, out) in outputs.iter().enumerate() {
        let bytes = out.as_ref();
        h.update(&(i as u32).to_le_bytes());
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    Hash32(*h.finalize().as_bytes())
}

/// Why downloaded or reported outputs do not form the result of a job.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResultError {
    #[error("the job has {expected} output buffers but {actual} were given")]
    WrongCount { expected: usize, actual: usize },
    #[error("output {index} is {actual} bytes but the manifest declares {expected}")]
    WrongSize {
        index: usize,
        expected: u64,
        actual: u64,
    },
    #[error("the outputs hash to {actual}, not to the expected result {expected}")]
    HashMismatch { expected: Hash32, actual: Hash32 },
}

/// Check that `outputs` have the count and sizes the manifest's output buffers declare and,
/// if `expected` is given, that they hash to it. Returns their result hash.
pub fn verify_outputs<B: AsRef<[u8]>>(
    manifest: &Manifest,
    outputs: &[B],
    expected: Option<&Hash32>,
) -> Result<Hash32, ResultError> {
    let indices = manifest.output_indices();
    if indices.len() != outputs.len() {
        return Err(ResultError::WrongCount {
            expected: indices.len(),
            actual: outputs.len(),
        });
    }
    for (index, (&b, out)) in indices.iter().zip(outputs).enumerate() {
        let (declared, actual) = (manifest.buffers[b].size(), out.as_ref().len() as u64);
        if declared != actual {
            return Err(ResultError::WrongSize {
                index,
                expected: declared,
                actual,
            });
        }
    }
    let actual = result_hash(outputs);
    match expected {
        Some(e) if *e != actual => Err(ResultError::HashMismatch {
            expected: *e,
            actual,
        }),
        _ => Ok(actual),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_outputs_checks_count_size_and_hash() {
        let mut jb = crate::job::JobBuilder::new();
        jb.output(8);
        jb.uniform(vec![0; 16]);
        jb.output(4);
        jb.pass("", "main", [1, 1, 1], &[]);
        let m = jb.build().manifest;
        let good = vec![vec![1u8; 8], vec![2u8; 4]];
        let h = verify_outputs(&m, &good, None).unwrap();
        assert_eq!(verify_outputs(&m, &good, Some(&h)), Ok(h));
        assert_eq!(
            verify_outputs(&m, &good[..1], None),
            Err(ResultError::WrongCount {
                expected: 2,
                actual: 1
            })
        );
        let short = vec![vec![1u8; 8], vec![2u8; 3]];
        let e = verify_outputs(&m, &short, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "output 1 is 3 bytes but the manifest declares 4"
        );
        let other = Hash32([0; 32]);
        assert!(matches!(
            verify_outputs(&m, &good, Some(&other)),
            Err(ResultError::HashMismatch { .. })
        ));
    }

    #[test]
    fn result_hash_is_domain_separated_and_injective() {
        let a = result_hash(&[vec![1u8, 2, 3, 4]]);
        assert_ne!(a, Hash32::of(&[1, 2, 3, 4]));
        // Moving a byte between buffers changes the hash.
        assert_ne!(
            result_hash(&[vec![1u8, 2], vec![3, 4]]),
            result_hash(&[vec![1u8, 2, 3], vec![4]])
        );
        assert_ne!(
            result_hash::<Vec<u8>>(&[]),
            result_hash(&[Vec::<u8>::new()])
        );
        assert_eq!(a, result_hash(&[[1u8, 2, 3, 4]]));
    }

    /// Pinned: `clients/js` (`test/manifest.test.mjs`) hashes the same outputs to the same hex.
    #[test]
    fn the_result_hash_of_a_fixed_vector() {
        let outputs: [&[u8]; 3] = [&[1, 2, 3], &[], &[255; 5]];
        assert_eq!(
            result_hash(&outputs).to_hex(),
            "7b0b3c803353ddd4ce78573fb2b57d499653340a377bbc601674e05b9d821ab3"
        );
    }
}
