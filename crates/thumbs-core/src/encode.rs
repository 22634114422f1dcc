//! RGB pixels → baseline JPEG bytes.
//!
//! 4:2:0 chroma subsampling (what cameras and browsers expect, and a third smaller than 4:4:4
//! for thumbnails that look the same), the standard Huffman tables — jpeg-encoder 0.7's
//! optimised tables decode to wrong colours in zune-jpeg 0.5 (the `image` crate's JPEG
//! decoder), and a thumbnail must look right in every decoder, not just libjpeg — and
//! NO metadata: no EXIF (GPS!), no ICC — the pixels are already sRGB, which is what a browser
//! assumes for an untagged JPEG. jpeg-encoder is deterministic, so the same pixels and quality
//! give the same bytes, which makes thumbnails cacheable by content.

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use crate::colour::{Bitmap, Layout};
use crate::error::Error;

/// Encode an sRGB [`Layout::Rgb8`] bitmap at `quality` (1–100).
pub fn encode_jpeg(bitmap: &Bitmap, quality: u8) -> Result<Vec<u8>, Error> {
    debug_assert_eq!(bitmap.layout, Layout::Rgb8);
    let too_big = || {
        Error::Encode(format!(
            "{}x{} is too large for JPEG",
            bitmap.width, bitmap.height
        ))
    };
    let width = u16::try_from(bitmap.width).map_err(|_| too_big())?;
    let height = u16::try_from(bitmap.height).map_err(|_| too_big())?;
    let mut out = Vec::with_capacity(bitmap.data.len() / 8);
    let mut encoder = Encoder::new(&mut out, quality.clamp(1, 100));
    encoder.set_sampling_factor(SamplingFactor::R_4_2_0);
    encoder
        .encode(&bitmap.data, width, height, ColorType::Rgb)
        .map_err(|e| Error::Encode(e.to_string()))?;
    Ok(out)
}
