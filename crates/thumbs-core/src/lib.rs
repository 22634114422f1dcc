//! thumbs-core: everything thumbs knows about images, as pure synchronous functions.
//!
//! Bytes in, thumbnails out — [`render`] runs the pipeline described in docs/architecture.md:
//!
//! - [`format`]: which format the bytes are, from magic numbers only ([`format::sniff`]).
//! - [`limits`]: byte, pixel and side limits, checked from the header before any pixel
//!   buffer exists (decompression bombs cost a header read).
//! - [`decode`]: the ONE place bytes become pixels ([`decode::decode`], [`probe`]), with
//!   shrink-on-load for JPEG and the truncated-file policy documented there.
//! - [`colour`]: CMYK/YCCK and ICC profiles to sRGB, alpha flattened onto white.
//! - [`resize`]: fit-inside-N×N geometry and Lanczos3 resampling.
//! - [`orient`]: EXIF orientation baked into the pixels.
//! - [`encode`]: JPEG, WebP or AVIF ([`encode::OutputFormat`]), no metadata at all.
//! - [`pipeline`]: the steps above in order, one decode for every size and format ([`render`]).
//! - [`config`]: [`Config`] from environment variables, read once at start-up.
//! - [`id`]: [`ImageId`], content-addressed or random.
//! - [`error`]: the crate's one [`Error`], classified by [`ErrorKind`] and a stable code (the
//!   HTTP statuses are thumbs-http's).
//!
//! This crate must never do I/O (no files, network, env reads outside
//! [`Config::from_env`], no logging) and never be async: it is called from Lambda handlers,
//! the local CLI and tests alike, and stays trivially testable and deterministic — the same
//! bytes and config always give the same thumbnails, byte for byte.

pub mod colour;
pub mod config;
pub mod decode;
pub mod encode;
pub mod error;
pub mod format;
pub mod id;
pub mod limits;
pub mod orient;
pub mod pipeline;
pub mod resize;

pub use config::{Config, ConfigError, Limits, ThumbnailSize};
pub use decode::{DecodedImage, ImageInfo, decode, probe};
pub use error::{Error, ErrorKind};
pub use format::{Format, sniff};
pub use id::ImageId;
pub use pipeline::{Rendered, Thumbnail, Thumbnails, Variant, make_thumbnails, render};
