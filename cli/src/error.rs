//! The CLI's errors: one plain sentence and an exit code chosen by the error's type
//! ([`Failure`]), never by the call site.
use concord_protocol::{BadHash, ManifestError};
use concord_sdk::chain::{BadAmount, ChainError, KeypairError};
use concord_sdk::results::ResultsError;
use concord_sdk::store::StoreError;

/// Exit codes: what kind of failure ended the command.
pub mod exit {
    pub const OK: i32 = 0;
    /// A check ran and failed (backends disagree, a lint denied).
    pub const CHECK_FAILED: i32 = 1;
    /// Bad input: arguments, files, keypair, config.
    pub const INPUT: i32 = 2;
    /// The cluster, faucet or store could not be reached.
    pub const NETWORK: i32 = 3;
    /// The chain refused the transaction (a named program error, insufficient funds...).
    pub const REFUSED: i32 = 4;
    /// An account (job, provider, config) does not exist.
    pub const NOT_FOUND: i32 = 5;
    /// Waiting ran out of time.
    pub const TIMEOUT: i32 = 6;
    /// Downloaded data did not verify against the agreed hash.
    pub const VERIFY_FAILED: i32 = 7;
}

/// An error for the user: one sentence, no debug dump, and the exit code it ends with.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub message: String,
}

impl CliError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
        }
    }

    /// A failure to carry out the command (exit 2).
    pub fn msg(message: impl Into<String>) -> Self {
        CliError::new(exit::INPUT, message)
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// What kind of failure an error is: its exit code comes from its type and variant, so a
/// call site only writes `?`.
pub trait Failure: std::error::Error {
    fn exit_code(&self) -> i32;
}

impl<E: Failure> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError::new(e.exit_code(), e.to_string())
    }
}

impl Failure for ChainError {
    fn exit_code(&self) -> i32 {
        match self {
            ChainError::Rpc(_) => exit::NETWORK,
            ChainError::Program { .. } | ChainError::Transaction(_) => exit::REFUSED,
            ChainError::Timeout(_) => exit::TIMEOUT,
            ChainError::NotFound(_) => exit::NOT_FOUND,
            ChainError::WrongAccount { .. }
            | ChainError::NotAMint(_)
            | ChainError::MalformedClock => exit::INPUT,
        }
    }
}

impl Failure for StoreError {
    fn exit_code(&self) -> i32 {
        match self {
            StoreError::Unreachable { .. } => exit::NETWORK,
            StoreError::NotFound { .. } | StoreError::NamedNotFound { .. } => exit::NOT_FOUND,
            StoreError::HashMismatch { .. } => exit::VERIFY_FAILED,
            _ => exit::INPUT,
        }
    }
}

impl Failure for ResultsError {
    fn exit_code(&self) -> i32 {
        match self {
            ResultsError::Store(s) => s.exit_code(),
            _ => exit::VERIFY_FAILED,
        }
    }
}

/// Bad input: a keypair file, an amount, a hash, a manifest.
macro_rules! input_errors {
    ($($t:ty),*) => {$(
        impl Failure for $t {
            fn exit_code(&self) -> i32 {
                exit::INPUT
            }
        }
    )*};
}
input_errors!(KeypairError, BadAmount, BadHash, ManifestError);
