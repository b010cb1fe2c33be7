//! `concord job result`: download a settled job's outputs, verify them against the agreed
//! hash, write them.
use std::path::PathBuf;

use serde_json::json;

use super::*;
use crate::context::Ctx;
use crate::progress;
use crate::store::open as open_store;
use crate::{emit, exit, CliError, OutputFormat};
use concord_protocol::Hash32;
use concord_sdk::results;
use concord_sdk::store::StoreError;

/// A missing outputs pointer after the wait says why, in the buyer's terms.
fn not_published_yet(e: results::ResultsError, job: &Pubkey) -> CliError {
    match e {
        results::ResultsError::Store(StoreError::NamedNotFound { location, .. }) => CliError::new(
            exit::NOT_FOUND,
            format!(
                "the outputs of {job} are not in {location} yet: paid providers publish them after settlement; try again shortly"
            ),
        ),
        other => other.into(),
    }
}

/// How long `job result` waits for a paid provider to publish a settled job's outputs.
const PUBLISH_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

pub async fn run(
    ctx: &Ctx,
    job: &str,
    store: Option<String>,
    out: PathBuf,
    output: OutputFormat,
) -> Result<(), CliError> {
    let address = job_address(job)?;
    let (agreed, manifest, outputs) = download(ctx, &address, store.as_deref(), output).await?;
    std::fs::create_dir_all(&out)
        .map_err(|e| CliError::msg(format!("cannot create {}: {e}", out.display())))?;
    let mut files = Vec::new();
    for (index, bytes) in manifest.output_indices().into_iter().zip(&outputs) {
        let path = out.join(format!("output-{index}.bin"));
        std::fs::write(&path, bytes)
            .map_err(|e| CliError::msg(format!("cannot write {}: {e}", path.display())))?;
        files.push(path.display().to_string());
    }
    emit(
        output,
        json!({"job": address.to_string(), "result_hash": agreed.to_hex(), "files": files}),
        || {
            format!(
                "verified {} output(s) against {}; wrote {}",
                files.len(),
                agreed.to_hex(),
                files.join(", ")
            )
        },
    );
    Ok(())
}

/// A settled job's outputs, downloaded from `store` (default: the job's manifest store) and
/// verified against the hash the chain agreed on; waits a little for the paid providers to
/// publish them.
pub async fn download(
    ctx: &Ctx,
    address: &Pubkey,
    store: Option<&str>,
    output: OutputFormat,
) -> Result<(Hash32, concord_protocol::Manifest, Vec<Vec<u8>>), CliError> {
    let address = *address;
    let j = ctx.chain.job(&address).await?;
    let agreed = j.agreed_hash.map(Hash32).ok_or_else(|| {
        CliError::new(
            exit::REFUSED,
            format!(
                "job {address} has no agreed result (it is {})",
                j.state.name()
            ),
        )
    })?;
    let store = open_store(store.unwrap_or(&j.manifest_uri))?;
    let manifest = results::fetch_manifest(&store, &Hash32(j.manifest_hash)).await?;
    let spinner = progress::spinner(output, "downloading outputs");
    // Paid providers publish the outputs once they see the settlement (within seconds): a
    // result asked for right after settling may have to wait for the first of them.
    let deadline = std::time::Instant::now() + PUBLISH_WAIT;
    let outputs = loop {
        match results::fetch_outputs(&store, &agreed, &manifest).await {
            Err(results::ResultsError::Store(StoreError::NamedNotFound { .. }))
                if std::time::Instant::now() < deadline =>
            {
                spinner.set_message("waiting for the paid providers to publish the outputs");
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
            other => break other.map_err(|e| not_published_yet(e, &address))?,
        }
    };
    spinner.finish_and_clear();
    Ok((agreed, manifest, outputs))
}
