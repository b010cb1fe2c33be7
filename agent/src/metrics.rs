//! The agent's Prometheus metrics and health state, and the HTTP server that exposes them
//! (`GET /metrics` in the text exposition format, `GET /health` as JSON: 200 "ok" while job
//! discovery succeeds, 503 "unhealthy" when it has not for a while, 503 "draining" once
//! shutdown has begun).
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Every metric the agent keeps.
pub struct Metrics {
    registry: Registry,
    pub jobs_claimed: Counter,
    pub jobs_committed: Counter,
    pub jobs_revealed: Counter,
    pub jobs_paid: Counter,
    pub jobs_slashed: Counter,
    pub jobs_unpaid: Counter,
    pub jobs_settled_by_us: Counter,
    pub jobs_invalid: Counter,
    pub exec_failures: Counter,
    pub rpc_errors: Counter,
    pub job_subscriptions: Counter,
    pub job_subscription_drops: Counter,
    pub job_notifications: Counter,
    pub signature_connections: Counter,
    pub signature_drops: Counter,
    pub signature_notifications: Counter,
    pub blob_cache_hits: Counter,
    pub blob_cache_misses: Counter,
    pub jobs_in_flight: Gauge,
    pub kernel_seconds: Histogram,
    pub earned_units: Counter,
    pub slashed_units: Counter,
    /// Unix time of the last successful discovery poll.
    last_poll_ok: AtomicI64,
    /// Shutdown has begun: no new claims, in-flight steps finishing.
    draining: AtomicBool,
    poll_interval: Duration,
    pub provider: String,
}

