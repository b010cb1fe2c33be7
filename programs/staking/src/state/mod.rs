//! Account layouts of the staking program and their PDA seeds.
pub mod config;
pub mod provider;

pub use config::*;
pub use provider::*;
