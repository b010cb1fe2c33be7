//! Concord SDK: the programs through RPC on any cluster (`chain`: PDAs, instruction builders,
//! account reads and job discovery, sending with retries, program errors), the
//! content-addressed store (`store`: local directory, HTTP(S), S3-compatible) and verified
//! results (`results`). No GPU code: the executor is in `concord-compute`.
//! Module order: `store` → `results`; `chain` stands alone.

pub mod chain;
pub mod results;
pub mod store;

#[cfg(feature = "testing")]
pub mod testing;
