//! The whole job: one decode, every size, every format. The pipeline of docs/architecture.md in
//! code order: sniff → limits → decode (shrink-on-load) → colour → resize → orient → encode.
//!
//! [`render`] is the one render path: the resize function calls it for every configured size in
//! JPEG and WebP, serve's on-demand render for the one size × format a request is missing.
//! The limits are checked inside [`decode`] from the header, so the header is read once.

use crate::colour::{self, Bitmap};
use crate::config::{Config, ThumbnailSize};
use crate::decode::{ImageInfo, decode};
use crate::encode::{EncodeSettings, OutputFormat, encode};
use crate::error::Error;
use crate::orient;
use crate::resize::{fit_within, resize};

/// One encoded thumbnail in one format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub size: ThumbnailSize,
    pub format: OutputFormat,
    /// Width and height of the image (upright).
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

/// Every variant made from one original, plus what its header said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub source: ImageInfo,
    /// Size-major: for each of `sizes` in order, each of `formats` in order.
    pub variants: Vec<Variant>,
}

/// Decode `bytes` once (limits checked from the header first) and encode each of `sizes` (fit
/// inside N×N, never upscale) in each of `formats`, with `config`'s JPEG quality and the
/// measured settings of the other formats ([`EncodeSettings`]).
pub fn render(
    bytes: &[u8],
    sizes: &[ThumbnailSize],
    formats: &[OutputFormat],
    config: &Config,
) -> Result<Rendered, Error> {
    let settings = EncodeSettings {
        jpeg_quality: config.jpeg_quality,
        ..EncodeSettings::default()
    };
    // Decode for the largest configured size even when fewer sizes are asked for (an
    // on-demand AVIF render asks for one): shrink-on-load then gives every render of a size
    // the same pixels, so a format made on request is measured against (and compared with)
    // the same pixels as the JPEG the resize made ahead. Decoding for the requested size
    // alone, a 128 px AVIF of a textured photo came from a 1/8-scale decode and was 0.03
    // SSIM further from a full decode than the JPEG.
    let largest = sizes.iter().chain(&config.sizes).map(|s| s.get()).max();
    let decoded = decode(bytes, largest, &config.limits)?;
    let pixels = colour::to_srgb(decoded.pixels, decoded.icc_profile.as_deref())?;
    // Geometry from the full-size header, so shrink-on-load never changes the output size;
    // resize in stored orientation (fit is symmetric), then turn the small image. Largest size
    // first: each size is resampled from the smallest image made so far when that is still at
    // least twice its size (Pillow's `thumbnail` reducing gap of 2), i.e. 256 px from the 512 px
    // image rather than from the whole decode, which cost as much as the 512 px resize again.
    // Every configured size takes part in the chain, so a size rendered alone on request has
    // exactly the pixels it has when the resize function renders them all.
    let mut chain: Vec<u32> = sizes.iter().chain(&config.sizes).map(|s| s.get()).collect();
    chain.sort_unstable_by(|a, b| b.cmp(a));
    chain.dedup();
    let mut made: Vec<(u32, Bitmap)> = Vec::with_capacity(chain.len());
    for n in chain {
        let (w, h) = fit_within(decoded.stored_width, decoded.stored_height, n);
        let source = match made.last() {
            Some((_, b)) if b.width >= 2 * w && b.height >= 2 * h => b,
            _ => &pixels,
        };
        let small = resize(source, w, h)?;
        made.push((n, small));
    }
    let mut variants = Vec::with_capacity(sizes.len() * formats.len());
    for &size in sizes {
        let Some((_, small)) = made.iter().find(|(n, _)| *n == size.get()) else {
            continue;
        };
        let upright = orient::apply(small.clone(), decoded.orientation)?;
        for &format in formats {
            variants.push(Variant {
                size,
                format,
                width: upright.width,
                height: upright.height,
                bytes: encode(&upright, format, &settings)?,
            });
        }
    }
    Ok(Rendered {
        source: decoded.info,
        variants,
    })
}

/// One encoded JPEG thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub size: ThumbnailSize,
    /// Width and height of the JPEG (upright).
    pub width: u32,
    pub height: u32,
    pub jpeg: Vec<u8>,
}

/// All JPEG thumbnails of one original, plus what its header said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnails {
    pub source: ImageInfo,
    /// In the order of the `sizes` argument.
    pub images: Vec<Thumbnail>,
}

/// [`render`] in JPEG only (the CLI's `thumbnail` command and the tests of the JPEG path).
pub fn make_thumbnails(
    bytes: &[u8],
    sizes: &[ThumbnailSize],
    config: &Config,
) -> Result<Thumbnails, Error> {
    let rendered = render(bytes, sizes, &[OutputFormat::Jpeg], config)?;
    Ok(Thumbnails {
        source: rendered.source,
        images: rendered
            .variants
            .into_iter()
            .map(|v| Thumbnail {
                size: v.size,
                width: v.width,
                height: v.height,
                jpeg: v.bytes,
            })
            .collect(),
    })
}
