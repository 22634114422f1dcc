//! thumbs-store: the only crate that talks to S3.
//!
//! - [`Store`] (`store.rs`): get / put / head / delete / list / presign over ONE
//!   `aws_sdk_s3::Client`, built once at start-up from a [`StoreConfig`] (`config.rs`).
//! - [`layout`]: where things live in the bucket (`originals/{id}`, `thumbnails/{id}/...`,
//!   `tombstones/{id}`) and the `manifest.json` / `error.json` / tombstone documents.
//! - [`lifecycle`]: the tombstone checks and the content removal every function shares
//!   (`docs/lifecycle.md`).
//! - [`StoreError`] (`error.rs`): every S3 failure classified once as transient (Lambda retries,
//!   HTTP 503 + Retry-After) or permanent, and its one mapping to an HTTP [`ApiError`].
//! - [`event`]: S3 event notifications — URL-encoded keys (`+` is a space), `s3:TestEvent`.
//! - `local_server` (feature `local-server`): [`local_server::LocalS3`], an embedded
//!   S3-protocol server (s3s + s3s-fs) with SigV4, CORS and an object-created hook.
//!
//! Never does: image work (thumbs-core), HTTP routing (the handler crates), reading env vars
//! after start-up.
//!
//! [`ApiError`]: thumbs_core::error::ApiError

pub mod config;
pub mod error;
pub mod event;
pub mod layout;
pub mod lifecycle;
#[cfg(feature = "local-server")]
pub mod local_server;
mod store;

pub use config::StoreConfig;
pub use error::StoreError;
pub use layout::{Failure, Manifest, OriginalKey, ThumbnailKey, Tombstone};
pub use store::{Object, ObjectMeta, PresignedPut, Store};
