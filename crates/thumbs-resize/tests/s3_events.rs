//! thumbs-resize driven by S3 event JSON from `sam local generate-event s3 put` (infra/events),
//! against the embedded S3 server over HTTP with the real aws-sdk-s3 client.

#[path = "../../thumbs-local/tests/support/local_bucket.rs"]
mod local_bucket;

use aws_lambda_events::event::s3::S3Event;
use local_bucket::{LocalBucket, local_bucket};
use thumbs_core::config::Config;
use thumbs_core::id::ImageId;
use thumbs_resize::{Outcome, Resize};
use thumbs_store::event::{ObjectCreated, encode_key};
use thumbs_store::local_server::LocalS3;
use thumbs_store::{Manifest, Store};
use tokio::sync::mpsc::UnboundedReceiver;

const BUCKET: &str = "thumbs-bucket"; // the bucket name in the SAM-generated events
const JPEG: &[u8] = include_bytes!("../../thumbs-core/tests/fixtures/coffee.jpg");
const SVG: &[u8] = include_bytes!("../../thumbs-core/tests/fixtures/drawing.svg");
const PUT_EVENT: &str = include_str!("../../../infra/events/s3-put.json");
const PLUS_KEY_EVENT: &str = include_str!("../../../infra/events/s3-put-plus-key.json");
const TEST_EVENT: &str = include_str!("../../../infra/events/s3-test-event.json");

struct Stack {
    _dir: tempfile::TempDir,
    _s3: LocalS3,
    store: Store,
    resize: Resize,
    created: UnboundedReceiver<ObjectCreated>,
}

async fn stack() -> Stack {
    let LocalBucket {
        dir,
        s3,
        store,
        created,
    } = local_bucket(BUCKET).await;
    let resize = Resize::new(Config::default(), store.clone());
    Stack {
        _dir: dir,
        _s3: s3,
        store,
        resize,
        created,
    }
}

/// The SAM put event with the key replaced (URL-encoded the way S3 does).
fn put_event(key: &str) -> S3Event {
    let mut e: serde_json::Value = serde_json::from_str(PUT_EVENT).unwrap();
    e["Records"][0]["s3"]["object"]["key"] = encode_key(key).into();
    serde_json::from_value(e).unwrap()
}

fn drain(rx: &mut UnboundedReceiver<ObjectCreated>) -> Vec<String> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .map(|c| c.key)
        .collect()
}

async fn put_original(s: &mut Stack, bytes: &[u8]) -> ImageId {
    let id = ImageId::for_content(bytes);
    s.store
        .put(
            &format!("originals/{id}"),
            bytes.to_vec(),
            "application/octet-stream",
        )
        .await
        .unwrap();
    drain(&mut s.created);
    id
}

