//! `concord job reveal`: a provider reveals its committed result. The outputs stay saved until
//! the job settles with this provider paid (`job publish`, or `job settle` run by it).
use std::path::PathBuf;

use super::*;
use crate::context::Ctx;
use crate::{exit, CliError, OutputFormat};
use concord_protocol::Hash32;
use concord_provider::Identity;

pub async fn run(
    ctx: &Ctx,
    job: &str,
    dir: Option<PathBuf>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let me = ctx.me()?;
    let address = job_address(job)?;
    let path = state_dir(dir).join(commitment_file(&address, &me));
    let saved = read_saved(&path).ok_or_else(|| {
        CliError::new(
            exit::NOT_FOUND,
            format!("no commitment saved for job {address} ({})", path.display()),
        )
    })?;
    let result = Hash32::from_hex(saved["result_hash"].as_str().unwrap_or_default())
        .map_err(|e| CliError::msg(e.to_string()))?;
    let mut j = ctx.chain.job(&address).await?;
    if j.audit_pending() {
        // Reveals wait for the hidden audit's decision: anyone may send it once its seed slot
        // was produced.
        let _ = ctx
            .sender()?
            .send(&[concord_sdk::chain::ix::audit(&address)], &[])
            .await;
        j = ctx.chain.job(&address).await?;
        if j.audit_pending() {
            return Err(CliError::msg(format!(
                "job {address}: reveals wait for the audit's seed slot ({}); try again in a few seconds",
                j.audit_seed_slot
            )));
        }
    }
    if j.awaits_auditor() {
        return Err(CliError::msg(format!(
            "job {address} is audited: reveals open once the auditor (drawn now) has committed"
        )));
    }
    let identity = Identity::new(ctx.payer()?);
    let sig = ctx
        .sender()?
        .send(
            &[identity.reveal_instruction(&address, j.created_slot, &result)],
            &[],
        )
        .await?;
    signed(
        output,
        format!(
            "revealed {} for {address}; the outputs are published once the job settles with this slot paid",
            result.to_hex()
        ),
        sig,
    );
    Ok(())
}
