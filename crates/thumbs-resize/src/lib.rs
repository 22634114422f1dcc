//! thumbs-resize: the Lambda S3 invokes when an object is created under `originals/`.
//!
//! [`Resize`] turns each record into thumbnails: decode the key (S3 URL-encodes it), skip what
//! is not ours or already done, read the original within the limits, make every configured
//! size in JPEG and WebP ([`AHEAD_FORMATS`]) from ONE decode (`thumbs_core::render`), write them, and write `manifest.json` LAST — its presence
//! is the "ready" marker and what makes duplicate deliveries harmless.
//!
//! Deletes stick (`docs/lifecycle.md`): the tombstone `tombstones/{id}` is looked at before
//! starting, before every write, and once more AFTER the last write (or a failed one). Whenever
//! it is there, the resize removes everything of the image — what it wrote, what a twin
//! delivery wrote, and the original — and reports [`Outcome::Deleted`]. A late or duplicate
//! event for a deleted image therefore only cleans up.
//!
//! Error policy (S3 notifications are at-least-once and async invocations are retried twice):
//! - transient storage faults → `Err`, so Lambda retries the whole event (already finished
//!   records are skipped by their manifest);
//! - a permanently bad image (unsupported, over the limits, undecodable) → `error.json` and
//!   `Ok`: retrying the same bytes cannot help.

use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use thumbs_core::config::Config;
use thumbs_core::encode::OutputFormat;
use thumbs_core::error::Error;
use thumbs_core::id::ImageId;
use thumbs_store::event::{decode_key, is_test_event};
use thumbs_store::layout::{
    self, Failure, Manifest, ManifestSource, ManifestThumbnail, OriginalKey, ThumbnailKey,
};
use thumbs_store::{Store, StoreError, lifecycle};

/// The only reason the resize returns `Err`: something Lambda should retry.
#[derive(Debug, thiserror::Error)]
pub enum ResizeError {
    #[error("transient storage fault: {0}")]
    Transient(#[from] StoreError),
    #[error("the event is neither an S3 notification nor s3:TestEvent: {0}")]
    BadEvent(String),
}

/// What happened to one record (returned for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// All sizes and the manifest written.
    Ready(ImageId),
    /// The manifest was already there (a duplicate delivery).
    AlreadyDone(ImageId),
    /// Not an `originals/{id}` key, or another bucket.
    Ignored(String),
    /// The object is gone (deleted after the event was sent).
    Missing(String),
    /// A permanent failure, recorded in `error.json`.
    Failed(ImageId, String),
    /// The image was deleted (before or while this ran): everything of it was removed.
    Deleted(ImageId),
}

/// The formats made ahead, for every configured size: JPEG (every client) and WebP (fits the
/// encode-time budget). AVIF is made on its first request by thumbs-serve (docs/performance.md,
/// "Formats").
pub const AHEAD_FORMATS: [OutputFormat; 2] = [OutputFormat::Jpeg, OutputFormat::WebP];

#[derive(Debug, Clone)]
pub struct Resize {
    config: Config,
    store: Store,
}

impl Resize {
    pub fn new(config: Config, store: Store) -> Resize {
        Resize { config, store }
    }

    /// Entry point for the runtime: recognises `s3:TestEvent` (which has no `Records`), then
    /// handles the notification.
    pub async fn handle_json(&self, event: serde_json::Value) -> Result<(), ResizeError> {
        if is_test_event(&event) {
            tracing::info!("s3:TestEvent received: notifications are configured");
            return Ok(());
        }
        let event: S3Event =
            serde_json::from_value(event).map_err(|err| ResizeError::BadEvent(err.to_string()))?;
        self.handle(event).await
    }

    /// Handles every record; `Err` only when a transient fault left some record undone.
    pub async fn handle(&self, event: S3Event) -> Result<(), ResizeError> {
        self.handle_records(&event).await.map(|_| ())
    }

    /// Like [`Resize::handle`], returning what happened to each record.
    pub async fn handle_records(&self, event: &S3Event) -> Result<Vec<Outcome>, ResizeError> {
        let mut outcomes = Vec::with_capacity(event.records.len());
        let mut transient = None;
        for record in &event.records {
            match self.handle_record(record).await {
                Ok(outcome) => {
                    tracing::info!(?outcome, "record done");
                    outcomes.push(outcome);
                }
                Err(err) if err.is_transient() => {
                    tracing::warn!(error = %err, "transient fault; the event will be retried");
                    transient = Some(err);
                }
                Err(err) => {
                    // Retrying cannot fix e.g. access denied; say so loudly and move on.
                    tracing::error!(error = %err, "permanent storage fault; record skipped");
                    outcomes.push(Outcome::Ignored(err.to_string()));
                }
            }
        }
        match transient {
            Some(err) => Err(ResizeError::Transient(err)),
            None => Ok(outcomes),
        }
    }

