//! `concord job reveal`: a provider reveals its committed result, then publishes the outputs.
use std::path::PathBuf;

use super::*;
use crate::context::Ctx;
use crate::store::open as open_store;
use crate::{exit, CliError, OutputFormat};
use concord_protocol::Hash32;
use concord_provider::{self as engine, Identity};

pub async fn run(
    ctx: &Ctx,
    job: &str,
    dir: Option<PathBuf>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let me = ctx.me()?;
    let address = job_address(job)?;
    let path = state_dir(dir).join(commitment_file(&address, &me));
    let saved: serde_json::Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| {
            CliError::new(
                exit::NOT_FOUND,
                format!("no commitment saved for job {address} ({})", path.display()),
            )
        })?;
    let result = Hash32::from_hex(saved["result_hash"].as_str().unwrap_or_default())
        .map_err(|e| CliError::msg(e.to_string()))?;
    let identity = Identity::new(ctx.payer()?);
    let sig = ctx
        .sender()?
        .send(&[identity.reveal_instruction(&address, &result)], &[])
        .await?;
    // Now that the hash is revealed, publish the outputs for the buyer.
    let outputs_path = path.with_file_name(outputs_file(&address, &me));
    if let Ok(bundle) = std::fs::read(&outputs_path) {
        let outputs: Vec<Vec<u8>> = borsh::from_slice(&bundle)
            .map_err(|e| CliError::msg(format!("the saved outputs are damaged: {e}")))?;
        let location = saved["store"].as_str().unwrap_or_default();
        let store = open_store(location)?;
        engine::publish(&store, &outputs).await?;
        let _ = std::fs::remove_file(&outputs_path);
    }
    signed(
        output,
        format!("revealed {} for {address}", result.to_hex()),
        sig,
    );
    Ok(())
}