impl Metrics {
    /// Marks the start of shutdown: `/health` answers 503 "draining" from now on.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub fn new(provider: String, poll_interval: Duration) -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("concord_agent");
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        let m = Metrics {
            jobs_claimed: counter(&mut registry, "jobs_claimed", "Slots claimed"),
            jobs_committed: counter(&mut registry, "jobs_committed", "Commitments landed"),
            jobs_revealed: counter(&mut registry, "jobs_revealed", "Reveals landed"),
            jobs_paid: counter(
                &mut registry,
                "jobs_paid",
                "Jobs settled with this provider paid",
            ),
            jobs_slashed: counter(
                &mut registry,
                "jobs_slashed",
                "Jobs settled with this provider slashed",
            ),
            jobs_unpaid: counter(
                &mut registry,
                "jobs_unpaid",
                "Jobs settled without a quorum (collateral returned, nothing paid)",
            ),
            jobs_settled_by_us: counter(
                &mut registry,
                "jobs_settled_by_us",
                "Settle transactions this agent sent",
            ),
            jobs_invalid: counter(
                &mut registry,
                "jobs_invalid",
                "Jobs found invalid (the canonical error outcome was committed)",
            ),
            exec_failures: counter(
                &mut registry,
                "exec_failures",
                "Jobs this machine could not run (timeout, device error)",
            ),
            rpc_errors: counter(
                &mut registry,
                "rpc_errors",
                "RPC calls that failed and were retried",
            ),
            job_subscriptions: counter(
                &mut registry,
                "job_subscriptions",
                "Subscriptions to job notifications made (the first, and one after each drop)",
            ),
            job_subscription_drops: counter(
                &mut registry,
                "job_subscription_drops",
                "Job notification connections that failed or dropped (polling meanwhile)",
            ),
            job_notifications: counter(
                &mut registry,
                "job_notifications",
                "Job account changes received by subscription",
            ),
            signature_connections: counter(
                &mut registry,
                "signature_connections",
                "Connections opened for signature notifications (the first, and one after each drop)",
            ),
            signature_drops: counter(
                &mut registry,
                "signature_drops",
                "Signature notification connections that failed or dropped (polling meanwhile)",
            ),
            signature_notifications: counter(
                &mut registry,
                "signature_notifications",
                "Transactions whose confirmation arrived by notification",
            ),
            blob_cache_hits: counter(
                &mut registry,
                "blob_cache_hits",
                "Blobs (modules, inputs) read from the blob cache instead of the buyer's store",
            ),
            blob_cache_misses: counter(
                &mut registry,
                "blob_cache_misses",
                "Blobs the blob cache did not have (fetched from the buyer's store)",
            ),
            earned_units: counter(
                &mut registry,
                "earned_units",
                "Payment-mint base units earned (price minus fee)",
            ),
            slashed_units: counter(
                &mut registry,
                "slashed_units",
                "Collateral base units lost to slashing",
            ),
            jobs_in_flight: {
                let g = Gauge::default();
                registry.register(
                    "jobs_in_flight",
                    "Jobs held and not yet finished",
                    g.clone(),
                );
                g
            },
            kernel_seconds: {
                let h = Histogram::new(exponential_buckets(0.01, 2.0, 16));
                registry.register("kernel_seconds", "GPU time per executed job", h.clone());
                h
            },
            registry,
            last_poll_ok: AtomicI64::new(0),
            draining: AtomicBool::new(false),
            poll_interval,
            provider,
        };
        Arc::new(m)
    }

    pub fn poll_succeeded(&self) {
        self.last_poll_ok.store(unix_now(), Ordering::Relaxed);
    }

    /// Seconds since the last successful poll (None before the first).
    pub fn poll_age(&self) -> Option<i64> {
        let at = self.last_poll_ok.load(Ordering::Relaxed);
        (at > 0).then(|| unix_now() - at)
    }

    /// Healthy while discovery has succeeded within 30 s plus five poll intervals.
    pub fn healthy(&self) -> bool {
        let limit = 30 + 5 * self.poll_interval.as_secs() as i64;
        self.poll_age().is_some_and(|age| age <= limit)
    }

    pub fn encode(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("metrics encode");
        text
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Serves `/metrics` and `/health` on `addr` until the process ends; returns the bound address.
/// The running metrics server.
pub struct MetricsServer {
    pub address: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl MetricsServer {
    /// Stops serving (after the requests under way are answered).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Serves `GET /metrics` and `GET /health` on `addr` until [`MetricsServer::stop`].
pub async fn serve(metrics: Arc<Metrics>, addr: SocketAddr) -> std::io::Result<MetricsServer> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let m1 = metrics.clone();
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let m = m1.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        m.encode(),
                    )
                }
            }),
        )
        .route(
            "/health",
            get(move || {
                let m = metrics.clone();
                async move {
                    let healthy = m.healthy();
                    let status = if m.is_draining() {
                        "draining"
                    } else if healthy {
                        "ok"
                    } else {
                        "unhealthy"
                    };
                    let healthy = status == "ok";
                    let body = serde_json::json!({
                        "status": status,
                        "provider": m.provider,
                        "jobs_in_flight": m.jobs_in_flight.get(),
                        "last_poll_age_secs": m.poll_age(),
                    });
                    let code = if healthy {
                        StatusCode::OK
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    };
                    (code, axum::Json(body)).into_response()
                }
            }),
        );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serving = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(e) = serving.await {
            tracing::error!(error = %e, "the metrics server stopped");
        }
    });
    Ok(MetricsServer {
        address: bound,
        stop,
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw `GET path`; the status code and the body.
    async fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await?;
        let code = reply
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = reply
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        Ok((code, body))
    }

    #[tokio::test]
    async fn health_says_ok_then_draining_and_the_server_stops_last() {
        let metrics = Metrics::new("p".into(), Duration::from_millis(500));
        let server = serve(metrics.clone(), "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = server.address;
        let (code, body) = get(addr, "/health").await.unwrap();
        assert_eq!(code, 503, "no poll yet: {body}");
        assert!(body.contains("\"unhealthy\""), "{body}");
        metrics.poll_succeeded();
        let (code, body) = get(addr, "/health").await.unwrap();
        assert_eq!((code, body.contains("\"ok\"")), (200, true), "{body}");
        metrics.set_draining();
        let (code, body) = get(addr, "/health").await.unwrap();
        assert_eq!(code, 503, "{body}");
        assert!(body.contains("\"draining\""), "{body}");
        let (code, _) = get(addr, "/metrics").await.unwrap();
        assert_eq!(code, 200);
        server.stop().await;
        assert!(get(addr, "/health").await.is_err(), "stopped");
    }
}
