//! `concord job cancel`: the buyer cancels its job while it is still open. Providers that
//! already claimed a slot (and may have run the job) are paid their price less the fee; the
//! rest of the deposit is refunded.

use super::*;
use crate::context::{Ctx, Mint};
use crate::{exit, CliError, OutputFormat};
use concord_market::settlement::Payout;
use concord_sdk::chain::SlotOutcome;

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
    if j.state != concord_market::JobState::Open {
        return Err(CliError::new(
            exit::REFUSED,
            format!(
                "job {address} is {}: only an open job can be cancelled (a running job ends by settle)",
                j.state.name()
            ),
        ));
    }
    let sender = ctx.sender()?;
    let payouts = mint.payout_account_instructions(&me, &j);
    if !payouts.is_empty() {
        sender.send(&payouts, &[]).await?;
    }
    let sig = sender
        .send(&[mint.cancel_instruction(&address, &j)], &[])
        .await?;
    // What the program paid, by its own rule (each claimed slot compensated).
    let outcomes = vec![SlotOutcome::Compensated; j.filled_slots().len()];
    let payout = Payout::of(&j, &outcomes)
        .ok_or_else(|| CliError::msg("the job's terms overflow".to_string()))?;
    signed(
        output,
        format!(
            "job {address} cancelled: {} tokens refunded, {} paid to each of the {} provider(s) that had claimed a slot",
            mint.format(payout.buyer_refund),
            mint.format(payout.provider_pay),
            payout.paid
        ),
        sig,
    );
    Ok(())
}