#[tokio::test]
async fn put_event_writes_every_size_in_jpeg_and_webp_then_the_manifest_last() {
    let mut s = stack().await;
    let id = put_original(&mut s, JPEG).await;
    let outcomes = s
        .resize
        .handle_records(&put_event(&format!("originals/{id}")))
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Ready(id.clone())]);

    let written = drain(&mut s.created);
    assert_eq!(
        written,
        [
            format!("thumbnails/{id}/128.jpg"),
            format!("thumbnails/{id}/128.webp"),
            format!("thumbnails/{id}/256.jpg"),
            format!("thumbnails/{id}/256.webp"),
            format!("thumbnails/{id}/512.jpg"),
            format!("thumbnails/{id}/512.webp"),
            format!("thumbnails/{id}/manifest.json"),
        ]
    );
    let manifest: Manifest = s
        .store
        .get_json(&format!("thumbnails/{id}/manifest.json"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(manifest.source.format, "jpeg");
    assert_eq!(manifest.source.bytes, JPEG.len() as u64);
    assert_eq!(
        manifest
            .thumbnails
            .iter()
            .map(|t| (t.size, t.format.as_str()))
            .collect::<Vec<_>>(),
        [
            (128, "jpeg"),
            (128, "webp"),
            (256, "jpeg"),
            (256, "webp"),
            (512, "jpeg"),
            (512, "webp")
        ]
    );
    for t in &manifest.thumbnails {
        assert!(t.width.max(t.height) <= t.size && t.width.max(t.height) > 0);
        let (ext, mime, magic) = match t.format.as_str() {
            "jpeg" => ("jpg", "image/jpeg", &b"\xff\xd8"[..]),
            _ => ("webp", "image/webp", &b"RIFF"[..]),
        };
        let object = s
            .store
            .get(&format!("thumbnails/{id}/{}.{ext}", t.size))
            .await
            .unwrap();
        assert_eq!(object.bytes.len() as u64, t.bytes);
        assert_eq!(object.meta.content_type.as_deref(), Some(mime));
        assert!(object.bytes.starts_with(magic), "{}", t.format);
        // The WebP is the smaller file of the two.
        if t.format == "webp" {
            let jpeg = manifest
                .thumbnails
                .iter()
                .find(|j| j.size == t.size && j.format == "jpeg")
                .unwrap();
            assert!(
                t.bytes < jpeg.bytes,
                "{} webp {} >= jpeg {}",
                t.size,
                t.bytes,
                jpeg.bytes
            );
        }
    }
}

#[tokio::test]
async fn duplicate_event_is_harmless_and_writes_nothing() {
    let mut s = stack().await;
    let id = put_original(&mut s, JPEG).await;
    let event = put_event(&format!("originals/{id}"));
    s.resize.handle(event.clone()).await.unwrap();
    drain(&mut s.created);
    let outcomes = s.resize.handle_records(&event).await.unwrap();
    assert_eq!(outcomes, [Outcome::AlreadyDone(id)]);
    assert!(drain(&mut s.created).is_empty());
}

#[tokio::test]
async fn key_with_a_space_is_decoded_not_used_raw() {
    let mut s = stack().await;
    // S3 sends "originals/my photo (1).jpg" as "originals/my+photo+%281%29.jpg".
    s.store
        .put("originals/my photo (1).jpg", JPEG.to_vec(), "image/jpeg")
        .await
        .unwrap();
    drain(&mut s.created);
    let event: S3Event = serde_json::from_str(PLUS_KEY_EVENT).unwrap();
    let outcomes = s.resize.handle_records(&event).await.unwrap();
    // Decoded correctly, and recognised as outside the originals/{id} layout: skipped, no retry.
    assert_eq!(
        outcomes,
        [Outcome::Ignored(
            "originals/my photo (1).jpg: not originals/{id}".into()
        )]
    );
    assert!(drain(&mut s.created).is_empty());
}

#[tokio::test]
async fn test_event_is_acknowledged() {
    let s = stack().await;
    let event: serde_json::Value = serde_json::from_str(TEST_EVENT).unwrap();
    s.resize.handle_json(event).await.unwrap();
    let put: serde_json::Value = serde_json::from_str(PUT_EVENT).unwrap();
    s.resize.handle_json(put).await.unwrap(); // a real event through the same entry point
}

#[tokio::test]
async fn missing_object_and_foreign_keys_are_skipped() {
    let mut s = stack().await;
    // s3-put.json as generated: originals/0123..., which was never written.
    let event: S3Event = serde_json::from_str(PUT_EVENT).unwrap();
    let outcomes = s.resize.handle_records(&event).await.unwrap();
    assert!(
        matches!(&outcomes[..], [Outcome::Missing(_)]),
        "{outcomes:?}"
    );
    let outcomes = s
        .resize
        .handle_records(&put_event("thumbnails/x/128.jpg"))
        .await
        .unwrap();
    assert!(
        matches!(&outcomes[..], [Outcome::Ignored(_)]),
        "{outcomes:?}"
    );
    assert!(drain(&mut s.created).is_empty());
}

#[tokio::test]
async fn permanently_bad_image_writes_error_json_and_does_not_retry() {
    let mut s = stack().await;
    let id = put_original(&mut s, SVG).await;
    s.resize
        .handle(put_event(&format!("originals/{id}")))
        .await
        .unwrap();
    assert_eq!(
        drain(&mut s.created),
        [format!("thumbnails/{id}/error.json")]
    );
    let failure: thumbs_store::Failure = s
        .store
        .get_json(&format!("thumbnails/{id}/error.json"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failure.code, "unsupported_format");
}

#[tokio::test]
async fn presigned_upload_over_the_input_limit_fails_permanently() {
    let dir = tempfile::tempdir().unwrap();
    let s3 = LocalS3::start(dir.path(), 0).await.unwrap();
    s3.create_bucket(BUCKET).unwrap();
    let store = Store::connect(&s3.store_config(BUCKET)).await;
    let mut config = Config::default();
    config.limits.max_input_bytes = 1000;
    let resize = Resize::new(config, store.clone());
    let id = ImageId::random();
    store
        .put(&format!("originals/{id}"), JPEG.to_vec(), "image/jpeg")
        .await
        .unwrap();
    let outcomes = resize
        .handle_records(&put_event(&format!("originals/{id}")))
        .await
        .unwrap();
    assert!(
        matches!(&outcomes[..], [Outcome::Failed(..)]),
        "{outcomes:?}"
    );
    let failure: thumbs_store::Failure = store
        .get_json(&format!("thumbnails/{id}/error.json"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failure.code, "too_large");
}

#[tokio::test]
async fn transient_storage_fault_is_err_so_lambda_retries() {
    let config = thumbs_store::local_server::unreachable_store_config(BUCKET);
    let resize = Resize::new(Config::default(), Store::connect(&config).await);
    let event: S3Event = serde_json::from_str(PUT_EVENT).unwrap();
    let err = resize.handle(event).await.unwrap_err();
    assert!(
        matches!(err, thumbs_resize::ResizeError::Transient(_)),
        "{err:?}"
    );
}
