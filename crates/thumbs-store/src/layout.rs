//! The object layout of the one private bucket (docs/architecture.md, "Storage layout").
//!
//! ```text
//! originals/{id}                   the uploaded bytes, Content-Type from sniffing
//! thumbnails/{id}/{size}.jpg       one per configured size, made by the resize
//! thumbnails/{id}/{size}.webp      one per configured size, made by the resize
//! thumbnails/{id}/{size}.avif      made on the first request for it, then read from here
//! thumbnails/{id}/manifest.json    written LAST: the "ready" marker (Manifest)
//! thumbnails/{id}/error.json       written on a permanent failure (Failure)
//! tombstones/{id}                  written FIRST by DELETE: the image is gone for good (Tombstone)
//! ```
//! The resize trigger filters on `originals/` only, so writing thumbnails or tombstones never
//! re-triggers it. Who writes what, in which order, and why every race ends right:
//! `docs/lifecycle.md`.

use serde::{Deserialize, Serialize};
use thumbs_core::config::ThumbnailSize;
use thumbs_core::encode::OutputFormat;
use thumbs_core::id::ImageId;

/// Prefix of uploaded originals (the resize trigger's filter).
pub const ORIGINALS_PREFIX: &str = "originals/";
/// Prefix of everything derived from an original.
pub const THUMBNAILS_PREFIX: &str = "thumbnails/";
/// Prefix of deletion markers: outside `originals/`, so writing one never starts a resize.
pub const TOMBSTONES_PREFIX: &str = "tombstones/";

/// `originals/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalKey(String);

impl OriginalKey {
    pub fn new(id: &ImageId) -> OriginalKey {
        OriginalKey(format!("{ORIGINALS_PREFIX}{id}"))
    }

    /// The image id of an `originals/{id}` key, or `None` for keys outside the layout
    /// (other prefixes, names that are not ids, nested paths).
    pub fn parse_id(key: &str) -> Option<ImageId> {
        let rest = key.strip_prefix(ORIGINALS_PREFIX)?;
        ImageId::parse(rest).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `thumbnails/{id}/{size}.{jpg,webp,avif}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThumbnailKey(String);

impl ThumbnailKey {
    /// The JPEG, `thumbnails/{id}/{size}.jpg`.
    pub fn new(id: &ImageId, size: ThumbnailSize) -> ThumbnailKey {
        ThumbnailKey::variant(id, size, OutputFormat::Jpeg)
    }

    /// `thumbnails/{id}/{size}.{extension of format}`.
    pub fn variant(id: &ImageId, size: ThumbnailSize, format: OutputFormat) -> ThumbnailKey {
        ThumbnailKey(format!(
            "{THUMBNAILS_PREFIX}{id}/{size}.{}",
            format.extension()
        ))
    }

    /// The size and format of a key's last segment (`256.webp` → 256, WebP), if it is a
    /// thumbnail's.
    pub fn parse_file(file: &str) -> Option<(u32, OutputFormat)> {
        let (size, extension) = file.split_once('.')?;
        Some((size.parse().ok()?, OutputFormat::from_extension(extension)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `thumbnails/{id}/` — everything derived from one original.
pub fn thumbnails_prefix(id: &ImageId) -> String {
    format!("{THUMBNAILS_PREFIX}{id}/")
}

/// `thumbnails/{id}/manifest.json`.
pub fn manifest_key(id: &ImageId) -> String {
    format!("{THUMBNAILS_PREFIX}{id}/manifest.json")
}

/// `thumbnails/{id}/error.json`.
pub fn error_key(id: &ImageId) -> String {
    format!("{THUMBNAILS_PREFIX}{id}/error.json")
}

/// `tombstones/{id}`: present once a DELETE has begun; never removed, so an id is never reused.
pub fn tombstone_key(id: &ImageId) -> String {
    format!("{TOMBSTONES_PREFIX}{id}")
}

macro_rules! impl_display {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    )*};
}
impl_display!(OriginalKey, ThumbnailKey);

/// `manifest.json`: the source and every thumbnail written, present only once all are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub source: ManifestSource,
    pub thumbnails: Vec<ManifestThumbnail>,
}

/// The original as probed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestSource {
    /// `Format::name()`: "jpeg", "png", ...
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

/// One written thumbnail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestThumbnail {
    pub size: u32,
    /// `OutputFormat::name()`: "jpeg" or "webp" (the resize's formats). Manifests written
    /// before there were other formats have none: JPEG.
    #[serde(default = "jpeg_name")]
    pub format: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
}

fn jpeg_name() -> String {
    OutputFormat::Jpeg.name().to_owned()
}

/// `error.json`: why an original can never be thumbnailed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The API error code the failure maps to (`unsupported_media_type`, ...).
    pub code: String,
    /// Human-readable reason, shown as `GET /images/{id}` → `failed` reason.
    pub reason: String,
}

/// `tombstones/{id}`: when the image was deleted. Its presence is what counts; the body is for
/// people reading the bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// RFC 3339 time of the DELETE.
    pub deleted_at: String,
}
