//! Concord SDK: the programs through RPC on any cluster (`chain`: PDAs, instruction builders,
//! account reads and job discovery, sending with retries, program errors), the
//! content-addressed store (`store`: local directory, HTTP(S), S3-compatible) and verified
//! results (`results`), and a bounded LRU cache of blobs on disk (`blob_cache`). No GPU code:
//! the executor is in `concord-compute`.
//! Module order: `blob_cache` → `store` → `results`; `chain` stands alone.

pub mod blob_cache;
pub mod chain;
pub mod results;
pub mod store;

#[cfg(feature = "testing")]
pub mod testing;
