//! `concord job list`: jobs, optionally only the caller's or one state.

use serde_json::json;

use super::*;
use crate::context::{Ctx, Mint};
use crate::{emit, CliError, OutputFormat};
use concord_sdk::chain::{JobFilter, JobState};

pub async fn run(
    ctx: &Ctx,
    mint: &Mint,
    mine: bool,
    state: Option<JobState>,
    output: OutputFormat,
) -> Result<(), CliError> {
    let filter = JobFilter {
        state,
        buyer: if mine { Some(ctx.me()?) } else { None },
    };
    let jobs = ctx.chain.jobs(filter).await?;
    let j: Vec<_> = jobs.iter().map(|(a, j)| job_json(a, j, mint)).collect();
    emit(output, json!(j), || {
        let mut s = format!(
            "{:<44}  {:<9}  {:>8}  {:>12}  {}",
            "job", "state", "replicas", "price", "buyer"
        );
        for (a, j) in &jobs {
            s.push_str(&format!(
                "\n{:<44}  {:<9}  {:>4}/{:<3}  {:>12}  {}",
                a.to_string(),
                j.state.name(),
                j.filled,
                j.replicas,
                mint.format(j.price_per_replica),
                j.buyer
            ));
        }
        s
    });
    Ok(())
}
