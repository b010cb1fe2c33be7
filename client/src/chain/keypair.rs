//! Reading a Solana CLI keypair file (a JSON array of 64 bytes), with errors that say which
//! file and what is wrong with it.
use std::path::Path;

use solana_sdk::signature::Keypair;

pub fn read_keypair(path: &Path) -> Result<Keypair, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the keypair file {}: {e}", path.display()))?;
    let bytes: Vec<u8> = serde_json::from_str(&text).map_err(|_| {
        format!(
            "{} is not a Solana keypair file (a JSON array of 64 bytes)",
            path.display()
        )
    })?;
    Keypair::try_from(bytes.as_slice())
        .map_err(|_| format!("{} is not a valid keypair", path.display()))
}
