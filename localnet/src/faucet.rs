//! The local chain's HTTP services on one port: the token faucet, `POST /airdrop` with
//! `{"address": "...", "sol": 2.0, "tokens": 100}` sends SOL and payment tokens (whole units;
//! the mint has 6 decimals), and the content store (`/store/<name>`, see [`crate::store`]).
//! Every response allows any origin (CORS), so a web app served from elsewhere can use both.
//! Local chains only.
use std::net::SocketAddr;
use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
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

/// Answers CORS preflights and lets any origin read every response.
async fn cors(req: Request<axum::body::Body>, next: Next) -> Response {
    let mut resp = if req.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    let any = HeaderValue::from_static("*");
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, any.clone());
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, PUT, POST, OPTIONS"),
    );
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, any);
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("content-length"),
    );
    resp
}

/// Binds 127.0.0.1:`port` and serves the faucet and the content store (files in `store_dir`)
/// in the background.
pub async fn serve(net: Funder, port: u16, store_dir: PathBuf) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/airdrop", post(airdrop))
        .with_state(net)
        .merge(crate::store::router(store_dir)?)
        .layer(middleware::from_fn(cors));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}
