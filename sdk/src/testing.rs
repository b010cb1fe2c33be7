//! Test support (feature `testing`): a real HTTP blob server on 127.0.0.1 (hyper), serving
//! and accepting files in a directory. `/<hex>` is honest; `/liar/<hex>` answers HEAD with the true size but
//! streams 1 MiB of extra bytes on GET.
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use std::net::SocketAddr;
use std::path::PathBuf;

async fn handle(
    req: Request<Incoming>,
    dir: PathBuf,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let path = req.uri().path().to_string();
    let (liar, name) = match path.strip_prefix("/liar/") {
        Some(rest) => (true, rest.trim_start_matches('/').to_string()),
        None => (false, path.trim_start_matches('/').to_string()),
    };
    let file = dir.join(name.replace('/', "_"));
    let resp = match *req.method() {
        Method::PUT => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            std::fs::write(&file, &body).unwrap();
            Response::builder()
                .status(StatusCode::CREATED)
                .body(Full::new(Bytes::new()))
                .unwrap()
        }
        Method::GET | Method::HEAD => match std::fs::read(&file) {
            Ok(mut bytes) => {
                let len = bytes.len();
                let head = req.method() == Method::HEAD;
                if liar && !head {
                    bytes.extend(std::iter::repeat_n(0u8, 1 << 20));
                }
                let builder = Response::builder()
                    .status(StatusCode::OK)
                    .header("content-length", if head { len } else { bytes.len() });
                builder
                    .body(Full::new(if head {
                        Bytes::new()
                    } else {
                        Bytes::from(bytes)
                    }))
                    .unwrap()
            }
            Err(_) => Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body(Full::new(Bytes::new()))
                .unwrap(),
        },
        _ => Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .body(Full::new(Bytes::new()))
            .unwrap(),
    };
    Ok(resp)
}

/// Start the server on a background runtime thread; returns its address.
pub fn start_http_server(dir: PathBuf) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let dir = dir.clone();
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let service = hyper::service::service_fn(move |req| handle(req, dir.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
    });
    rx.recv().unwrap()
}

/// A 127.0.0.1 port with nothing listening.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}
