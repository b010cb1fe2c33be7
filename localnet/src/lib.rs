//! `concord-localnet`: a real local Solana chain for laptops, the demo and end-to-end tests.
//! An in-process `solana-test-validator` (real JSON-RPC and PubSub, slots advancing, SPL Token
//! from genesis) with both Concord programs added to its bank as native builtins, a payment
//! mint, both configs initialized, the standard `requestAirdrop` faucet, and on one HTTP port
//! a faucet that also hands out the payment token and a content store a browser can write to.
//! The same setup is a library tests start in-process.
//! Modules: `funder` (SOL and tokens) and `store` (blobs) ← `faucet` (HTTP) and `chain` (the
//! validator, with `scheduler` lowering its busy-polling thread).
pub mod chain;
pub mod faucet;
pub mod funder;
pub mod scheduler;
pub mod store;

pub use chain::{free_port, Localnet, LocalnetConfig, LocalnetInfo};
pub use funder::{Funder, DECIMALS};
