//! RGB pixels → AVIF through `ravif` (the rav1e AV1 encoder, pure Rust).
//!
//! Built without rav1e's assembly (no nasm in the build, and the arm64 cross-build stays a
//! plain `cargo lambda build`) and without its thread pool: a Lambda function at 1024 MB has
//! well under one vCPU, so threads would only add scheduling. ravif always encodes 4:4:4
//! (no chroma subsampling) at 10 bits; no metadata (EXIF) is written. rav1e is deterministic:
//! the same pixels and settings give the same bytes.
//! Quality and speed were chosen by measurement (docs/performance.md "Formats").

use ravif::{Img, RGB8};

use crate::colour::{Bitmap, Layout};
use crate::error::Error;

/// Largest side accepted (AV1 allows 65536; this keeps one encode's memory bounded the same
/// way the JPEG encoder's 65535 limit does — thumbnails never come close).
const MAX_SIDE: u32 = 16_384;

/// Encode an sRGB [`Layout::Rgb8`] bitmap as AVIF at `quality` (1–100, ravif's scale) and
/// rav1e `speed` (1 slowest – 10 fastest).
pub(crate) fn encode_avif(bitmap: &Bitmap, quality: u8, speed: u8) -> Result<Vec<u8>, Error> {
    debug_assert_eq!(bitmap.layout, Layout::Rgb8);
    if bitmap.width == 0 || bitmap.height == 0 {
        return Err(Error::Encode("an empty image has no AVIF".into()));
    }
    if bitmap.width > MAX_SIDE || bitmap.height > MAX_SIDE {
        return Err(Error::Encode(format!(
            "{}x{} is too large for AVIF (at most {MAX_SIDE} per side)",
            bitmap.width, bitmap.height
        )));
    }
    let (width, height) = (bitmap.width as usize, bitmap.height as usize);
    let pixels: Vec<RGB8> = bitmap
        .data
        .chunks_exact(3)
        .map(|p| RGB8::new(p[0], p[1], p[2]))
        .collect();
    if pixels.len() != width * height {
        return Err(Error::Encode(format!(
            "{} pixels for a {width}x{height} bitmap",
            pixels.len()
        )));
    }
    let encoded = ravif::Encoder::new()
        .with_quality(f32::from(quality.clamp(1, 100)))
        .with_speed(speed.clamp(1, 10))
        .with_num_threads(Some(1))
        .encode_rgb(Img::new(pixels.as_slice(), width, height))
        .map_err(|e| Error::Encode(format!("rav1e: {e}")))?;
    Ok(encoded.avif_file)
}
