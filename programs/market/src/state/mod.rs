//! Account layouts of the market program and their PDA seeds.
pub mod config;
pub mod job;

pub use config::*;
pub use job::*;
