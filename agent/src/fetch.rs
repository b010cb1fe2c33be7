//! Getting a job's content from the buyer's store under the operator's trust policy: which
//! store locations are accepted (no loopback / private addresses or local paths unless the
//! config allows them), the manifest verified by its on-chain hash, the total size capped
//! before any blob is downloaded, blobs read from the cache first.
use concord_protocol::job::{InvalidJob, Job as ComputeJob};
use concord_protocol::Hash32;
use concord_sdk::blob_cache::BlobCache;
use concord_sdk::results::{self, ResultsError};
use concord_sdk::store::{BlobStore, StoreError};

use crate::config::StoreSection;

/// Why a job's content could not be had (the job is passed over or retried, never claimed).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the job's store `{0}` is a local path, refused (store.allow_local_paths)")]
    LocalPath(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Manifest(#[from] ResultsError),
    #[error(
        "the job needs {total} bytes of modules and inputs, more than jobs.max_job_bytes ({max})"
    )]
    TooLarge { total: u64, max: u64 },
}

/// A job ready to run: its content, or the reason every honest provider finds it invalid.
pub type Prepared = Result<ComputeJob, InvalidJob>;

/// Opens the store a job names, if the policy accepts it.
pub async fn open_job_store(
    uri: &str,
    policy: &StoreSection,
    max_blob_bytes: u64,
) -> Result<BlobStore, FetchError> {
    let store = if uri.starts_with("http://") || uri.starts_with("https://") {
        if policy.allow_private_addresses {
            BlobStore::open(uri)
        } else {
            BlobStore::open_untrusted(uri).await
        }
    } else if uri.starts_with("s3://") || policy.allow_local_paths {
        BlobStore::open(uri)
    } else {
        return Err(FetchError::LocalPath(uri.to_string()));
    };
    Ok(store?.with_max_blob_bytes(max_blob_bytes))
}

/// Fetches the manifest (checked against `manifest_hash`) and, if the job is within
/// `max_job_bytes`, its modules and inputs (from the blob cache where it has them).
pub async fn prepare(
    store: &BlobStore,
    manifest_hash: &[u8; 32],
    max_job_bytes: u64,
    cache: Option<&BlobCache>,
) -> Result<Prepared, FetchError> {
    let manifest = results::fetch_manifest(store, &Hash32(*manifest_hash)).await?;
    let total: u64 = ComputeJob::required_blobs(&manifest)
        .iter()
        .map(|b| b.size)
        .fold(0u64, |a, b| a.saturating_add(b));
    if total > max_job_bytes {
        return Err(FetchError::TooLarge {
            total,
            max: max_job_bytes,
        });
    }
    Ok(store.fetch_job_cached(manifest, cache).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_and_loopback_stores_are_refused_unless_allowed() {
        let strict = StoreSection::default();
        let err = open_job_store("/tmp/store", &strict, 1 << 20)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("allow_local_paths"), "{err}");
        let err = open_job_store("http://127.0.0.1:9/store", &strict, 1 << 20)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("private, loopback"), "{err}");
        let lenient = StoreSection {
            allow_private_addresses: true,
            allow_local_paths: true,
            ..StoreSection::default()
        };
        let dir = tempfile::tempdir().unwrap();
        assert!(
            open_job_store(dir.path().to_str().unwrap(), &lenient, 1 << 20)
                .await
                .is_ok()
        );
        assert!(
            open_job_store("http://127.0.0.1:9/store", &lenient, 1 << 20)
                .await
                .is_ok()
        );
    }
}
