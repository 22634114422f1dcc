//! The store against the embedded S3 server: real HTTP, real aws-sdk-s3, SigV4 verified.

use std::time::Duration;

use thumbs_store::local_server::LocalS3;
use thumbs_store::{Store, StoreConfig, StoreError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BUCKET: &str = "thumbs-test";

async fn server() -> (tempfile::TempDir, LocalS3, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path().join("s3"), 0).await.unwrap();
    s3.create_bucket(BUCKET).unwrap();
    let store = Store::connect(&s3.store_config(BUCKET)).await;
    (dir, s3, store)
}

/// A minimal HTTP/1.1 exchange, so the tests see exactly what a browser or curl would send.
async fn raw_http(addr: std::net::SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn put_request(url: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let without_scheme = url.strip_prefix("http://").unwrap();
    let (host, path) = without_scheme.split_at(without_scheme.find('/').unwrap());
    let mut req = format!("PUT {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    let mut req = req.into_bytes();
    req.extend_from_slice(body);
    req
}

#[tokio::test]
async fn put_get_head_list_delete_round_trip() {
    let (_dir, _s3, store) = server().await;
    assert!(store.head("originals/abc").await.unwrap().is_none());
    let etag = store
        .put("originals/abc", b"hello".to_vec(), "image/png")
        .await
        .unwrap();
    assert_eq!(
        etag.as_deref(),
        Some("\"5d41402abc4b2a76b9719d911017c592\"")
    );

    let meta = store.head("originals/abc").await.unwrap().unwrap();
    assert_eq!(meta.size, 5);
    assert_eq!(meta.content_type.as_deref(), Some("image/png"));

    let object = store.get("originals/abc").await.unwrap();
    assert_eq!(&object.bytes[..], b"hello");
    assert!(matches!(
        store.get_limited("originals/abc", 4).await,
        Err(StoreError::TooLarge { size: 5, .. })
    ));

    store
        .put("thumbnails/abc/128.jpg", b"x".to_vec(), "image/jpeg")
        .await
        .unwrap();
    store
        .put_json(
            "thumbnails/abc/manifest.json",
            &serde_json::json!({"ok": true}),
        )
        .await
        .unwrap();
    let mut keys = store.list("thumbnails/abc/").await.unwrap();
    keys.sort();
    assert_eq!(
        keys,
        ["thumbnails/abc/128.jpg", "thumbnails/abc/manifest.json"]
    );
    let manifest: Option<serde_json::Value> = store
        .get_json("thumbnails/abc/manifest.json")
        .await
        .unwrap();
    assert_eq!(manifest, Some(serde_json::json!({"ok": true})));

    assert_eq!(store.delete_prefix("thumbnails/abc/").await.unwrap(), 2);
    store.delete("originals/abc").await.unwrap();
    store.delete("originals/abc").await.unwrap(); // deleting twice is fine, as on S3
    assert!(store.list("thumbnails/abc/").await.unwrap().is_empty());
    let missing = store.get("originals/abc").await.unwrap_err();
    assert!(
        missing.is_not_found() && !missing.is_transient(),
        "{missing:?}"
    );
}

#[tokio::test]
async fn wrong_credentials_are_rejected_as_permanent() {
    let (_dir, s3, _store) = server().await;
    let mut config = s3.store_config(BUCKET);
    config.credentials = Some(("thumbs-local".into(), "wrong-secret".into()));
    let store = Store::connect(&config).await;
    let err = store
        .put("originals/x", b"x".to_vec(), "image/png")
        .await
        .unwrap_err();
    assert!(!err.is_transient(), "{err:?}");
}

#[tokio::test]
async fn unreachable_endpoint_is_transient_and_maps_to_503() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener); // nothing listens there now
    let config = StoreConfig {
        bucket: BUCKET.into(),
        endpoint_url: Some(format!("http://127.0.0.1:{port}")),
        force_path_style: true,
        credentials: Some(("a".into(), "b".into())),
        session_token: None,
        region: "us-east-1".into(),
    };
    let store = Store::connect(&config).await;
    let err = store.head("originals/x").await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let api = thumbs_core::error::ApiError::from(&err);
    assert_eq!(
        (api.status, api.retry_after),
        (503, Some(thumbs_store::error::RETRY_AFTER_SECS))
    );
}

