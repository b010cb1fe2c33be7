//! `concord job claim`: a provider takes a slot of an open job (locks collateral).

use super::*;
use crate::context::Ctx;
use crate::{CliError, OutputFormat};
use concord_sdk::chain::ix;

pub async fn run(ctx: &Ctx, job: &str, output: OutputFormat) -> Result<(), CliError> {
    let me = ctx.me()?;
    let address = job_address(job)?;
    let sig = ctx
        .sender()?
        .send(&[ix::claim_slot(&me, &address)], &[])
        .await?;
    signed(output, format!("claimed a slot of {address}"), sig);
    Ok(())
}
