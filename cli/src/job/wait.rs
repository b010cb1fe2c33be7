//! `concord job wait`: follow a job until it reaches a state, with progress.
use std::time::{Duration, Instant};

use clap::ValueEnum;

use super::*;
use crate::context::{Ctx, Mint};
use crate::progress;
use crate::{emit, exit, CliError, OutputFormat};
use concord_sdk::chain::JobState;

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
    Running,
    Settled,
    Terminal,
}

pub async fn run(
    ctx: &Ctx,
    mint: &Mint,
    job: &str,
    until: WaitFor,
    timeout: u64,
    output: OutputFormat,
) -> Result<(), CliError> {
    let address = job_address(job)?;
    let j = until_state(ctx, &address, until, timeout, output).await?;
    emit(output, job_json(&address, &j, mint), || {
        job_text(&address, &j, mint)
    });
    Ok(())
}

/// Follows the job (progress on a spinner) until it reaches `until`; a job that ends without
/// settling while `Settled` is awaited, or a timeout, is an error.
pub async fn until_state(
    ctx: &Ctx,
    address: &Pubkey,
    until: WaitFor,
    timeout: u64,
    output: OutputFormat,
) -> Result<JobAccount, CliError> {
    let address = *address;
    let spinner = progress::spinner(output, "waiting");
    let start = Instant::now();
    let j = loop {
        let j = ctx.chain.job(&address).await?;
        spinner.set_message(format!(
            "job is {} ({} claimed, {} committed, {} revealed)",
            j.state.name(),
            j.filled,
            j.committed,
            j.revealed
        ));
        let reached = match until {
            WaitFor::Running => j.state != JobState::Open,
            WaitFor::Settled => j.state == JobState::Settled,
            WaitFor::Terminal => j.state.is_terminal(),
        };
        if reached {
            break j;
        }
        if until == WaitFor::Settled && j.state.is_terminal() {
            spinner.finish_and_clear();
            return Err(CliError::new(
                exit::REFUSED,
                format!("job {address} ended {} and will not settle", j.state.name()),
            ));
        }
        if start.elapsed() > Duration::from_secs(timeout) {
            spinner.finish_and_clear();
            return Err(CliError::new(
                exit::TIMEOUT,
                format!(
                    "job {address} is still {} after {timeout} s",
                    j.state.name()
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    spinner.finish_and_clear();
    Ok(j)
}
