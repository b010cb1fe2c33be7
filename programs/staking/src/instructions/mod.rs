//! One module per instruction of the staking program: its accounts (with every constraint) and
//! a short handler.
#![allow(ambiguous_glob_reexports)]

pub mod close_provider;
pub mod deposit_stake;
pub mod initialize_config;
pub mod lock_collateral;
pub mod register_provider;
pub mod request_unbond;
pub mod slash;
pub mod unlock_collateral;
pub mod update_config;
pub mod update_provider;
pub mod withdraw_stake;

pub use close_provider::*;
pub use deposit_stake::*;
pub use initialize_config::*;
pub use lock_collateral::*;
pub use register_provider::*;
pub use request_unbond::*;
pub use slash::*;
pub use unlock_collateral::*;
pub use update_config::*;
pub use update_provider::*;
pub use withdraw_stake::*;
