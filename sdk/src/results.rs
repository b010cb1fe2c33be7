//! Moving jobs and results through a content store, for buyers, providers and the agent:
//! publishing a job (modules, inputs and the manifest's canonical bytes, so the manifest's
//! blob hash is its on-chain identity), fetching a manifest by that identity, publishing a
//! provider's outputs under their result hash, and downloading outputs verified against the
//! result hash the chain agreed on.
use borsh::{BorshDeserialize, BorshSerialize};

use crate::store::{BlobStore, StoreError};
use concord_protocol::job::Job;
use concord_protocol::{result_hash, verify_outputs, ResultError};
use concord_protocol::{BlobRef, Hash32, Limits, Manifest};

/// Name prefix of the pointer records from a result hash to its outputs bundle.
pub const RESULTS_PREFIX: &str = "results/";
/// Largest manifest accepted (canonical bytes).
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the outputs do not match the agreed result: {0}")]
    Mismatch(#[from] ResultError),
    #[error("the stored data is malformed: {0}")]
    Malformed(String),
}

/// Uploads a job's modules, inputs and manifest; returns the manifest's identity (its hash).
/// `progress` is called after each blob with (done, total).
pub async fn publish_job(
    store: &BlobStore,
    job: &Job,
    mut progress: impl FnMut(usize, usize),
) -> Result<Hash32, StoreError> {
    let total = job.modules.len() + job.blobs.len() + 1;
    let mut done = 0;
    for source in job.modules.values() {
        store.put_new(source.as_bytes()).await?;
        done += 1;
        progress(done, total);
    }
    for bytes in job.blobs.values() {
        store.put_new(bytes).await?;
        done += 1;
        progress(done, total);
    }
    let manifest = store.put(&job.manifest.canonical_bytes()).await?;
    progress(total, total);
    debug_assert_eq!(manifest.hash.0, job.manifest.id());
    Ok(manifest.hash)
}

/// Fetches and decodes the manifest whose identity is `id` (verified by its hash).
pub async fn fetch_manifest(store: &BlobStore, id: &Hash32) -> Result<Manifest, ResultsError> {
    let bytes = store.get(id, MAX_MANIFEST_BYTES).await?;
    Manifest::from_canonical_bytes(&bytes).map_err(|e| ResultsError::Malformed(e.to_string()))
}

#[derive(BorshSerialize, BorshDeserialize)]
struct OutputsBundle {
    outputs: Vec<Vec<u8>>,
}

/// Uploads `outputs` (one content-addressed bundle plus a `results/<hash>` pointer to it);
/// returns their result hash.
pub async fn publish_outputs(store: &BlobStore, outputs: &[Vec<u8>]) -> Result<Hash32, StoreError> {
    let hash = result_hash(outputs);
    let bundle = borsh::to_vec(&OutputsBundle {
        outputs: outputs.to_vec(),
    })
    .expect("borsh");
    let blob = store.put(&bundle).await?;
    let pointer = borsh::to_vec(&blob).expect("borsh");
    store
        .put_named(&format!("{RESULTS_PREFIX}{}", hash.to_hex()), &pointer)
        .await?;
    Ok(hash)
}

/// Downloads the outputs published under `agreed` and verifies them against the manifest's
/// output sizes and the agreed result hash before returning them.
pub async fn fetch_outputs(
    store: &BlobStore,
    agreed: &Hash32,
    manifest: &Manifest,
) -> Result<Vec<Vec<u8>>, ResultsError> {
    let pointer = store
        .get_named(&format!("{RESULTS_PREFIX}{}", agreed.to_hex()), 1024)
        .await?;
    let blob =
        BlobRef::try_from_slice(&pointer).map_err(|e| ResultsError::Malformed(e.to_string()))?;
    let limit = manifest.output_indices().len() as u64 * 16 + Limits::V1.max_total_bytes + 64;
    if blob.size > limit {
        return Err(ResultsError::Malformed(format!(
            "the outputs bundle claims {} bytes",
            blob.size
        )));
    }
    let bytes = store.get_ref(&blob).await?;
    let bundle = OutputsBundle::try_from_slice(&bytes)
        .map_err(|e| ResultsError::Malformed(e.to_string()))?;
    verify_outputs(manifest, &bundle.outputs, Some(agreed))?;
    Ok(bundle.outputs)
}
