//! `concord job status`: show a job; while it is open, also who its current draw round drew.

use super::*;
use crate::context::{Ctx, Mint};
use crate::{emit, CliError, OutputFormat};

pub async fn run(ctx: &Ctx, mint: &Mint, job: &str, output: OutputFormat) -> Result<(), CliError> {
    let address = job_address(job)?;
    let j = ctx.chain.job(&address).await?;
    // Who may claim now: the program's own draw, run here (empty until the seed slot).
    let drawn = if j.state == JobState::Open {
        let draw_set = ctx.chain.market_config().await?.draw_set;
        let view = ctx.chain.draws(&draw_set).await?;
        Some(view.drawn(&address, &j))
    } else {
        None
    };
    let mut value = job_json(&address, &j, mint);
    if let Some(d) = &drawn {
        value["drawn"] = json!(d.iter().map(|p| p.to_string()).collect::<Vec<_>>());
    }
    emit(output, value, || {
        let mut text = job_text(&address, &j, mint);
        if let Some(d) = &drawn {
            let names: Vec<String> = d.iter().map(|p| p.to_string()).collect();
            text.push_str(&format!(
                "\n  drawn now     {}",
                if names.is_empty() {
                    "- (the seed slot is not produced yet, or nobody could be drawn)".into()
                } else {
                    names.join(", ")
                }
            ));
        }
        text
    });
    Ok(())
}
