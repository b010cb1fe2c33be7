//! `concord job close`: close a finished job (fees to the market's fee vault, rent back to the
//! buyer).

use super::*;
use crate::context::{Ctx, Mint};
use crate::{CliError, OutputFormat};
use concord_sdk::chain::ix;

pub async fn run(ctx: &Ctx, mint: &Mint, job: &str, output: OutputFormat) -> Result<(), CliError> {
    let address = job_address(job)?;
    let j = ctx.chain.job(&address).await?;
    let sig = ctx
        .sender()?
        .send(
            &[ix::close_job(&mint.escrow(&address, &j.buyer), &j.buyer)],
            &[],
        )
        .await?;
    signed(output, format!("job {address} closed"), sig);
    Ok(())
}
