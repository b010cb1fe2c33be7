//! `concord job execute`: a provider runs a claimed job with the provider engine, keeps the
//! outputs and the result for the reveal, and commits.
use std::path::PathBuf;

use serde_json::json;

use super::*;
use crate::context::Ctx;
use crate::progress;
use crate::store::open as open_store;
use crate::{emit, CliError, OutputFormat};
use concord_compute::executor::{AdapterSelector, Backend};
use concord_protocol::Hash32;
use concord_provider::{self as engine, Chaos, Executed, Identity};
use concord_sdk::results;

pub async fn run(
    ctx: &Ctx,
    job: &str,
    store: Option<String>,
    backend: Option<String>,
    dir: Option<PathBuf>,
    corrupt: bool,
    output: OutputFormat,
) -> Result<(), CliError> {
    let me = ctx.me()?;
    let address = job_address(job)?;
    let j = ctx.chain.job(&address).await?;
    let store = open_store(store.as_deref().unwrap_or(&j.manifest_uri))?;
    let manifest = results::fetch_manifest(&store, &Hash32(j.manifest_hash)).await?;
    let selector = match backend.as_deref() {
        None => AdapterSelector::default(),
        Some("vulkan") => AdapterSelector::backend(Backend::Vulkan),
        Some("gl") => AdapterSelector::backend(Backend::Gl),
        Some(other) => {
            return Err(CliError::msg(format!(
                "unknown backend `{other}` (vulkan or gl)"
            )))
        }
    };
    let spinner = progress::spinner(output, "running the job");
    let fetched = store.fetch_job(manifest).await?;
    let executor = crate::self_hosted(selector)?;
    let execution = engine::execute(&executor, fetched)
        .await
        .map_err(|e| CliError::msg(format!("the job could not run here: {e}")))?;
    spinner.finish_and_clear();
    let chaos = if corrupt {
        Chaos::CorruptResults(1)
    } else {
        Chaos::Honest
    };
    let executed = Executed::from_execution(execution, chaos);
    let result = executed.result;
    let identity = Identity::new(ctx.payer()?);
    let dir = state_dir(dir);
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::msg(format!("cannot create {}: {e}", dir.display())))?;
    // The outputs are published only once the job settled with this slot paid (`job
    // publish`): published now, anyone could copy their hash into a commitment without
    // running the job, and a buyer could force "no quorum" and keep them unpaid.
    if let Some(outputs) = &executed.outputs {
        let bundle = borsh::to_vec(outputs).expect("borsh");
        std::fs::write(dir.join(outputs_file(&address, &me)), bundle)
            .map_err(|e| CliError::msg(format!("cannot save the outputs: {e}")))?;
    }
    std::fs::write(
        dir.join(commitment_file(&address, &me)),
        json!({"job": address.to_string(), "provider": me.to_string(), "result_hash": result.to_hex(), "store": store.location()})
            .to_string(),
    )
    .map_err(|e| CliError::msg(format!("cannot save the commitment: {e}")))?;
    let sig = ctx
        .sender()?
        .send(
            &[identity.commit_instruction(&address, j.created_slot, &result)],
            &[],
        )
        .await?;
    let kind = match &executed.invalid {
        None => "ran the job".to_string(),
        Some(e) => format!("the job is invalid ({e})"),
    };
    emit(
        output,
        json!({"job": address.to_string(), "result_hash": result.to_hex(), "signature": sig.to_string()}),
        || {
            format!(
                "{kind}; committed result {}; signature {sig}",
                result.to_hex()
            )
        },
    );
    Ok(())
}