    async fn handle_record(&self, record: &S3EventRecord) -> Result<Outcome, StoreError> {
        let raw_key = record.s3.object.key.as_deref().unwrap_or("");
        // S3 URL-encodes keys in events: "my photo.jpg" arrives as "my+photo.jpg".
        let key = match decode_key(raw_key) {
            Ok(key) => key,
            Err(err) => return Ok(Outcome::Ignored(err.to_string())),
        };
        if let Some(bucket) = record.s3.bucket.name.as_deref()
            && bucket != self.store.bucket()
        {
            return Ok(Outcome::Ignored(format!(
                "{bucket}/{key}: not this function's bucket"
            )));
        }
        if !record
            .event_name
            .as_deref()
            .unwrap_or("ObjectCreated:")
            .starts_with("ObjectCreated:")
        {
            return Ok(Outcome::Ignored(format!(
                "{key}: not an ObjectCreated event"
            )));
        }
        let Some(id) = OriginalKey::parse_id(&key) else {
            return Ok(Outcome::Ignored(format!("{key}: not originals/{{id}}")));
        };
        if lifecycle::is_deleted(&self.store, &id).await? {
            return self.remove_deleted(&id).await;
        }
        if self.store.head(&layout::manifest_key(&id)).await?.is_some() {
            return Ok(Outcome::AlreadyDone(id));
        }
        // Everything from here on writes: whatever happens, look at the tombstone once more
        // after the last write, and undo it all if the image was deleted meanwhile.
        // Boxed: the whole read-decode-write future nested in the per-record loop is deep
        // enough to hit the compiler's query depth limit when laid out inline.
        let result = Box::pin(self.make(&id, &key)).await;
        if matches!(result, Ok(Outcome::Missing(_))) {
            // Nothing written: the original is gone (deleted, or a presigned id never used).
            return result;
        }
        match lifecycle::is_deleted(&self.store, &id).await {
            Ok(true) => self.remove_deleted(&id).await,
            Ok(false) => result,
            // Cannot tell: retry the event (its first step looks at the tombstone again).
            Err(err) => Err(err),
        }
    }

    /// Reads, resizes and writes one image; stops early (with `Outcome::Deleted`, no more
    /// writes) when the tombstone shows up before a write. The caller re-checks after.
    async fn make(&self, id: &ImageId, key: &str) -> Result<Outcome, StoreError> {
        // Presigned uploads reach S3 without passing the upload Lambda: apply the limits here.
        // The cap is the one POST /uploads presigns with, so a presigned upload fits it.
        let original = OriginalKey::new(id);
        let limit = self.config.limits.max_input_bytes as u64;
        let object = match self.store.get_limited(original.as_str(), limit).await {
            Ok(object) => object,
            Err(StoreError::NotFound { .. }) => return Ok(Outcome::Missing(key.to_owned())),
            Err(StoreError::TooLarge { size, .. }) => {
                let err = Error::InputTooLarge {
                    bytes: size as usize,
                    limit: limit as usize,
                };
                return self.fail(id, &err).await;
            }
            Err(err) => return Err(err),
        };

        let bytes = object.bytes.clone();
        let config = self.config.clone();
        // CPU-bound: keep it off the async worker threads.
        let made = tokio::task::spawn_blocking(move || {
            thumbs_core::render(&bytes, &config.sizes, &AHEAD_FORMATS, &config)
        })
        .await
        .unwrap_or_else(|join| Err(Error::Encode(format!("thumbnail task failed: {join}"))));
        let thumbnails = match made {
            Ok(thumbnails) => thumbnails,
            Err(err) => return self.fail(id, &err).await,
        };

        let mut written = Vec::with_capacity(thumbnails.variants.len());
        for thumb in &thumbnails.variants {
            if lifecycle::is_deleted(&self.store, id).await? {
                return Ok(Outcome::Deleted(id.clone()));
            }
            let key = ThumbnailKey::variant(id, thumb.size, thumb.format);
            self.store
                .put(key.as_str(), thumb.bytes.clone(), thumb.format.mime())
                .await?;
            written.push(ManifestThumbnail {
                size: thumb.size.get(),
                format: thumb.format.name().to_owned(),
                width: thumb.width,
                height: thumb.height,
                bytes: thumb.bytes.len() as u64,
            });
        }
        let manifest = Manifest {
            source: ManifestSource {
                format: thumbnails.source.format.name().to_owned(),
                width: thumbnails.source.width,
                height: thumbnails.source.height,
                bytes: object.meta.size,
            },
            thumbnails: written,
        };
        if lifecycle::is_deleted(&self.store, id).await? {
            return Ok(Outcome::Deleted(id.clone()));
        }
        // Last: only now is the image "ready".
        self.store
            .put_json(&layout::manifest_key(id), &manifest)
            .await?;
        Ok(Outcome::Ready(id.clone()))
    }

    /// The image is deleted: remove whatever of it is left (original, thumbnails, manifest,
    /// error record). The tombstone stays.
    async fn remove_deleted(&self, id: &ImageId) -> Result<Outcome, StoreError> {
        let removed = lifecycle::remove_content(&self.store, id).await?;
        if removed > 0 {
            tracing::info!(%id, objects = removed, "image deleted while processing: removed what was left");
        }
        Ok(Outcome::Deleted(id.clone()))
    }

    /// Records a permanent failure in `error.json` (what `GET /images/{id}` reports).
    async fn fail(&self, id: &ImageId, err: &Error) -> Result<Outcome, StoreError> {
        tracing::warn!(%id, code = err.code(), "cannot make thumbnails: {err}");
        let failure = Failure {
            code: err.code().to_owned(),
            reason: err.to_string(),
        };
        if lifecycle::is_deleted(&self.store, id).await? {
            return Ok(Outcome::Deleted(id.clone()));
        }
        self.store
            .put_json(&layout::error_key(id), &failure)
            .await?;
        Ok(Outcome::Failed(id.clone(), err.to_string()))
    }
}
