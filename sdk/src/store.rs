//! The content store: blobs addressed by their blake3 hash (lowercase hex object names) on a
//! local directory (default), an HTTP(S) server or an S3-compatible bucket, through the
//! `object_store` crate.
//!
//! Every read is verified against its hash. Sizes are capped before download (the object's
//! metadata size is checked first) and again while streaming, so a lying server cannot make
//! the reader buffer more than the cap.

use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::http::HttpBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, PutPayload, RetryConfig};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::blob_cache::BlobCache;
use concord_protocol::job::{InvalidJob, Job};
use concord_protocol::{BlobRef, Hash32, Limits, Manifest};

/// Default cap on a single blob: the protocol's largest buffer.
pub const DEFAULT_MAX_BLOB_BYTES: u64 = Limits::V1.max_buffer_bytes;

/// Why a blob could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("blob {hash} is not in the store at {location}")]
    NotFound { hash: Hash32, location: String },
    #[error(
        "the store at {location} returned content for blob {expected} that hashes to {actual}"
    )]
    HashMismatch {
        expected: Hash32,
        actual: Hash32,
        location: String,
    },
    #[error("blob {hash} is larger than the allowed {limit} bytes (the store reports {size})")]
    TooLarge { hash: Hash32, size: u64, limit: u64 },
    #[error("the store at {location} cannot be reached: {reason}")]
    Unreachable { location: String, reason: String },
    #[error("`{name}` is not in the store at {location}")]
    NamedNotFound { name: String, location: String },
    #[error("`{0}` is not a store location (use a directory, file://, http(s):// or s3://bucket)")]
    BadLocation(String),
    #[error("the store at {location} is on a private, loopback or link-local address ({address}), which is refused")]
    PrivateAddress { location: String, address: String },
}

/// Whether `ip` is loopback, private, link-local, unspecified, CGNAT or unique-local: an
/// address a buyer's manifest must not make a provider fetch from.
pub fn is_non_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_non_public(IpAddr::V4(v4)))
        }
    }
}

/// A blake3-addressed blob store.
#[derive(Clone, Debug)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
    location: String,
    max_blob_bytes: u64,
}

fn retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_millis(500),
            base: 2.0,
        },
        max_retries: 2,
        retry_timeout: Duration::from_secs(10),
    }
}

fn client_options(allow_http: bool) -> ClientOptions {
    ClientOptions::new()
        .with_allow_http(allow_http)
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout(Duration::from_secs(120))
}

