//! The local chain's content store over HTTP, for buyers in a browser and for agents:
//! `PUT /store/<name>` writes, `GET` and `HEAD` read, files under `<ledger>/store`. Names are
//! what the SDK's `BlobStore` writes: a blob's blake3 hash in hex (a `PUT` whose bytes hash to
//! something else is refused) or `results/<hex>` (a pointer to a job's published outputs).
//! Writes are atomic (a temporary file renamed into place), so a reader never sees half a blob.
//! Local chains only: anyone who can reach the port can write.
use std::path::{Path, PathBuf};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use concord_protocol::Hash32;

/// The largest blob accepted: above the embedding model's weights (91 MB).
pub const MAX_BLOB_BYTES: usize = 512 << 20;

/// Where a name is kept (under its hash's canonical hex), and the hash a blob's bytes must
/// have; or why it is not a name of this store.
fn file_of(dir: &Path, name: &str) -> Result<(PathBuf, Option<Hash32>), String> {
    let hash = |s: &str| Hash32::from_hex(s).ok();
    if let Some(h) = hash(name) {
        return Ok((dir.join(h.to_hex()), Some(h)));
    }
    if let Some(h) = name.strip_prefix("results/").and_then(hash) {
        return Ok((dir.join(format!("results-{}", h.to_hex())), None));
    }
    Err(format!(
        "`{name}` is not a blob name (64 hex digits, or results/<hex>)"
    ))
}

async fn read(
    State(dir): State<PathBuf>,
    method: Method,
    UrlPath(name): UrlPath<String>,
) -> Response {
    let file = match file_of(&dir, &name) {
        Ok((file, _)) => file,
        Err(e) => return (StatusCode::BAD_REQUEST, e).into_response(),
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_LENGTH, bytes.len().into());
            headers.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/octet-stream"),
            );
            if method == Method::HEAD {
                (StatusCode::OK, headers).into_response()
            } else {
                (StatusCode::OK, headers, bytes).into_response()
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            (StatusCode::NOT_FOUND, format!("no blob `{name}`")).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn write(
    State(dir): State<PathBuf>,
    UrlPath(name): UrlPath<String>,
    body: Bytes,
) -> (StatusCode, String) {
    let (file, hash) = match file_of(&dir, &name) {
        Ok(found) => found,
        Err(e) => return (StatusCode::BAD_REQUEST, e),
    };
    if let Some(expected) = hash {
        let actual = Hash32::of(&body);
        if actual != expected {
            return (
                StatusCode::BAD_REQUEST,
                format!("these bytes hash to {actual}, not to their name {name}"),
            );
        }
    }
    let tmp = dir.join(format!(".tmp-{}-{name}", std::process::id()).replace('/', "-"));
    let result = async {
        tokio::fs::write(&tmp, &body).await?;
        tokio::fs::rename(&tmp, &file).await
    }
    .await;
    match result {
        Ok(()) => (StatusCode::CREATED, format!("stored {name}")),
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    }
}

/// The store's routes, keeping files in `dir` (created).
pub fn router(dir: PathBuf) -> std::io::Result<Router> {
    std::fs::create_dir_all(&dir)?;
    Ok(Router::new()
        .route("/store/{*name}", get(read).head(read).put(write))
        .layer(DefaultBodyLimit::max(MAX_BLOB_BYTES))
        .with_state(dir))
}
