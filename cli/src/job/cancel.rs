//! `concord job cancel`: the buyer cancels its job before any commitment (full refund).

use anchor_lang::prelude::Pubkey;

use super::*;
use crate::context::{Ctx, Mint};
use crate::{exit, CliError, OutputFormat};
use concord_sdk::chain::ix;

pub async fn run(ctx: &Ctx, mint: &Mint, job: &str, output: OutputFormat) -> Result<(), CliError> {
    let me = ctx.me()?;
    let address = job_address(job)?;
    let j = ctx.chain.job(&address).await?;
    if j.buyer != me {
        return Err(CliError::new(
            exit::REFUSED,
            format!("job {address} belongs to {}, not to {me}", j.buyer),
        ));
    }
    let holders: Vec<Pubkey> = j.filled_slots().iter().map(|s| s.provider).collect();
    let sig = ctx
        .sender()?
        .send(
            &[ix::cancel_job(
                &me,
                &mint.escrow(&address, &j.buyer),
                &holders,
            )],
            &[],
        )
        .await?;
    signed(
        output,
        format!(
            "job {address} cancelled, {} tokens refunded",
            mint.format(j.escrow_owed)
        ),
        sig,
    );
    Ok(())
}
