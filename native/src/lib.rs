//! Runs the Concord programs natively, as builtins inside real Agave code (the program-test
//! bank and the in-process test validator), since no SBF toolchain builds a `.so` here.
//!
//! Two pieces: entry wrappers with the plain `ProcessInstruction` signature that
//! `solana_program_test::processor!` accepts, and the sysvar bridge: Anchor 1.2 reaches
//! syscalls through `solana-sysvar` 3.x stubs while Agave 4.2 installs only 4.x stubs, so
//! without the bridge `Rent::get()` fails and CPIs silently do nothing.
pub mod bridge;
pub mod entry;

pub use bridge::install_sysvar_bridge;
pub use entry::{builtins, Builtin};