#[tokio::test]
async fn presigned_put_needs_the_signed_content_type_and_reports_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut created) = tokio::sync::mpsc::unbounded_channel();
    let s3 = LocalS3::start_with_hook(dir.path(), 0, tx).await.unwrap();
    s3.create_bucket(BUCKET).unwrap();
    let store = Store::connect(&s3.store_config(BUCKET)).await;

    let body = b"\x89PNG\r\n\x1a\nfake";
    let presigned = store
        .presign_put(
            "originals/my photo",
            "image/png",
            body.len() as u64,
            Duration::from_secs(900),
        )
        .await
        .unwrap();
    assert_eq!(presigned.method, "PUT");
    assert!(
        presigned.url.contains("X-Amz-Signature="),
        "{}",
        presigned.url
    );
    let signed: Vec<&str> = presigned.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        signed
            .iter()
            .any(|n| n.eq_ignore_ascii_case("content-type")),
        "{signed:?}"
    );

    // Another Content-Type than the signed one: rejected, like S3 does (docs/architecture.md, rule 7).
    let wrong = [
        ("Content-Type", "image/jpeg".to_owned()),
        ("Content-Length", body.len().to_string()),
    ];
    let (status, _) = raw_http(s3.addr(), &put_request(&presigned.url, &wrong, body)).await;
    assert_eq!(status, 403);
    assert!(store.head("originals/my photo").await.unwrap().is_none());

    // The create-only condition is signed too: leaving it out is another signature.
    let unconditional = [
        ("Content-Type", "image/png".to_owned()),
        ("Content-Length", body.len().to_string()),
    ];
    let (status, _) = raw_http(
        s3.addr(),
        &put_request(&presigned.url, &unconditional, body),
    )
    .await;
    assert_eq!(status, 403);
    assert!(store.head("originals/my photo").await.unwrap().is_none());

    let right = [
        ("Content-Type", "image/png".to_owned()),
        ("Content-Length", body.len().to_string()),
        ("If-None-Match", "*".to_owned()),
        ("Origin", "http://localhost:3000".to_owned()),
    ];
    let (status, text) = raw_http(s3.addr(), &put_request(&presigned.url, &right, body)).await;
    assert_eq!(status, 200, "{text}");
    // The bucket rule's AllowedOrigins is "*" (template.yaml's default CorsAllowOrigin).
    assert!(
        text.to_ascii_lowercase()
            .contains("access-control-allow-origin: *"),
        "{text}"
    );

    let event = created.recv().await.unwrap();
    assert_eq!(
        (
            event.event_name,
            event.bucket.as_str(),
            event.key.as_str(),
            event.size
        ),
        (
            "ObjectCreated:Put",
            BUCKET,
            "originals/my photo",
            body.len() as u64
        )
    );
    assert_eq!(event.etag.len(), 32);
    let s3_event = event.to_s3_event("us-east-1");
    assert_eq!(
        s3_event.records[0].s3.object.key.as_deref(),
        Some("originals/my+photo")
    );

    // The same URL again, other bytes of the signed length: refused, the object stays.
    let (status, text) = raw_http(
        s3.addr(),
        &put_request(&presigned.url, &right, b"\x89PNG\r\n\x1a\nFAKE"),
    )
    .await;
    assert_eq!(status, 412, "{text}");
    assert!(text.contains("PreconditionFailed"), "{text}");
    assert_eq!(
        &store.get("originals/my photo").await.unwrap().bytes[..],
        body
    );
    assert!(created.try_recv().is_err(), "a refused PUT created nothing");
}

/// `If-None-Match: *` is atomic in the embedded server: of many concurrent create-only PUTs of
/// one key exactly one succeeds (s3s-fs alone checks before writing and would let several in).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_create_only_puts_have_one_winner() {
    let (_dir, _s3, store) = server().await;
    for round in 0..5 {
        let key = format!("originals/race-{round}");
        let puts: Vec<_> = (0..20u8)
            .map(|n| {
                let (store, key) = (store.clone(), key.clone());
                // Bodies big enough that writing them takes a while.
                let body = vec![n; 256 * 1024];
                tokio::spawn(async move { store.put_if_absent(&key, body, "image/png").await })
            })
            .collect();
        let mut winners = 0;
        for put in puts {
            if put.await.unwrap().unwrap() {
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "round {round}");
        let object = store.get(&key).await.unwrap();
        assert!(object.bytes.iter().all(|b| *b == object.bytes[0]));
    }
    // After a delete the key can be created again (a presigned URL is not a tombstone).
    store.delete("originals/race-0").await.unwrap();
    assert!(
        store
            .put_if_absent("originals/race-0", b"x".to_vec(), "image/png")
            .await
            .unwrap()
    );
}

