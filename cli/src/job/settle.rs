//! `concord job settle`: anyone settles a job (or refunds an unfilled one) once it can be. A
//! caller whose slot is paid publishes the outputs it saved at `job execute`.
use std::path::PathBuf;

use super::*;
use crate::context::{Ctx, Mint};
use crate::{CliError, OutputFormat};
use concord_sdk::chain::{JobState, SlotOutcome};

pub async fn run(
    ctx: &Ctx,
    mint: &Mint,
    job: &str,
    dir: Option<PathBuf>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let me = ctx.me()?;
    let address = job_address(job)?;
    let j = ctx.chain.job(&address).await?;
    if j.state != JobState::Open {
        let payouts = mint.payout_account_instructions(&me, &j);
        ctx.sender()?.send(&payouts, &[]).await?;
    }
    let settle = [mint.settle_instruction(&address, &j)];
    let sig = ctx.sender()?.send(&settle, &[]).await?;
    let after = ctx.chain.job(&address).await?;
    let paid = after
        .slot_index_of(&me)
        .is_some_and(|i| after.slots[i].outcome == SlotOutcome::Paid);
    if paid {
        publish::publish_saved(&state_dir(dir), &address, &me).await?;
    }
    let outcomes: Vec<String> = after
        .filled_slots()
        .iter()
        .map(|s| format!("{}: {}", s.provider, s.outcome.name()))
        .collect();
    signed(
        output,
        format!(
            "job {address} is {} ({})",
            after.state.name(),
            outcomes.join(", ")
        ),
        sig,
    );
    Ok(())
}
