//! `concord job claim`: a provider drawn for an open job takes a slot (locks collateral). It
//! waits (at most 30 s) for the round's seed slot; not drawn, it says who was and when
//! `concord job redraw` may begin a new round. `concord job redraw`: that new round.

use super::*;
use crate::context::Ctx;
use crate::{exit, CliError, OutputFormat};
use concord_sdk::chain::{ix, Turn};

/// How long `job claim` waits for the round's seed slot to be produced.
const SEED_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

pub async fn run(ctx: &Ctx, job: &str, output: OutputFormat) -> Result<(), CliError> {
    let me = ctx.me()?;
    let address = job_address(job)?;
    let market = ctx.chain.market_config().await?;
    let started = std::time::Instant::now();
    loop {
        let state = ctx.chain.job(&address).await?;
        let view = ctx.chain.draw_view(&market.draw_set, &me).await?;
        let next_round = state
            .round_started_at
            .saturating_add(market.params.take_window);
        match view.turn(&address, &state) {
            Turn::Drawn(_) => break,
            Turn::Wait if started.elapsed() < SEED_WAIT => {
                tokio::time::sleep(std::time::Duration::from_millis(400)).await;
            }
            Turn::Wait => {
                return Err(CliError::new(
                    exit::TIMEOUT,
                    format!(
                        "the seed slot {} of {address}'s draw round was not produced within {} s",
                        state.seed_slot,
                        SEED_WAIT.as_secs()
                    ),
                ))
            }
            Turn::NotDrawn => {
                let drawn: Vec<String> = view
                    .drawn(&address, &state)
                    .iter()
                    .map(|p| p.to_string())
                    .collect();
                let why = if view.index.is_none() {
                    "you have not joined the draws (`concord provider register` joins them)"
                        .to_string()
                } else {
                    format!("drawn: {}", drawn.join(", "))
                };
                return Err(CliError::new(
                    exit::REFUSED,
                    format!(
                        "not drawn in round {} of {address} ({why}); a new round may begin from \
                         unix time {next_round} (`concord job redraw`)",
                        state.draw_round
                    ),
                ));
            }
            Turn::Expired => {
                return Err(CliError::new(
                    exit::REFUSED,
                    format!(
                        "round {} of {address} can no longer be drawn (its seed slot or weights \
                         aged out); begin a new one with `concord job redraw` (from unix time \
                         {next_round})",
                        state.draw_round
                    ),
                ))
            }
        }
    }
    // Claims land only after the job's creation slot (implied by the seed slot, which is later).
    let sig = ctx
        .sender()?
        .send(&[ix::claim_slot(&me, &address, &market.draw_set)], &[])
        .await?;
    signed(output, format!("claimed a slot of {address}"), sig);
    Ok(())
}

/// `concord job redraw`: begins a new draw round for the job's free slots.
pub async fn redraw(ctx: &Ctx, job: &str, output: OutputFormat) -> Result<(), CliError> {
    let address = job_address(job)?;
    let draw_set = ctx.chain.market_config().await?.draw_set;
    let sig = ctx
        .sender()?
        .send(&[ix::redraw(&address, &draw_set)], &[])
        .await?;
    let state = ctx.chain.job(&address).await?;
    signed(
        output,
        format!(
            "began draw round {} of {address} for {} slot(s), seeded by slot {}",
            state.draw_round, state.round_slots, state.seed_slot
        ),
        sig,
    );
    Ok(())
}
