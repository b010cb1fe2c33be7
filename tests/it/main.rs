//! Workspace-level tests, one binary (each test module used to be its own binary linking the
//! whole Agave stack): both programs in the real Agave bank — staking, the job lifecycle and
//! its paths, rejections with their named errors, attacks, account layouts, and the stateful
//! property test.
mod attacks;
mod audits;
mod disputes;
mod draws;
mod economics;
mod job_lifecycle;
mod job_paths;
mod layout;
mod market_rejections;
mod mint_policy;
mod property;
mod staking;
