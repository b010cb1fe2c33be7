//! The content store on a real local directory and a real HTTP server on 127.0.0.1.

use concord_protocol::Hash32;
use concord_sdk::store::{BlobStore, StoreError};
use concord_sdk::testing::{closed_port, runtime, start_http_server};

#[test]
fn local_directory_round_trip_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().to_str().unwrap()).unwrap();
    let rt = runtime();
    let data = b"hello concord".to_vec();
    let r = rt.block_on(store.put(&data)).unwrap();
    assert_eq!(r.hash, Hash32::of(&data));
    assert!(
        dir.path().join(r.hash.to_hex()).is_file(),
        "blobs are stored under their hex hash"
    );
    assert_eq!(rt.block_on(store.get_ref(&r)).unwrap(), data);

    let missing = Hash32::of(b"never stored");
    let e = rt.block_on(store.get(&missing, 1024)).unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("blob {missing} is not in the store")),
        "{e}"
    );

    // Tamper with the stored file: the read is refused.
    std::fs::write(dir.path().join(r.hash.to_hex()), b"hello CONCORD").unwrap();
    let e = rt.block_on(store.get_ref(&r)).unwrap_err();
    assert!(matches!(e, StoreError::HashMismatch { .. }), "{e}");

    // Oversize: refused from metadata, before download.
    let big = vec![7u8; 4096];
    let rb = rt.block_on(store.put(&big)).unwrap();
    let e = rt.block_on(store.get(&rb.hash, 1000)).unwrap_err();
    assert_eq!(
        e,
        StoreError::TooLarge {
            hash: rb.hash,
            size: 4096,
            limit: 1000
        }
    );
    let capped = BlobStore::local(dir.path())
        .unwrap()
        .with_max_blob_bytes(100);
    assert!(matches!(
        rt.block_on(capped.get_ref(&rb)),
        Err(StoreError::TooLarge { limit: 100, .. })
    ));
    assert!(matches!(
        rt.block_on(capped.put(&big)),
        Err(StoreError::TooLarge { .. })
    ));
}

/// `put_new` uploads a blob once: an object already there under its name and size is left
/// alone (what `publish_job` uses, so a model's weights are not uploaded per job).
#[test]
fn put_new_leaves_a_stored_blob_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path().to_str().unwrap()).unwrap();
    let rt = runtime();
    let data = vec![9u8; 1000];
    let r = rt.block_on(store.put_new(&data)).unwrap();
    let file = dir.path().join(r.hash.to_hex());
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(past)
        .unwrap();
    assert_eq!(rt.block_on(store.put_new(&data)).unwrap(), r);
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        past,
        "not rewritten"
    );
    rt.block_on(store.put(&data)).unwrap();
    assert_ne!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        past,
        "put rewrites"
    );
    // A truncated object (another size) is replaced.
    std::fs::write(&file, [9u8; 10]).unwrap();
    rt.block_on(store.put_new(&data)).unwrap();
    assert_eq!(rt.block_on(store.get_ref(&r)).unwrap(), data);
}

#[test]
fn http_store_round_trip_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_http_server(dir.path().to_path_buf());
    let store = BlobStore::open(&format!("http://{addr}/")).unwrap();
    let rt = runtime();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
    let r = rt.block_on(store.put(&data)).unwrap();
    assert!(
        dir.path().join(r.hash.to_hex()).is_file(),
        "PUT reached the server"
    );
    assert_eq!(rt.block_on(store.get_ref(&r)).unwrap(), data);

    let e = rt
        .block_on(store.get(&Hash32::of(b"absent"), 1 << 20))
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");

    // The server returns different bytes than the hash names.
    let wrong = Hash32::of(b"expected content");
    std::fs::write(dir.path().join(wrong.to_hex()), b"other content!!!").unwrap();
    let e = rt.block_on(store.get(&wrong, 1 << 20)).unwrap_err();
    assert!(
        matches!(e, StoreError::HashMismatch { expected, .. } if expected == wrong),
        "{e}"
    );
    assert!(e.to_string().contains("hashes to"), "{e}");

    // Oversize refused from HEAD.
    let e = rt.block_on(store.get(&r.hash, 10)).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::TooLarge {
                size: 100_000,
                limit: 10,
                ..
            }
        ),
        "{e}"
    );

    // A server that under-reports in HEAD and streams more: stopped by the streaming cap.
    let liar = BlobStore::open(&format!("http://{addr}/liar/")).unwrap();
    let e = rt.block_on(liar.get_ref(&r)).unwrap_err();
    assert!(
        matches!(e, StoreError::TooLarge { limit: 100_000, .. }),
        "{e}"
    );
}

#[test]
fn unreachable_store_is_reported() {
    let port = closed_port();
    let store = BlobStore::open(&format!("http://127.0.0.1:{port}/")).unwrap();
    let rt = runtime();
    let t0 = std::time::Instant::now();
    let e = rt.block_on(store.get(&Hash32::of(b"x"), 1024)).unwrap_err();
    assert!(matches!(e, StoreError::Unreachable { .. }), "{e}");
    assert!(
        e.to_string().starts_with(&format!(
            "the store at http://127.0.0.1:{port}/ cannot be reached"
        )),
        "{e}"
    );
    assert!(t0.elapsed().as_secs() < 30, "gave up in bounded time");
    assert!(matches!(
        BlobStore::open("ftp://example.com/x"),
        Err(StoreError::BadLocation(_))
    ));
}

#[test]
fn untrusted_locations_refuse_private_addresses() {
    let rt = runtime();
    for loc in [
        "http://127.0.0.1:8080/",
        "http://localhost/",
        "http://10.1.2.3/",
        "https://192.168.0.1/",
        "http://169.254.169.254/",
        "http://[::1]/",
        "http://[fd00::1]/",
    ] {
        let e = rt.block_on(BlobStore::open_untrusted(loc)).unwrap_err();
        assert!(matches!(e, StoreError::PrivateAddress { .. }), "{loc}: {e}");
        assert!(e.to_string().contains("which is refused"), "{e}");
    }
    assert!(matches!(
        rt.block_on(BlobStore::open_untrusted("/tmp/blobs")),
        Err(StoreError::BadLocation(_))
    ));
    // A public address literal is accepted (no connection is made when opening).
    assert!(rt
        .block_on(BlobStore::open_untrusted("https://1.1.1.1/blobs"))
        .is_ok());
}
