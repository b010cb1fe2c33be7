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

pub async fn run(
    ctx: &Ctx,
    job: &str,
    store: Option<String>,
    out: PathBuf,
    output: OutputFormat,
) -> Result<(), CliError> {
    let address = job_address(job)?;
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
    let store = open_store(store.as_deref().unwrap_or(&j.manifest_uri))?;
    let manifest = results::fetch_manifest(&store, &Hash32(j.manifest_hash)).await?;
    let spinner = progress::spinner(output, "downloading outputs");
    let outputs = results::fetch_outputs(&store, &agreed, &manifest).await?;
    spinner.finish_and_clear();
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
