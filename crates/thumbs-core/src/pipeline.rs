//! The whole job: one decode, every size. The pipeline of docs/architecture.md in code order:
//! sniff → limits → decode (shrink-on-load) → colour → resize → orient → encode.

use crate::colour;
use crate::config::{Config, ThumbnailSize};
use crate::decode::{ImageInfo, decode};
use crate::encode::encode_jpeg;
use crate::error::Error;
use crate::orient;
use crate::resize::{fit_within, resize};

/// One encoded thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub size: ThumbnailSize,
    /// Width and height of the JPEG (upright).
    pub width: u32,
    pub height: u32,
    pub jpeg: Vec<u8>,
}

/// All thumbnails of one original, plus what its header said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnails {
    pub source: ImageInfo,
    /// In the order of the `sizes` argument.
    pub images: Vec<Thumbnail>,
}

/// Decode `bytes` once and make a JPEG for each of `sizes` (fit inside N×N, never upscale),
/// with `config`'s quality and limits.
pub fn make_thumbnails(
    bytes: &[u8],
    sizes: &[ThumbnailSize],
    config: &Config,
) -> Result<Thumbnails, Error> {
    let largest = sizes.iter().map(|s| s.get()).max();
    let decoded = decode(bytes, largest, &config.limits)?;
    let pixels = colour::to_srgb(decoded.pixels, decoded.icc_profile.as_deref())?;
    let images = sizes
        .iter()
        .map(|&size| {
            // Geometry from the full-size header, so shrink-on-load never changes the output
            // size; resize in stored orientation (fit is symmetric), then turn the small image.
            let (w, h) = fit_within(decoded.stored_width, decoded.stored_height, size.get());
            let upright = orient::apply(resize(&pixels, w, h)?, decoded.orientation)?;
            Ok(Thumbnail {
                size,
                width: upright.width,
                height: upright.height,
                jpeg: encode_jpeg(&upright, config.jpeg_quality)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Thumbnails {
        source: decoded.info,
        images,
    })
}
