//! `concord job close`: close a finished job (treasury paid, rent back to the buyer).

use super::*;
use crate::context::{Ctx, Mint};
use crate::{CliError, OutputFormat};
use concord_sdk::chain::ix;

pub async fn run(ctx: &Ctx, mint: &Mint, job: &str, output: OutputFormat) -> Result<(), CliError> {
    let address = job_address(job)?;
    let j = ctx.chain.job(&address).await?;
    let treasury = ctx.chain.market_config().await?.treasury;
    let sig = ctx
        .sender()?
        .send(
            &[ix::close_job(
                &mint.escrow(&address, &j.buyer),
                &j.buyer,
                &treasury,
            )],
            &[],
        )
        .await?;
    signed(output, format!("job {address} closed"), sig);
    Ok(())
}
