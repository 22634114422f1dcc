//! The steps of an image's life that more than one function takes, in one place. The order in
//! which the functions call them is the whole design; `docs/lifecycle.md` explains it:
//!
//! - DELETE: [`mark_deleted`] FIRST, then [`remove_content`].
//! - Every writer (upload, resize, on-demand render): [`is_deleted`] before writing, and again
//!   AFTER its last write; if the second look sees the tombstone, it removes what it wrote
//!   ([`remove_content`] for the resize, its one thumbnail for serve). Either the re-check sees
//!   the tombstone, or the tombstone was written after every write of that writer, and then the
//!   DELETE's own removal (which lists after its tombstone) sees and removes them. S3 is
//!   strongly read-after-write consistent for PUT, DELETE and LIST
//!   (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel>).
//! - Every reader (status, thumbnails): [`is_deleted`] → 404, whatever else is in the bucket.

use thumbs_core::id::ImageId;

use crate::error::StoreError;
use crate::layout::{self, OriginalKey, Tombstone};
use crate::store::Store;

/// Whether `tombstones/{id}` exists (one `HeadObject`).
pub async fn is_deleted(store: &Store, id: &ImageId) -> Result<bool, StoreError> {
    Ok(store.head(&layout::tombstone_key(id)).await?.is_some())
}

/// Writes `tombstones/{id}`. From this moment every route answers 404 for the image and every
/// writer undoes what it writes.
pub async fn mark_deleted(store: &Store, id: &ImageId) -> Result<(), StoreError> {
    let deleted_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    store
        .put_json(&layout::tombstone_key(id), &Tombstone { deleted_at })
        .await
}

/// Removes the original and everything under `thumbnails/{id}/` (the tombstone stays);
/// returns how many objects were there. Safe to repeat: a missing key is not an error.
pub async fn remove_content(store: &Store, id: &ImageId) -> Result<usize, StoreError> {
    let original = OriginalKey::new(id);
    let had_original = store.head(original.as_str()).await?.is_some();
    store.delete(original.as_str()).await?;
    let derived = store.delete_prefix(&layout::thumbnails_prefix(id)).await?;
    Ok(derived + usize::from(had_original))
}
