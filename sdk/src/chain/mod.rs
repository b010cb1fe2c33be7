//! Talking to the Concord programs on any cluster (devnet, mainnet, a local test validator)
//! through Solana's nonblocking `RpcClient`: PDAs, instruction builders, account reads and
//! job discovery, sending with retries, job notifications over PubSub, and program errors as
//! plain sentences.
pub mod accounts;
pub mod draws;
pub mod errors;
pub mod ix;
pub mod keypair;
pub mod mint;
pub mod pda;
pub mod send;
pub mod signatures;
pub mod watch;

pub use accounts::{Chain, JobFilter};
pub use draws::{decode_draw_set, DrawView, Turn};
pub use errors::{ChainError, RpcFailure};
pub use keypair::{read_keypair, KeypairError};
pub use mint::{commitment_salt, BadAmount, Mint, SettleStep};
pub use send::Sender;
pub use signatures::{SignatureEvent, SignatureWatch};
pub use watch::{pubsub_url_for, watch_jobs, JobEvent};

pub use concord_market::{
    commitment_hash, DrawEntry, DrawSet, Job, JobState, MarketConfig, MarketParams, SlotOutcome,
    SlotStatus,
};
pub use concord_staking::{HardwareProfile, Provider, StakingConfig};
