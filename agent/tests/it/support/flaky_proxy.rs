//! A JSON-RPC proxy in front of the validator that fails a share of `sendTransaction` calls:
//! half of the failures are dropped before reaching the validator, half are forwarded (so the
//! transaction may land) and their answer is lost. Every other call passes through.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

/// Counts of what the proxy did.
#[derive(Default)]
pub struct ProxyStats {
    pub sends: AtomicU64,
    pub dropped: AtomicU64,
    pub answers_lost: AtomicU64,
}

/// Starts the proxy; returns its URL and its counters.
pub async fn start(upstream: &str, failure_percent: u64) -> (String, Arc<ProxyStats>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let stats = Arc::new(ProxyStats::default());
    let upstream: hyper::Uri = upstream.parse().unwrap();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let seed = Arc::new(AtomicU64::new(0x9E37_79B9_7F4A_7C15));
    let st = stats.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (client, upstream, stats, seed) =
                (client.clone(), upstream.clone(), st.clone(), seed.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let (client, upstream, stats, seed) = (
                        client.clone(),
                        upstream.clone(),
                        stats.clone(),
                        seed.clone(),
                    );
                    async move {
                        let body = req.into_body().collect().await?.to_bytes();
                        let is_send = memchr(&body, b"\"sendTransaction\"");
                        let roll = if is_send {
                            stats.sends.fetch_add(1, Ordering::Relaxed);
                            next_percent(&seed)
                        } else {
                            100
                        };
                        if roll < failure_percent / 2 {
                            stats.dropped.fetch_add(1, Ordering::Relaxed);
                            return Ok::<_, hyper::Error>(unavailable());
                        }
                        let forward = Request::post(upstream)
                            .header("content-type", "application/json")
                            .body(Full::new(body))
                            .unwrap();
                        let answer = match client.request(forward).await {
                            Ok(r) => r.into_body().collect().await?.to_bytes(),
                            Err(_) => return Ok(unavailable()),
                        };
                        if roll < failure_percent {
                            stats.answers_lost.fetch_add(1, Ordering::Relaxed);
                            return Ok(unavailable());
                        }
                        Ok(Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(answer))
                            .unwrap())
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), stats)
}

fn unavailable() -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .body(Full::new(Bytes::from_static(b"injected failure")))
        .unwrap()
}

fn memchr(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A deterministic pseudo-random number in 0..100 (splitmix64).
fn next_percent(state: &AtomicU64) -> u64 {
    let mut z = state.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % 100
}
