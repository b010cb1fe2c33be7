//! The Concord provider agent (`concord-agent`): a daemon that serves a staked provider's GPU
//! to the market. It discovers open jobs, claims those it can serve, runs them with the
//! deterministic executor in a killable worker, commits and reveals the result hash, uploads
//! the outputs and settles, keeping every step in a durable journal so a restart resumes.
//!
//! Modules, each using only those above it: `config`, `journal`, `metrics`, `fetch`,
//! `eligibility`, `watch` (job notifications) → `context` (what all parts share) → `lifecycle` (one job) → `discovery`
//! (finding and claiming jobs) → `startup` (connect, register, stake) and `supervisor`
//! (resume, discover until shutdown, drain, stop the metrics server last).
pub mod config;
pub mod context;
pub mod discovery;
pub mod eligibility;
pub mod fetch;
pub mod journal;
pub mod lifecycle;
pub mod metrics;
pub mod startup;
pub mod supervisor;
pub mod watch;