fn one_line(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl BlobStore {
    /// A store in a local directory (created if missing).
    pub fn local(dir: impl AsRef<std::path::Path>) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        let location = dir.display().to_string();
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Unreachable {
            location: location.clone(),
            reason: e.to_string(),
        })?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(|e| StoreError::Unreachable {
            location: location.clone(),
            reason: one_line(&e),
        })?;
        Ok(BlobStore {
            inner: Arc::new(fs),
            location,
            max_blob_bytes: DEFAULT_MAX_BLOB_BYTES,
        })
    }

    /// A store served over HTTP(S) at `url` (GET/HEAD to read, PUT to write).
    pub fn http(url: &str) -> Result<Self, StoreError> {
        let base = url.trim_end_matches('/');
        let store = HttpBuilder::new()
            .with_url(base)
            .with_client_options(client_options(url.starts_with("http://")))
            .with_retry(retry())
            .build()
            .map_err(|_| StoreError::BadLocation(url.to_string()))?;
        Ok(BlobStore {
            inner: Arc::new(store),
            location: url.to_string(),
            max_blob_bytes: DEFAULT_MAX_BLOB_BYTES,
        })
    }

    /// An S3-compatible bucket. Credentials and region come from the usual `AWS_*`
    /// environment variables; `endpoint` selects a non-AWS service (MinIO, R2, ...).
    pub fn s3(bucket: &str, endpoint: Option<&str>) -> Result<Self, StoreError> {
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(retry());
        let mut allow_http = false;
        if let Some(e) = endpoint {
            allow_http = e.starts_with("http://");
            b = b.with_endpoint(e);
        }
        let store = b
            .with_client_options(client_options(allow_http))
            .build()
            .map_err(|e| StoreError::Unreachable {
                location: format!("s3://{bucket}"),
                reason: one_line(&e),
            })?;
        Ok(BlobStore {
            inner: Arc::new(store),
            location: format!("s3://{bucket}"),
            max_blob_bytes: DEFAULT_MAX_BLOB_BYTES,
        })
    }

    /// Open a store from a location string: a directory path, `file:///dir`, `http(s)://...`,
    /// or `s3://bucket` (endpoint from `AWS_ENDPOINT_URL` if set).
    pub fn open(location: &str) -> Result<Self, StoreError> {
        if location.starts_with("http://") || location.starts_with("https://") {
            BlobStore::http(location)
        } else if let Some(bucket) = location.strip_prefix("s3://") {
            let bucket = bucket.trim_end_matches('/');
            if bucket.is_empty() || bucket.contains('/') {
                return Err(StoreError::BadLocation(location.to_string()));
            }
            let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
            BlobStore::s3(bucket, endpoint.as_deref())
        } else if let Some(path) = location.strip_prefix("file://") {
            BlobStore::local(path)
        } else if location.contains("://") {
            Err(StoreError::BadLocation(location.to_string()))
        } else {
            BlobStore::local(location)
        }
    }

    /// Like [`BlobStore::open`] for locations that come from someone else (a job's
    /// manifest URI): only `http(s)://` and `s3://` are accepted, and an HTTP(S) host that
    /// is or resolves to a loopback, private or link-local address is refused. (A host
    /// that re-resolves differently later is not caught: pin addresses at a proxy for that.)
    pub async fn open_untrusted(location: &str) -> Result<Self, StoreError> {
        if location.starts_with("s3://") {
            return BlobStore::open(location);
        }
        if !(location.starts_with("http://") || location.starts_with("https://")) {
            return Err(StoreError::BadLocation(location.to_string()));
        }
        let url =
            url::Url::parse(location).map_err(|_| StoreError::BadLocation(location.to_string()))?;
        let host = url
            .host_str()
            .ok_or_else(|| StoreError::BadLocation(location.to_string()))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        // Names that always mean this machine are refused as names, whatever the resolver
        // says (a minimal system may not resolve `localhost` at all).
        let lower = host.trim_end_matches('.').to_ascii_lowercase();
        if lower == "localhost" || lower.ends_with(".localhost") {
            return Err(StoreError::PrivateAddress {
                location: location.to_string(),
                address: host.to_string(),
            });
        }
        let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| StoreError::Unreachable {
                location: location.to_string(),
                reason: e.to_string(),
            })?
            .collect();
        if let Some(bad) = addrs.iter().find(|a| is_non_public(a.ip())) {
            return Err(StoreError::PrivateAddress {
                location: location.to_string(),
                address: bad.ip().to_string(),
            });
        }
        BlobStore::http(location)
    }

    /// Lower the per-blob cap.
    pub fn with_max_blob_bytes(mut self, max: u64) -> Self {
        self.max_blob_bytes = max;
        self
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    fn path(hash: &Hash32) -> ObjectPath {
        ObjectPath::from(hash.to_hex())
    }

    fn map_err(&self, hash: &Hash32, e: object_store::Error) -> StoreError {
        match e {
            object_store::Error::NotFound { .. } => StoreError::NotFound {
                hash: *hash,
                location: self.location.clone(),
            },
            other => StoreError::Unreachable {
                location: self.location.clone(),
                reason: one_line(&other),
            },
        }
    }

    /// Store `bytes` under their hash.
    pub async fn put(&self, bytes: &[u8]) -> Result<BlobRef, StoreError> {
        let r = BlobRef::of(bytes);
        if r.size > self.max_blob_bytes {
            return Err(StoreError::TooLarge {
                hash: r.hash,
                size: r.size,
                limit: self.max_blob_bytes,
            });
        }
        self.inner
            .put(&Self::path(&r.hash), PutPayload::from(bytes.to_vec()))
            .await
            .map_err(|e| self.map_err(&r.hash, e))?;
        Ok(r)
    }

    /// [`BlobStore::put`], unless the store already has an object of this name and size
    /// (names are content hashes, so it is the same blob; every reader verifies the hash
    /// anyway): a model's weights are uploaded once per store, not once per job.
    pub async fn put_new(&self, bytes: &[u8]) -> Result<BlobRef, StoreError> {
        let r = BlobRef::of(bytes);
        match self.inner.head(&Self::path(&r.hash)).await {
            Ok(meta) if meta.size == r.size => Ok(r),
            _ => self.put(bytes).await,
        }
    }

    /// Read blob `hash`, refusing anything over `max_bytes` (and over the store's cap), and
    /// verify its content hash.
    pub async fn get(&self, hash: &Hash32, max_bytes: u64) -> Result<Vec<u8>, StoreError> {
        let limit = max_bytes.min(self.max_blob_bytes);
        let path = Self::path(hash);
        let meta = self
            .inner
            .head(&path)
            .await
            .map_err(|e| self.map_err(hash, e))?;
        if meta.size > limit {
            return Err(StoreError::TooLarge {
                hash: *hash,
                size: meta.size,
                limit,
            });
        }
        let result = self
            .inner
            .get(&path)
            .await
            .map_err(|e| self.map_err(hash, e))?;
        let mut stream = result.into_stream();
        let mut out: Vec<u8> = Vec::with_capacity(usize::try_from(meta.size).unwrap_or(0));
        let mut hasher = blake3::Hasher::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.map_err(hash, e))?;
            let total = (out.len() as u64).saturating_add(chunk.len() as u64);
            if total > limit {
                return Err(StoreError::TooLarge {
                    hash: *hash,
                    size: total,
                    limit,
                });
            }
            hasher.update(&chunk);
            out.extend_from_slice(&chunk);
        }
        let actual = Hash32(*hasher.finalize().as_bytes());
        if actual != *hash {
            return Err(StoreError::HashMismatch {
                expected: *hash,
                actual,
                location: self.location.clone(),
            });
        }
        Ok(out)
    }

    /// Stores a small named record (not content-addressed), such as the pointer from a result
    /// hash to its outputs. Readers must verify what it leads to.
    pub async fn put_named(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.inner
            .put(&ObjectPath::from(name), PutPayload::from(bytes.to_vec()))
            .await
            .map_err(|e| self.map_err(&Hash32([0; 32]), e))?;
        Ok(())
    }

    /// Reads a named record of at most `max_bytes`.
    pub async fn get_named(&self, name: &str, max_bytes: u64) -> Result<Vec<u8>, StoreError> {
        let path = ObjectPath::from(name);
        let not_found = |e: object_store::Error| match e {
            object_store::Error::NotFound { .. } => StoreError::NamedNotFound {
                name: name.to_string(),
                location: self.location.clone(),
            },
            other => self.map_err(&Hash32([0; 32]), other),
        };
        let meta = self.inner.head(&path).await.map_err(not_found)?;
        if meta.size > max_bytes {
            return Err(StoreError::TooLarge {
                hash: Hash32([0; 32]),
                size: meta.size,
                limit: max_bytes,
            });
        }
        let bytes = self
            .inner
            .get(&path)
            .await
            .map_err(not_found)?
            .bytes()
            .await
            .map_err(not_found)?;
        Ok(bytes.to_vec())
    }

    /// Read the blob a [`BlobRef`] names; no more than its declared size is accepted.
    pub async fn get_ref(&self, blob: &BlobRef) -> Result<Vec<u8>, StoreError> {
        self.get(&blob.hash, blob.size).await
    }

    /// Fetch every module and input of `manifest` and assemble the [`Job`]. The outer error
    /// is a store problem; the inner one means the manifest itself is invalid.
    pub async fn fetch_job(
        &self,
        manifest: Manifest,
    ) -> Result<Result<Job, InvalidJob>, StoreError> {
        self.fetch_job_cached(manifest, None).await
    }

    /// [`BlobStore::fetch_job`], reading each blob from `cache` first and keeping what it
    /// downloads there.
    pub async fn fetch_job_cached(
        &self,
        manifest: Manifest,
        cache: Option<&BlobCache>,
    ) -> Result<Result<Job, InvalidJob>, StoreError> {
        if let Err(e) = manifest.validate(&manifest.limits()) {
            return Ok(Err(e.into()));
        }
        let mut blobs = BTreeMap::new();
        for r in Job::required_blobs(&manifest) {
            let bytes = match cache.and_then(|c| c.get(&r)) {
                Some(bytes) => bytes,
                None => {
                    let bytes = self.get_ref(&r).await?;
                    if let Some(c) = cache {
                        c.put(&r, &bytes);
                    }
                    bytes
                }
            };
            blobs.insert(r.hash, bytes);
        }
        Ok(Job::from_blobs(manifest, blobs).expect("all blobs fetched and verified"))
    }
}
