//! `concord store put|get`: blobs in a content store (directory, http(s)://, s3://bucket) by
//! their blake3 hash; every get is verified against the hash.
use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use super::{emit, exit, CliError, OutputFormat, Status};
use crate::manifest::Hash32;
use crate::store::{BlobStore, StoreError};

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

pub fn store_error(e: StoreError) -> CliError {
    let code = match e {
        StoreError::Unreachable { .. } => exit::NETWORK,
        StoreError::NotFound { .. } | StoreError::NamedNotFound { .. } => exit::NOT_FOUND,
        StoreError::HashMismatch { .. } => exit::VERIFY_FAILED,
        _ => exit::INPUT,
    };
    CliError::new(code, e.to_string())
}

pub fn open(location: &str) -> Result<BlobStore, CliError> {
    BlobStore::open(location).map_err(store_error)
}

pub async fn run(cmd: StoreCommand, output: OutputFormat) -> Result<Status, CliError> {
    match cmd {
        StoreCommand::Put { file, store } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| CliError::msg(format!("cannot read {}: {e}", file.display())))?;
            let blob = open(&store)?.put(&bytes).await.map_err(store_error)?;
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
            let hash = Hash32::from_hex(&hash).map_err(|e| CliError::msg(e.to_string()))?;
            let bytes = open(&store)?
                .get(&hash, max_bytes)
                .await
                .map_err(store_error)?;
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
