//! The content store against a real S3-compatible server: moto's `moto_server` on 127.0.0.1
//! (installed by `scripts/setup.sh` into a virtual environment in the cache). The server is
//! found through `$CONCORD_MOTO_SERVER` (set by `scripts/env.sh`) or on `PATH`; without it the
//! test fails, unless `CONCORD_SKIP_S3` asks to skip it.

use concord_protocol::Hash32;
use concord_sdk::store::{BlobStore, StoreError};
use concord_sdk::testing::{closed_port, runtime};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn moto_server() -> Option<String> {
    if let Ok(p) = std::env::var("CONCORD_MOTO_SERVER") {
        if std::path::Path::new(&p).is_file() {
            return Some(p);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("moto_server"))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

/// Raw HTTP request; returns the status code.
fn http(port: u16, method: &str, path: &str) -> Option<u16> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    resp.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn s3_compatible_bucket_round_trip_and_errors() {
    let Some(moto) = moto_server() else {
        if std::env::var_os("CONCORD_SKIP_S3").is_some() {
            eprintln!("skipped by CONCORD_SKIP_S3: the S3-compatible store is not checked");
            return;
        }
        panic!(
            "moto_server not found: run scripts/setup.sh (it installs moto into the cache's \
             virtual environment and scripts/env.sh points CONCORD_MOTO_SERVER at it), or set \
             CONCORD_SKIP_S3=1 to skip this test knowingly"
        );
    };
    let port = closed_port();
    let _server = Server(
        Command::new(&moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server"),
    );
    let t0 = Instant::now();
    while http(port, "PUT", "/blobs").is_none_or(|code| code != 200) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "moto_server did not come up"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::env::set_var("AWS_ACCESS_KEY_ID", "concord-test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "concord-test");
    std::env::set_var("AWS_REGION", "us-east-1");
    let store = BlobStore::s3("blobs", Some(&format!("http://127.0.0.1:{port}"))).unwrap();
    let rt = runtime();
    let data: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let r = rt.block_on(store.put(&data)).unwrap();
    assert_eq!(rt.block_on(store.get_ref(&r)).unwrap(), data);
    // A second client of the same bucket sees the blob: it really is stored remotely.
    let other = BlobStore::s3("blobs", Some(&format!("http://127.0.0.1:{port}"))).unwrap();
    assert_eq!(rt.block_on(other.get(&r.hash, 1 << 20)).unwrap(), data);
    let e = rt
        .block_on(store.get(&Hash32::of(b"absent"), 1024))
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
    let e = rt.block_on(store.get(&r.hash, 1000)).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::TooLarge {
                size: 50_000,
                limit: 1000,
                ..
            }
        ),
        "{e}"
    );
}
