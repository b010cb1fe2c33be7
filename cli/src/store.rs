//! `concord store put|get`: blobs in a content store (directory, http(s)://, s3://bucket) by
//! their blake3 hash; every get is verified against the hash.
use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::{emit, CliError, OutputFormat, Status};
use concord_protocol::Hash32;
use concord_sdk::store::BlobStore;

#[derive(Subcommand, Debug)]
pub enum StoreCommand {
    /// Store a file; prints its hash.
    Put {
        file: PathBuf,
        /// Store location (directory, file://, http(s)://, s3://bucket).
        #[arg(long)]
        store: String,
    },
    /// Fetch a blob by hash, verify it, and write it to a file.
    Get {
        hash: String,
        #[arg(long)]
        store: String,
        /// Where to write the blob.
        #[arg(long, short = 'o')]
        out: PathBuf,
        /// Largest blob accepted, in bytes.
        #[arg(long, default_value_t = 512 << 20)]
        max_bytes: u64,
    },
}

pub fn open(location: &str) -> Result<BlobStore, CliError> {
    BlobStore::open(location).map_err(CliError::from)
}

pub async fn run(cmd: StoreCommand, output: OutputFormat) -> Result<Status, CliError> {
    match cmd {
        StoreCommand::Put { file, store } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| CliError::msg(format!("cannot read {}: {e}", file.display())))?;
            let blob = open(&store)?.put(&bytes).await?;
            emit(
                output,
                json!({"hash": blob.hash.to_hex(), "size": blob.size}),
                || blob.hash.to_hex(),
            );
        }
        StoreCommand::Get {
            hash,
            store,
            out,
            max_bytes,
        } => {
            let hash = Hash32::from_hex(&hash)?;
            let bytes = open(&store)?.get(&hash, max_bytes).await?;
            std::fs::write(&out, &bytes)
                .map_err(|e| CliError::msg(format!("cannot write {}: {e}", out.display())))?;
            emit(
                output,
                json!({"hash": hash.to_hex(), "size": bytes.len(), "file": out}),
                || format!("wrote {} bytes to {}", bytes.len(), out.display()),
            );
        }
    }
    Ok(Status::Ok)
}
