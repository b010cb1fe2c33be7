//! `concord job settle`: anyone settles a job (or refunds an unfilled one) once it can be. A
//! caller whose slot is paid publishes the outputs it saved at `job execute`.
use std::path::PathBuf;

use super::*;
use crate::context::{Ctx, Mint};
use crate::{CliError, OutputFormat};
use concord_sdk::chain::{JobState, SettleStep, SlotOutcome};

pub async fn run(
    ctx: &Ctx,
    mint: &Mint,
    job: &str,
    dir: Option<PathBuf>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let me = ctx.me()?;
    let address = job_address(job)?;
    let mut j = ctx.chain.job(&address).await?;
    if j.state != JobState::Open || j.disputed() {
        let payouts = mint.payout_account_instructions(&me, &j);
        ctx.sender()?.send(&payouts, &[]).await?;
    }
    // A dispute settles in two transactions: the referees (`settle_referees`), then the
    // replicas against their verdict.
    let mut sig;
    loop {
        let referees_first = SettleStep::of(&j) == SettleStep::SettleReferees;
        sig = ctx
            .sender()?
            .send(&[mint.settle_instruction(&address, &j)], &[])
            .await?;
        j = ctx.chain.job(&address).await?;
        if !referees_first || j.state == JobState::Settled {
            break;
        }
    }
    let after = j;
    if after.disputed() && !after.state.is_terminal() {
        signed(
            output,
            format!(
                "job {address}: revealed hashes differ, so nobody is paid or slashed yet: a dispute \
                 opened ({}); {} referees are drawn to re-run the job (claims until {})",
                after.dispute_name(),
                after.referees,
                after.claim_deadline
            ),
            sig,
        );
        return Ok(());
    }
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
            "job {address} is {}{} ({})",
            after.state.name(),
            if after.disputed() {
                format!(", dispute: {}", after.dispute_name())
            } else {
                String::new()
            },
            outcomes.join(", ")
        ),
        sig,
    );
    Ok(())
}
