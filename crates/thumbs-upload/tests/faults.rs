//! thumbs-upload under storage faults: S3 failing or gone mid-run answers 503 with
//! Retry-After, and nothing is half-written (no `originals/` object, so no resize starts).
//! The real aws-sdk-s3 client against the embedded S3 server, behind a loopback fault proxy.

#[path = "../../thumbs-local/tests/support/s3_fault_proxy.rs"]
mod s3_fault_proxy;

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::{Body, Response};
use s3_fault_proxy::{Fault, FaultProxy};
use thumbs_core::config::Config;
use thumbs_store::local_server::LocalS3;
use thumbs_store::{Store, StoreConfig};
use thumbs_upload::Upload;

const BUCKET: &str = "thumbs-test";
const JPEG: &[u8] = include_bytes!("../../thumbs-core/tests/fixtures/coffee.jpg");
const PNG: &[u8] = include_bytes!("../../thumbs-core/tests/fixtures/coffee.png");
const EVENT: &str = include_str!("../../../infra/events/apigw-post-images.json");

/// `POST /images` with a binary body, as API Gateway delivers it (base64, docs/architecture.md, rule 1).
fn post_image(content_type: &str, body: &[u8]) -> lambda_http::Request {
    let mut e: serde_json::Value = serde_json::from_str(EVENT).unwrap();
    e["httpMethod"] = "POST".into();
    e["requestContext"]["httpMethod"] = "POST".into();
    e["path"] = "/images".into();
    e["requestContext"]["path"] = "/prod/images".into();
    e["resource"] = "/images".into();
    e["pathParameters"] = serde_json::Value::Null;
    e["headers"]["Content-Type"] = content_type.into();
    e["multiValueHeaders"]["Content-Type"] = serde_json::json!([content_type]);
    e["body"] = STANDARD.encode(body).into();
    e["isBase64Encoded"] = true.into();
    lambda_http::request::from_str(&e.to_string()).unwrap()
}

fn json(resp: &Response<Body>) -> serde_json::Value {
    serde_json::from_slice(resp.body().as_ref()).unwrap_or(serde_json::Value::Null)
}

fn assert_503_retry_after(resp: &Response<Body>) {
    let body = json(resp);
    assert_eq!(resp.status().as_u16(), 503, "{body}");
    assert_eq!(body["error"]["code"], "storage_unavailable", "{body}");
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok());
    assert!(
        retry_after.is_some_and(|s| s > 0),
        "Retry-After: {retry_after:?}"
    );
}

/// Object files under the bucket folder (s3s-fs keeps one file per key).
fn originals(root: &std::path::Path) -> Vec<String> {
    let dir = root.join(BUCKET).join("originals");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect()
}

#[tokio::test]
async fn original_put_failing_is_503_with_retry_after_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (created_tx, mut created) = tokio::sync::mpsc::unbounded_channel();
    let s3 = LocalS3::start_with_hook(dir.path(), 0, created_tx)
        .await
        .unwrap();
    s3.create_bucket(BUCKET).unwrap();
    let proxy = FaultProxy::start(&s3.endpoint_url()).await;
    let store = Store::connect(&StoreConfig {
        endpoint_url: Some(proxy.endpoint_url()),
        ..s3.store_config(BUCKET)
    })
    .await;
    let upload = Upload::new(Config::default(), store);

    // The HEAD (is it there already?) works; the PUT of the original fails.
    proxy.set(Fault::Matching {
        method: "PUT".into(),
        path_contains: "/originals/".into(),
    });
    let resp = upload.handle(post_image("image/jpeg", JPEG)).await;
    assert_503_retry_after(&resp);
    assert!(proxy.failed() > 0);
    assert_eq!(originals(dir.path()), Vec::<String>::new());
    assert!(
        created.try_recv().is_err(),
        "no object created, no S3 event"
    );

    // S3 is fine again: the client's retry succeeds.
    proxy.set(Fault::None);
    let resp = upload.handle(post_image("image/jpeg", JPEG)).await;
    assert_eq!(resp.status(), 201, "{}", json(&resp));
    assert_eq!(originals(dir.path()).len(), 1);
}

#[tokio::test]
async fn s3_down_for_every_call_is_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), 0).await.unwrap();
    s3.create_bucket(BUCKET).unwrap();
    let proxy = FaultProxy::start(&s3.endpoint_url()).await;
    let store = Store::connect(&StoreConfig {
        endpoint_url: Some(proxy.endpoint_url()),
        ..s3.store_config(BUCKET)
    })
    .await;
    let upload = Upload::new(Config::default(), store);
    proxy.set(Fault::All);
    let started = Instant::now();
    let resp = upload.handle(post_image("image/png", PNG)).await;
    eprintln!(
        "measured: S3 answering 503 → 503 after {:?}",
        started.elapsed()
    );
    assert_503_retry_after(&resp);
    // Well inside API Gateway's 29 s integration timeout, so the client sees the 503.
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(originals(dir.path()), Vec::<String>::new());
}

#[tokio::test]
async fn s3_stopped_mid_run_is_503_and_serving_resumes_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), 0).await.unwrap();
    s3.create_bucket(BUCKET).unwrap();
    let port = s3.addr().port();
    let config = s3.store_config(BUCKET);
    let upload = Upload::new(Config::default(), Store::connect(&config).await);
    let resp = upload.handle(post_image("image/jpeg", JPEG)).await;
    assert_eq!(resp.status(), 201, "{}", json(&resp));

    drop(s3); // dropping LocalS3 stops it
    tokio::time::sleep(Duration::from_millis(50)).await;
    let resp = upload.handle(post_image("image/png", PNG)).await;
    assert_503_retry_after(&resp);
    assert_eq!(originals(dir.path()).len(), 1, "only the first upload");

    // Back on the same port with the same data: the same client recovers.
    let s3 = LocalS3::start(dir.path(), port).await.unwrap();
    let resp = upload.handle(post_image("image/png", PNG)).await;
    assert_eq!(resp.status(), 201, "{}", json(&resp));
    assert_eq!(originals(dir.path()).len(), 2);
    drop(s3);
}

#[tokio::test]
async fn hung_s3_is_503_with_retry_after_before_the_gateway_gives_up() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), 0).await.unwrap();
    s3.create_bucket(BUCKET).unwrap();
    let proxy = FaultProxy::start(&s3.endpoint_url()).await;
    let store = Store::connect(&StoreConfig {
        endpoint_url: Some(proxy.endpoint_url()),
        ..s3.store_config(BUCKET)
    })
    .await;
    // The production bounds: one call (retries included) well under API Gateway's 29 s.
    let timeouts = store.client().config().timeout_config().cloned().unwrap();
    let operation = timeouts.operation_timeout().expect("an operation timeout");
    assert!(operation <= Duration::from_secs(12), "{operation:?}");
    // The same mechanism with short bounds, so the test is quick.
    let store = store.with_timeouts(Duration::from_millis(300), Duration::from_secs(1));
    let upload = Upload::new(Config::default(), store);
    proxy.set(Fault::Delay(Duration::from_secs(30)));
    let started = Instant::now();
    let resp = upload.handle(post_image("image/jpeg", JPEG)).await;
    eprintln!(
        "measured: hung S3 → {} after {:?}",
        resp.status(),
        started.elapsed()
    );
    assert_503_retry_after(&resp);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(originals(dir.path()), Vec::<String>::new());
}
