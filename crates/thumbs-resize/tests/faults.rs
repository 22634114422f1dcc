//! thumbs-resize under storage faults and S3's delivery semantics (docs/architecture.md, rule 5:
//! at-least-once, unordered, duplicated events), against the embedded S3 server behind a
//! loopback proxy that fails chosen requests — the real aws-sdk-s3 client, no mock.

#[path = "../../thumbs-local/tests/support/local_bucket.rs"]
mod local_bucket;

#[path = "../../thumbs-local/tests/support/s3_fault_proxy.rs"]
mod s3_fault_proxy;

use std::time::{Duration, Instant};

use aws_lambda_events::event::s3::S3Event;
use local_bucket::{LocalBucket, local_bucket};
use s3_fault_proxy::{Fault, FaultProxy};
use thumbs_core::config::Config;
use thumbs_core::id::ImageId;
use thumbs_resize::{Outcome, Resize, ResizeError};
use thumbs_store::event::encode_key;
use thumbs_store::layout::{ThumbnailKey, manifest_key};
use thumbs_store::local_server::LocalS3;
use thumbs_store::{Manifest, Store, StoreConfig};

const BUCKET: &str = "thumbs-bucket"; // the bucket name in the SAM-generated events
const JPEG: &[u8] = include_bytes!("../../thumbs-core/tests/fixtures/coffee.jpg");
const PNG: &[u8] = include_bytes!("../../thumbs-core/tests/fixtures/coffee.png");
const PUT_EVENT: &str = include_str!("../../../infra/events/s3-put.json");

struct Stack {
    _dir: tempfile::TempDir,
    _s3: LocalS3,
    /// Straight to S3: the test's own view.
    direct: Store,
    proxy: FaultProxy,
    /// Through the fault proxy: what the handler sees.
    resize: Resize,
}

async fn stack() -> Stack {
    let LocalBucket {
        dir,
        s3,
        store: direct,
        ..
    } = local_bucket(BUCKET).await;
    let proxy = FaultProxy::start(&s3.endpoint_url()).await;
    let faulty = Store::connect(&StoreConfig {
        endpoint_url: Some(proxy.endpoint_url()),
        ..s3.store_config(BUCKET)
    })
    .await;
    Stack {
        _dir: dir,
        _s3: s3,
        direct,
        proxy,
        resize: Resize::new(Config::default(), faulty),
    }
}

/// The SAM put event with these keys, one record each (URL-encoded the way S3 does).
fn put_event(keys: &[String]) -> S3Event {
    let mut e: serde_json::Value = serde_json::from_str(PUT_EVENT).unwrap();
    let template = e["Records"][0].clone();
    e["Records"] = keys
        .iter()
        .map(|key| {
            let mut record = template.clone();
            record["s3"]["object"]["key"] = encode_key(key).into();
            record
        })
        .collect();
    serde_json::from_value(e).unwrap()
}

async fn put_original(s: &Stack, bytes: &[u8]) -> ImageId {
    let id = ImageId::for_content(bytes);
    s.direct
        .put(&format!("originals/{id}"), bytes.to_vec(), "image/jpeg")
        .await
        .unwrap();
    id
}

/// Every configured size is there, decodable, and the manifest lists exactly them.
async fn assert_complete(s: &Stack, id: &ImageId) -> Manifest {
    let manifest: Manifest = s
        .direct
        .get_json(&manifest_key(id))
        .await
        .unwrap()
        .expect("manifest written");
    let config = Config::default();
    // Each size twice: its JPEG, then its WebP.
    let mut listed: Vec<u32> = manifest.thumbnails.iter().map(|t| t.size).collect();
    listed.dedup();
    let sizes: Vec<u32> = config.sizes.iter().map(|s| s.get()).collect();
    assert_eq!(listed, sizes);
    assert_eq!(manifest.thumbnails.len(), 2 * sizes.len());
    for size in &config.sizes {
        let thumb = s
            .direct
            .get(ThumbnailKey::new(id, *size).as_str())
            .await
            .unwrap();
        let info = thumbs_core::probe(&thumb.bytes, &config.limits).expect("a decodable JPEG");
        assert!(info.width.max(info.height) <= size.get());
    }
    manifest
}

async fn has_manifest(s: &Stack, id: &ImageId) -> bool {
    s.direct.head(&manifest_key(id)).await.unwrap().is_some()
}

#[tokio::test]
async fn s3_down_during_resize_is_err_so_lambda_retries_and_the_retry_completes_the_set() {
    let s = stack().await;
    let id = put_original(&s, JPEG).await;
    let event = put_event(&[format!("originals/{id}")]);

    s.proxy.set(Fault::All);
    let started = Instant::now();
    let result = s.resize.handle(event.clone()).await;
    eprintln!("measured: S3 down → Err after {:?}", started.elapsed());
    assert!(
        matches!(&result, Err(ResizeError::Transient(err)) if err.is_transient()),
        "{result:?}"
    );
    assert!(s.proxy.failed() > 0);
    assert!(!has_manifest(&s, &id).await);
    assert!(
        s.direct
            .list(&format!("thumbnails/{id}/"))
            .await
            .unwrap()
            .is_empty(),
        "no error.json for a transient fault: the retry must not find a 'failed' image"
    );

    // S3 is back: Lambda's retry of the same event finishes the job.
    s.proxy.set(Fault::None);
    let outcomes = s.resize.handle_records(&event).await.unwrap();
    assert_eq!(outcomes, [Outcome::Ready(id.clone())]);
    assert_complete(&s, &id).await;
}

