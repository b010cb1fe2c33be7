//! `concord job claim`: a provider takes a slot of an open job (locks collateral).

use super::*;
use crate::context::Ctx;
use crate::{CliError, OutputFormat};
use concord_sdk::chain::ix;

pub async fn run(ctx: &Ctx, job: &str, output: OutputFormat) -> Result<(), CliError> {
    let me = ctx.me()?;
    let address = job_address(job)?;
    // Claims land only after the job's creation slot.
    let created_slot = ctx.chain.job(&address).await?.created_slot;
    ctx.chain
        .wait_past_slot(created_slot, std::time::Duration::from_secs(10))
        .await?;
    let sig = ctx
        .sender()?
        .send(&[ix::claim_slot(&me, &address)], &[])
        .await?;
    signed(output, format!("claimed a slot of {address}"), sig);
    Ok(())
}
