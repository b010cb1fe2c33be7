//! `concord job status`: show a job.

use super::*;
use crate::context::{Ctx, Mint};
use crate::{emit, CliError, OutputFormat};

pub async fn run(ctx: &Ctx, mint: &Mint, job: &str, output: OutputFormat) -> Result<(), CliError> {
    let address = job_address(job)?;
    let j = ctx.chain.job(&address).await?;
    emit(output, job_json(&address, &j, mint), || {
        job_text(&address, &j, mint)
    });
    Ok(())
}