#[tokio::test]
async fn resize_dying_midway_leaves_no_manifest_and_the_retry_completes_it() {
    let s = stack().await;
    let id = put_original(&s, JPEG).await;
    let event = put_event(&[format!("originals/{id}")]);

    // The largest size's write fails: the smaller ones are written, the manifest must not be.
    s.proxy.set(Fault::Matching {
        method: "PUT".into(),
        path_contains: format!("{id}/512.jpg"),
    });
    let result = s.resize.handle_records(&event).await;
    assert!(
        matches!(result, Err(ResizeError::Transient(_))),
        "{result:?}"
    );
    assert!(s.proxy.failed() > 0, "the fault was hit");
    let keys = s.direct.list(&format!("thumbnails/{id}/")).await.unwrap();
    assert!(
        keys.iter().any(|k| k.ends_with("/128.jpg")),
        "died after some writes: {keys:?}"
    );
    assert!(
        !keys
            .iter()
            .any(|k| k.ends_with("manifest.json") || k.ends_with("error.json")),
        "half a thumbnail set must not look ready or failed: {keys:?}"
    );

    s.proxy.set(Fault::None);
    assert_eq!(
        s.resize.handle_records(&event).await.unwrap(),
        [Outcome::Ready(id.clone())]
    );
    assert_complete(&s, &id).await;
}

#[tokio::test]
async fn manifest_write_failing_is_retried_and_nothing_looks_ready_meanwhile() {
    let s = stack().await;
    let id = put_original(&s, PNG).await;
    let event = put_event(&[format!("originals/{id}")]);
    s.proxy.set(Fault::Matching {
        method: "PUT".into(),
        path_contains: format!("{id}/manifest.json"),
    });
    assert!(s.resize.handle_records(&event).await.is_err());
    assert!(!has_manifest(&s, &id).await);
    s.proxy.set(Fault::None);
    assert_eq!(
        s.resize.handle_records(&event).await.unwrap(),
        [Outcome::Ready(id.clone())]
    );
    assert_complete(&s, &id).await;
}

#[tokio::test]
async fn duplicate_and_out_of_order_events_are_harmless() {
    let s = stack().await;
    let first = put_original(&s, JPEG).await;
    let second = put_original(&s, PNG).await;
    let first_key = format!("originals/{first}");
    let second_key = format!("originals/{second}");

    // Delivered in reverse order of upload, then each again, then both in one event.
    let outcomes = s
        .resize
        .handle_records(&put_event(std::slice::from_ref(&second_key)))
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Ready(second.clone())]);
    let outcomes = s
        .resize
        .handle_records(&put_event(std::slice::from_ref(&first_key)))
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Ready(first.clone())]);
    let manifests = (
        assert_complete(&s, &first).await,
        assert_complete(&s, &second).await,
    );
    let etag = |id: &ImageId| {
        let key = ThumbnailKey::new(id, Config::default().sizes[0]);
        let store = s.direct.clone();
        async move { store.head(key.as_str()).await.unwrap().unwrap().etag }
    };
    let etags = (etag(&first).await, etag(&second).await);

    let writes_before = s
        .proxy
        .requests()
        .iter()
        .filter(|r| r.starts_with("PUT "))
        .count();
    for event in [
        put_event(std::slice::from_ref(&first_key)),
        put_event(std::slice::from_ref(&second_key)),
        put_event(&[second_key.clone(), first_key.clone(), second_key.clone()]),
    ] {
        let outcomes = s.resize.handle_records(&event).await.unwrap();
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, Outcome::AlreadyDone(_))),
            "{outcomes:?}"
        );
    }
    let writes_after = s
        .proxy
        .requests()
        .iter()
        .filter(|r| r.starts_with("PUT "))
        .count();
    assert_eq!(writes_before, writes_after, "a duplicate event wrote again");
    assert_eq!((etag(&first).await, etag(&second).await), etags);
    assert_eq!(
        (
            assert_complete(&s, &first).await,
            assert_complete(&s, &second).await
        ),
        manifests
    );
}

#[tokio::test]
async fn event_for_an_original_deleted_since_is_done_not_retried_forever() {
    let s = stack().await;
    let id = ImageId::random();
    let started = Instant::now();
    let outcomes = s
        .resize
        .handle_records(&put_event(&[format!("originals/{id}")]))
        .await
        .unwrap();
    assert!(
        matches!(&outcomes[..], [Outcome::Missing(_)]),
        "{outcomes:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        s.direct
            .list(&format!("thumbnails/{id}/"))
            .await
            .unwrap()
            .is_empty()
    );
}
