//! Reading a Solana CLI keypair file (a JSON array of 64 bytes), with errors that say which
//! file and what is wrong with it.
use std::path::{Path, PathBuf};

use solana_sdk::signature::Keypair;

/// Why a keypair file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeypairError {
    #[error("cannot read the keypair file {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a Solana keypair file (a JSON array of 64 bytes)", path.display())]
    NotAKeypairFile {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{} is not a valid keypair", path.display())]
    Invalid { path: PathBuf },
}

pub fn read_keypair(path: &Path) -> Result<Keypair, KeypairError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeypairError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let bytes: Vec<u8> =
        serde_json::from_str(&text).map_err(|source| KeypairError::NotAKeypairFile {
            path: path.to_path_buf(),
            source,
        })?;
    Keypair::try_from(bytes.as_slice()).map_err(|_| KeypairError::Invalid {
        path: path.to_path_buf(),
    })
}
