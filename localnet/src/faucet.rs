//! The HTTP token faucet: `POST /airdrop` with `{"address": "...", "sol": 2.0, "tokens": 100}`
//! sends SOL and payment tokens (whole units; the mint has 6 decimals). Local chains only.
use std::net::SocketAddr;

use anchor_lang::prelude::Pubkey;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use crate::funder::{Funder, DECIMALS};

#[derive(Deserialize)]
struct AirdropRequest {
    address: String,
    #[serde(default)]
    sol: f64,
    #[serde(default)]
    tokens: f64,
}

async fn airdrop(
    State(net): State<Funder>,
    Json(req): Json<AirdropRequest>,
) -> (StatusCode, String) {
    let Ok(to) = req.address.parse::<Pubkey>() else {
        return (
            StatusCode::BAD_REQUEST,
            format!("{} is not a valid address", req.address),
        );
    };
    if !(0.0..=1_000.0).contains(&req.sol) || !(0.0..=1e9).contains(&req.tokens) {
        return (
            StatusCode::BAD_REQUEST,
            "at most 1000 SOL and 1e9 tokens per request".into(),
        );
    }
    let lamports = (req.sol * 1e9) as u64;
    let units = (req.tokens * 10f64.powi(i32::from(DECIMALS))) as u64;
    match net.airdrop(&to, lamports, units).await {
        Ok(()) => (
            StatusCode::OK,
            format!("sent {} SOL and {} tokens to {to}", req.sol, req.tokens),
        ),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Binds 127.0.0.1:`port` and serves the faucet in the background.
pub async fn serve(net: Funder, port: u16) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/airdrop", post(airdrop))
        .with_state(net);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}
