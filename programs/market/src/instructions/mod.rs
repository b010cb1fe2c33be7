//! One module per instruction of the market program: its accounts (with every constraint) and
//! a short handler.
#![allow(ambiguous_glob_reexports)]

pub mod audit;
pub mod cancel_job;
pub mod claim_slot;
pub mod close_job;
pub mod commit_result;
pub mod create_job;
pub mod initialize_market;
pub mod join_draws;
pub mod redraw;
pub mod refund_unfilled;
pub mod reveal_result;
pub mod set_paused;
pub mod settle;
pub mod settle_referees;
pub mod sync_draw_weight;
pub mod update_market;
pub mod withdraw_fees;

pub use audit::*;
pub use cancel_job::*;
pub use claim_slot::*;
pub use close_job::*;
pub use commit_result::*;
pub use create_job::*;
pub use initialize_market::*;
pub use join_draws::*;
pub use redraw::*;
pub use refund_unfilled::*;
pub use reveal_result::*;
pub use set_paused::*;
pub use settle::*;
pub use sync_draw_weight::*;
pub use update_market::*;
pub use withdraw_fees::*;
