//! Test support shared by the workspace-level tests: PDA helpers, instruction builders, and a
//! bank harness that runs both programs natively inside the real Agave bank (program-test)
//! next to the real SPL Token programs.
pub mod bank;
pub use concord_sdk::chain::{ix, pda};
pub mod property;
pub mod scenario;

pub use bank::{Bank, TxError};
