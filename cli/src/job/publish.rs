//! `concord job publish`: a provider publishes the outputs it saved at `job execute` to the
//! job's store, only once the job settled with its slot paid. Earlier, a buyer could force
//! "no quorum" (a refund) and keep outputs it never paid for.
use std::path::{Path, PathBuf};

use anchor_lang::prelude::Pubkey;

use super::*;
use crate::context::Ctx;
use crate::store::open as open_store;
use crate::{emit, exit, CliError, OutputFormat};
use concord_provider as engine;
use concord_sdk::chain::SlotOutcome;

pub async fn run(
    ctx: &Ctx,
    job: &str,
    dir: Option<PathBuf>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let me = ctx.me()?;
    let address = job_address(job)?;
    let j = ctx.chain.job(&address).await?;
    let dir = state_dir(dir);
    let outcome = j
        .slot_index_of(&me)
        .map(|i| j.slots[i].outcome)
        .ok_or_else(|| CliError::new(exit::REFUSED, format!("{me} holds no slot in {address}")))?;
    if outcome != SlotOutcome::Paid {
        return Err(CliError::new(
            exit::REFUSED,
            format!(
                "job {address} is {} and this slot is {}: outputs are published only for a paid slot",
                j.state.name(),
                outcome.name()
            ),
        ));
    }
    let published = publish_saved(&dir, &address, &me).await?;
    if !published {
        return Err(CliError::new(
            exit::NOT_FOUND,
            format!(
                "no outputs saved for job {address} in {} (already published, or an invalid job)",
                dir.display()
            ),
        ));
    }
    emit(
        output,
        serde_json::json!({"job": address.to_string(), "published": true}),
        || format!("published the outputs of {address}"),
    );
    Ok(())
}

/// Publishes the outputs `me` saved for `job` in `dir` to the store recorded with its
/// commitment, then removes them. `Ok(false)` when nothing is saved. The caller checks that
/// the slot is paid.
pub(super) async fn publish_saved(dir: &Path, job: &Pubkey, me: &Pubkey) -> Result<bool, CliError> {
    let outputs_path = dir.join(outputs_file(job, me));
    let Ok(bundle) = std::fs::read(&outputs_path) else {
        return Ok(false);
    };
    let outputs: Vec<Vec<u8>> = borsh::from_slice(&bundle)
        .map_err(|e| CliError::msg(format!("the saved outputs are damaged: {e}")))?;
    let saved = read_saved(&dir.join(commitment_file(job, me))).unwrap_or_default();
    let store = open_store(saved["store"].as_str().unwrap_or_default())?;
    engine::publish(&store, &outputs).await?;
    let _ = std::fs::remove_file(&outputs_path);
    Ok(true)
}
