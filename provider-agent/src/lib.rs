//! The Concord provider agent (`concord-agent`): a daemon that serves a staked provider's GPU
//! to the market. It discovers open jobs, claims those it can serve, runs them with the
//! deterministic executor in a killable worker, commits and reveals the result hash, uploads
//! the outputs and settles, keeping every step in a durable journal so a restart resumes.
pub mod agent;
pub mod config;
pub mod eligibility;
pub mod fetch;
pub mod journal;
pub mod lifecycle;
pub mod metrics;