/// `hold` parks exactly the request it names, until released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_parks_one_request_until_released() {
    let (_dir, s3, store) = server().await;
    let hold = thumbs_store::local_server::hold(s3.addr(), "PutObject", "thumbnails/a/");
    let parked = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .put("thumbnails/a/1.jpg", b"1".to_vec(), "image/jpeg")
                .await
        }
    });
    assert!(hold.reached(Duration::from_secs(5)).await);
    // Other requests pass, and the parked one has not written yet.
    store
        .put("thumbnails/b/1.jpg", b"2".to_vec(), "image/jpeg")
        .await
        .unwrap();
    assert!(store.head("thumbnails/a/1.jpg").await.unwrap().is_none());
    assert!(!parked.is_finished());
    hold.release();
    parked.await.unwrap().unwrap();
    assert!(store.head("thumbnails/a/1.jpg").await.unwrap().is_some());
    // One-shot: the next matching request is not held.
    store
        .put("thumbnails/a/2.jpg", b"3".to_vec(), "image/jpeg")
        .await
        .unwrap();
}

/// The lifecycle steps: a tombstone, then the content removed, the tombstone kept.
#[tokio::test]
async fn tombstone_then_remove_content() {
    use thumbs_store::lifecycle;
    let (_dir, _s3, store) = server().await;
    let id = thumbs_core::id::ImageId::for_content(b"x");
    for key in [
        format!("originals/{id}"),
        format!("thumbnails/{id}/128.jpg"),
        format!("thumbnails/{id}/manifest.json"),
        "thumbnails/other/128.jpg".to_owned(),
    ] {
        store.put(&key, b"x".to_vec(), "image/jpeg").await.unwrap();
    }
    assert!(!lifecycle::is_deleted(&store, &id).await.unwrap());
    lifecycle::mark_deleted(&store, &id).await.unwrap();
    assert!(lifecycle::is_deleted(&store, &id).await.unwrap());
    assert_eq!(lifecycle::remove_content(&store, &id).await.unwrap(), 3);
    assert_eq!(lifecycle::remove_content(&store, &id).await.unwrap(), 0);
    let mut left = store.list("").await.unwrap();
    left.sort();
    assert_eq!(
        left,
        [
            "thumbnails/other/128.jpg".to_owned(),
            format!("tombstones/{id}")
        ]
    );
}

#[tokio::test]
async fn cors_preflight_allows_browser_puts() {
    let (_dir, s3, _store) = server().await;
    let request = format!(
        "OPTIONS /{BUCKET}/originals/x?X-Amz-Signature=abc HTTP/1.1\r\nHost: {}\r\nOrigin: http://localhost:3000\r\n\
         Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n",
        s3.addr()
    );
    let (status, text) = raw_http(s3.addr(), request.as_bytes()).await;
    let lower = text.to_ascii_lowercase();
    assert_eq!(status, 200, "{text}");
    assert!(lower.contains("access-control-allow-origin: *"), "{text}");
    assert!(
        lower.contains("access-control-allow-methods: put"),
        "{text}"
    );
    assert!(
        lower.contains("access-control-allow-headers: content-type"),
        "{text}"
    );
    assert!(lower.contains("access-control-max-age: 3000"), "{text}");

    // The template's bucket rule allows PUT only: S3 refuses any other preflight with 403.
    let delete = request.replace(
        "Access-Control-Request-Method: PUT",
        "Access-Control-Request-Method: DELETE",
    );
    let (status, text) = raw_http(s3.addr(), delete.as_bytes()).await;
    assert_eq!(status, 403, "{text}");
    assert!(
        !text
            .to_ascii_lowercase()
            .contains("access-control-allow-origin")
    );
}
