//! Account layouts of the market program and their PDA seeds.
pub mod config;
pub mod draw_set;
pub mod job;

pub use config::*;
pub use draw_set::*;
pub use job::*;
