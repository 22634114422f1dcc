//! A pure-Rust JPEG decoder that decodes only what a thumbnail needs.
//!
//! A 256 px thumbnail of a 24 MP photo uses one sample in every 8×8 block. This crate decodes
//! straight to 1/2, 1/4 or 1/8 of the size (JPEG DCT scaling: the inverse DCT of only the
//! top-left N×N coefficients of each block), and for progressive JPEGs does not even
//! entropy-decode the AC scans whose coefficients the chosen scale would throw away: at 1/8 the
//! AC scans are skipped by searching for the next marker.
//!
//! Quality: at 1/2, 1/4 and 1/8 each output sample is exactly the box average of the full-size
//! IDCT (jidctred.c style), and subsampled chroma is decoded straight at the luma resolution
//! (a 4:2:0 chroma block gives 2×2 samples at 1/8), so no upsampling is needed — except for a
//! progressive file at 1/8, where only the chroma DC is decoded and a triangle filter upsamples
//! it (softer colour edges; mean error against a full decode ~4 instead of <1 on a saturated
//! photo, before the thumbnail resize shrinks it further). [`decode_for_thumbnail`] trades
//! chroma resolution for speed on purpose: it decodes YCbCr chroma at half the output
//! resolution where that saves work, still above what a 4:2:0 thumbnail keeps, and sharpens
//! it before upsampling to win back most of the colour contrast that costs.
//!
//! Entry points: [`read_header`] (dimensions, colour model, sampling, EXIF and ICC bytes — cheap,
//! nothing proportional to the pixel count) and [`decode_scaled`] with a [`Scale`] (see
//! [`Scale::for_target`]) and [`Limits`]; [`decode_scaled_band`] and [`decode_for_thumbnail`]
//! for a decode that is resampled further. Arithmetic-coded, lossless, hierarchical and 12-bit
//! JPEGs give [`Error::Unsupported`]: fall back to a general decoder for those.
//!
//! Modules (each cites the ITU T.81 sections it implements):
//! - `markers.rs` — marker segments, frame/scan headers, tables, APPn (JFIF, EXIF, ICC, Adobe);
//! - `huffman.rs` — Huffman tables with lookahead, "fast AC/DC" and multi-symbol skip tables,
//!   the 64-bit bit reader;
//! - `decoder.rs` — the decode driver: limits, the walk over scans, the final transform of a
//!   progressive decode, output assembly;
//! - `geometry.rs` — sampling factors, block grids, output block shapes and the memory
//!   budget, checked before anything is allocated;
//! - `component.rs` — a frame component's buffers and the block decoder interface;
//! - `scan.rs` — the choice of block decoder for a scan and the MCU loop with restart
//!   intervals;
//! - `sequential.rs` — baseline blocks: the kept coefficients straight into the transform,
//!   the rest stepped over (and an inlined decoder for scans of 1×1 blocks);
//! - `progressive.rs` — progressive scans into a coefficient store of only the kept
//!   coefficients, and the plan of which scans to skip;
//! - `idct.rs` — the scaled inverse DCTs (1×1, 2×2, 4×4, 8×8);
//! - `upsample.rs` — chroma upsampling at the reduced resolution (triangle filter), and the
//!   sharpening of chroma decoded at half resolution;
//! - `colour.rs` — YCbCr/YCCK/CMYK conversion in fixed point;
//! - `error.rs` — the error type.
//!
//! What it must never do: allocate from sizes read from untrusted input before checking them
//! against the caller's [`Limits`] (the pixel count first, then every buffer it is about to
//! allocate); panic on any input (truncated, corrupt or hostile data gives an `Error`, or a
//! best-effort image flagged `truncated`); use `unsafe` or C.

mod colour;
mod component;
mod decoder;
mod error;
mod geometry;
mod huffman;
mod idct;
mod markers;
mod progressive;
mod scan;
mod sequential;
#[cfg(test)]
mod test_rng;
mod upsample;

pub use error::Error;
pub use markers::{ColourTransform, Header, read_header};

/// The DCT scaling factor: output side = ceil(input side / denominator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    Full,
    Half,
    Quarter,
    Eighth,
}

impl Scale {
    /// 1, 2, 4 or 8.
    pub fn denominator(self) -> u32 {
        match self {
            Scale::Full => 1,
            Scale::Half => 2,
            Scale::Quarter => 4,
            Scale::Eighth => 8,
        }
    }

    /// The output size at this scale: each side `ceil(side / denominator)`.
    pub fn output_size(self, width: u32, height: u32) -> (u32, u32) {
        let d = self.denominator();
        (width.div_ceil(d), height.div_ceil(d))
    }

    /// The smallest scale whose output's longest side is still at least `max_side`, so the resize
    /// that follows only ever shrinks. `Full` if even the full size is smaller.
    pub fn for_target(width: u32, height: u32, max_side: u32) -> Scale {
        for s in [Scale::Eighth, Scale::Quarter, Scale::Half] {
            let (w, h) = s.output_size(width, height);
            if w.max(h) >= max_side {
                return s;
            }
        }
        Scale::Full
    }

    /// The widest coefficient band (highest zigzag index, for [`decode_scaled_band`]) this
    /// scale's grid can show: the diagonals `u + v ≤ n` for `n` output samples per block side
    /// (its Nyquist limit; 63 at full scale). The reduced transforms sample the block at the
    /// centres of their output samples, so a frequency past that limit aliases instead of
    /// vanishing: measured on 3088–3264 px photos decoded at 1/4 for 512 px thumbnails, reading
    /// `u + v ≤ 3` gave a 512 px SSIM 0.003–0.006 below reading `u + v ≤ 2` (see
    /// docs/performance.md).
    pub fn max_band(self) -> u8 {
        match self {
            Scale::Eighth => 2,
            Scale::Quarter => 5,
            Scale::Half => 14,
            Scale::Full => 63,
        }
    }

    /// The scale to decode at for thumbnails whose longest side is at most `max_side`: the
    /// smallest whose longest side is at least 1.4 × `max_side` (1.5 × at 1/8; `Full` if none
    /// is), then brought to the scale of libjpeg's draft mode (Pillow's `draft`), which goes by
    /// the short side: the smallest of 1/8, 1/4, 1/2 whose short side still covers `max_side`.
    ///
    /// The margin: a decode that only just covers the target leaves the resampler a 1.0-1.3×
    /// reduction of an image that the scaled IDCT has already box-filtered, visibly softer than
    /// a Lanczos reduction of the full image. 1/8 keeps the DC alone, a plain 8×8 box, and needs
    /// 1.5× (a 6028 px photo at 1/8, 1.47×, scored 0.0015 below its 1/4 decode).
    ///
    /// The draft scale, both ways:
    /// - never finer when the draft scale is 1/8 or 1/4: near-square photos leave the long side
    ///   less margin than the rule above asks, yet a 4096² photo would go to 1/4 for twice its
    ///   time, a 2816 × 2112 one to 1/2 for 1.3-3×. At 1/8 both decoders give exactly the 8×8
    ///   block means, so such a thumbnail scores what the draft's does; at 1/4, with a
    ///   1.2-1.4× margin, four such test photos still scored 0.001 above the draft's.
    /// - never coarser: a wide photo (3:2 at 2868-3071 px, 16:9 at 2868-3640 px) meets the
    ///   margin at 1/4 with a long side of 1.4-1.8× the target while its short side sends the
    ///   draft to 1/2. Ten such photos (3008 × 2000 and 3264 × 1836, 6 baseline and
    ///   progressive) scored 0.0004 (luma) and 0.0006 (RGB) below the draft's 512 px SSIM at
    ///   1/4, and tied it at 1/2.
    ///
    /// A draft that would decode in full (short side under 2 × `max_side`) does not apply:
    /// the margin alone decides, which keeps a full decode (a 1365 × 1074 photo, above
    /// the draft's SSIM) and spares panoramas one. See docs/performance.md.
    pub fn for_thumbnail(width: u32, height: u32, max_side: u32) -> Scale {
        // The margin over the target, in tenths.
        let margin = [(Scale::Eighth, 15), (Scale::Quarter, 14), (Scale::Half, 14)]
            .into_iter()
            .find(|&(s, tenths)| {
                let (w, h) = s.output_size(width, height);
                u64::from(w.max(h)) * 10 >= u64::from(max_side) * tenths
            })
            .map_or(Scale::Full, |(s, _)| s);
        let short = u64::from(width.min(height));
        let draft = [Scale::Eighth, Scale::Quarter, Scale::Half]
            .into_iter()
            .find(|s| short >= u64::from(s.denominator()) * u64::from(max_side))
            .unwrap_or(Scale::Full);
        match draft {
            Scale::Full => margin,
            // Finer than the draft only where the margin asks for a full decode.
            Scale::Half if margin == Scale::Full => margin,
            _ => draft,
        }
    }
}

/// The coefficient band (highest zigzag index, for [`decode_scaled_band`]) a thumbnail of
/// longest side `max_side` needs from a `width × height` image: the DCT frequencies up to the
/// thumbnail's own Nyquist limit, i.e. the diagonals `u + v ≤ m` with `m ≈ 16 · max_side /
/// longest side` (at least 2; from 8 on, everything). Frequencies above that are removed by the
/// resampler anyway; not reading them costs nothing in quality (measured SSIM within 0.0002 of
/// the full band at 512 px) and lets a progressive decode skip most of its scans.
pub fn band_for_target(width: u32, height: u32, max_side: u32) -> u8 {
    let longest = u64::from(width.max(height)).max(1);
    let m = ((16 * u64::from(max_side) + longest / 2) / longest).max(2);
    if m >= 8 {
        63
    } else {
        // Diagonals 0..=m hold (m + 1)(m + 2) / 2 coefficients.
        ((m + 1) * (m + 2) / 2 - 1) as u8
    }
}

/// Caller-provided ceilings, checked before anything proportional to the image is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest `width × height` of the source image.
    pub max_pixels: u64,
    /// Largest total of the buffers a decode allocates (coefficients, planes, output).
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: 100_000_000,
            max_bytes: 1 << 30,
        }
    }
}

/// Output sample layout, interleaved, 8 bits per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    Gray8,
    Rgb8,
    /// C, M, Y, K with 0 = no ink (Adobe's inverted storage is undone; YCCK is converted).
    Cmyk8,
}

impl PixelFormat {
    pub fn channels(self) -> usize {
        match self {
            PixelFormat::Gray8 => 1,
            PixelFormat::Rgb8 => 3,
            PixelFormat::Cmyk8 => 4,
        }
    }
}

/// A decoded, downscaled image.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    pub format: PixelFormat,
    /// `width × height × channels` bytes, rows top to bottom.
    pub pixels: Vec<u8>,
    /// The data ended early: what was there is decoded, the rest is mid-grey (or, for a
    /// progressive file, at the precision of the scans that arrived).
    pub truncated: bool,
    pub scale: Scale,
}

/// Decodes `bytes` at `scale` (output `ceil(width / d) × ceil(height / d)`).
///
/// Errors: [`Error::TooLarge`] past `limits` (before allocating), [`Error::Unsupported`] for JPEG
/// processes this crate does not implement, [`Error::Format`] for malformed data,
/// [`Error::Truncated`] when not even the first row of blocks is there.
pub fn decode_scaled(bytes: &[u8], scale: Scale, limits: &Limits) -> Result<Decoded, Error> {
    decoder::decode(bytes, scale, 63, false, limits)
}

/// Like [`decode_scaled`], but reads only the DCT coefficients with zigzag index at most `band`
/// (0 = the DC alone, 63 = all): a low-pass at the source, for a decode that is resampled
/// further anyway. Coefficients past the band are still entropy-decoded in a sequential file (to
/// find the next block) but never formed; in a progressive file the scans whose band lies past
/// it are skipped unread, and so, below 1/2 scale, are the refinement scans that reach past it
/// (the kept coefficients then lack their last bits and are taken at the middle of their
/// interval). See [`band_for_target`] and [`Scale::max_band`].
pub fn decode_scaled_band(
    bytes: &[u8],
    scale: Scale,
    band: u8,
    limits: &Limits,
) -> Result<Decoded, Error> {
    decoder::decode(bytes, scale, band, false, limits)
}

/// Like [`decode_scaled_band`], for an image that is resampled further and stored with 4:2:0
/// chroma (every thumbnail format this crate's users make). At 1/2, 1/4 and 1/8 the chroma of a
/// YCbCr file is decoded at half the output resolution in each direction where that saves
/// work, sharpened, and upsampled to it (triangle filter, row by row): above all where a
/// chroma block shrinks to one sample, so that its AC coefficients go unread (in a progressive
/// file its AC scans are skipped unread); the full rule per block shape is in geometry.rs. At
/// those scales [`Scale::for_thumbnail`] leaves the output at least 1.4× the thumbnail, so the
/// chroma stays above the half resolution the thumbnail keeps. A full-scale decode, and grey,
/// RGB, CMYK and YCCK files, decode as [`decode_scaled_band`] does.
pub fn decode_for_thumbnail(
    bytes: &[u8],
    scale: Scale,
    band: u8,
    limits: &Limits,
) -> Result<Decoded, Error> {
    decoder::decode(bytes, scale, band, true, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn for_target_picks_the_smallest_scale_that_still_covers() {
        assert_eq!(Scale::for_target(4000, 3000, 256), Scale::Eighth);
        assert_eq!(Scale::for_target(1600, 1200, 256), Scale::Quarter);
        assert_eq!(Scale::for_target(2047, 100, 256), Scale::Eighth);
        assert_eq!(Scale::for_target(2040, 100, 256), Scale::Quarter);
        assert_eq!(Scale::for_target(600, 400, 256), Scale::Half);
        assert_eq!(Scale::for_target(300, 200, 256), Scale::Full);
        assert_eq!(Scale::Eighth.output_size(4001, 9), (501, 2));
    }

    #[test]
    fn thumbnail_scale_keeps_a_margin_and_the_draft_scale() {
        // 3840 / 8 = 480 < 717; 3840 / 4 = 960.
        assert_eq!(Scale::for_thumbnail(3840, 2160, 512), Scale::Quarter);
        // 5472 / 8 = 684 covers 512 but only by 1.34×.
        assert_eq!(Scale::for_thumbnail(5472, 3648, 512), Scale::Quarter);
        assert_eq!(Scale::for_thumbnail(6400, 4800, 512), Scale::Eighth);
        // 1/8 needs 1.5 × 512 = 768: 6028 / 8 = 754 is not enough.
        assert_eq!(Scale::for_thumbnail(6028, 3391, 512), Scale::Quarter);
        assert_eq!(Scale::for_thumbnail(2048, 1536, 512), Scale::Half);
        // 2880 / 4 = 720 >= 1.4 × 512 = 716.8 and 2160 / 4 covers 512: 1/4, the draft's.
        assert_eq!(Scale::for_thumbnail(2880, 2160, 512), Scale::Quarter);
        // 2860 / 4 = 715 is not (and 2000 / 4 < 512).
        assert_eq!(Scale::for_thumbnail(2860, 2000, 512), Scale::Half);
        assert_eq!(Scale::for_thumbnail(700, 500, 512), Scale::Full);
        // Both sides cover the target at 1/8 (libjpeg's draft scale): 1/8, whatever the margin.
        assert_eq!(Scale::for_thumbnail(4096, 4096, 512), Scale::Eighth);
        assert_eq!(Scale::for_thumbnail(5000, 4096, 512), Scale::Eighth);
        assert_eq!(Scale::for_thumbnail(4095, 4096, 512), Scale::Quarter);
        assert_eq!(Scale::for_thumbnail(2048, 2048, 256), Scale::Eighth);
        // Both sides cover it at 1/4: at least 1/4 (2816 / 4 = 704 < 716.8).
        assert_eq!(Scale::for_thumbnail(2816, 2112, 512), Scale::Quarter);
        assert_eq!(Scale::for_thumbnail(2448, 2448, 512), Scale::Quarter);
        assert_eq!(Scale::for_thumbnail(2816, 2047, 512), Scale::Half);
        // Never coarser than the draft either: wide photos whose long side meets the margin
        // at a scale where the short side no longer covers the target.
        assert_eq!(Scale::for_thumbnail(3008, 2000, 512), Scale::Half);
        assert_eq!(Scale::for_thumbnail(2000, 3008, 512), Scale::Half);
        assert_eq!(Scale::for_thumbnail(3264, 1836, 512), Scale::Half);
        assert_eq!(Scale::for_thumbnail(3072, 2048, 512), Scale::Quarter);
        assert_eq!(Scale::for_thumbnail(6400, 2400, 512), Scale::Quarter);
        assert_eq!(Scale::for_thumbnail(3264, 1836, 256), Scale::Quarter);
        // A draft that decodes in full does not apply (panoramas), and one at 1/2 does not
        // stop the full decode the margin asks for.
        assert_eq!(Scale::for_thumbnail(4000, 900, 512), Scale::Quarter);
        assert_eq!(Scale::for_thumbnail(1365, 1074, 512), Scale::Full);
    }

    #[test]
    fn the_band_of_a_scale_is_its_grid_nyquist_limit() {
        // n samples per block side show the diagonals u + v <= n: (n + 1)(n + 2) / 2 terms.
        for (scale, n) in [(Scale::Eighth, 1u8), (Scale::Quarter, 2), (Scale::Half, 4)] {
            assert_eq!(scale.max_band(), (n + 1) * (n + 2) / 2 - 1, "{scale:?}");
        }
        assert_eq!(Scale::Full.max_band(), 63);
        // A 3264 px photo for 512 px: decoded at 1/4, whose grid stops at u + v <= 2.
        assert_eq!(Scale::for_thumbnail(3264, 2448, 512), Scale::Quarter);
        assert_eq!(band_for_target(3264, 2448, 512), 9);
        assert_eq!(
            band_for_target(3264, 2448, 512).min(Scale::Quarter.max_band()),
            5
        );
    }

    #[test]
    fn band_follows_the_thumbnail_nyquist_limit() {
        assert_eq!(band_for_target(3840, 2160, 512), 5);
        assert_eq!(band_for_target(5472, 3648, 512), 5);
        assert_eq!(band_for_target(2560, 1440, 512), 9);
        assert_eq!(band_for_target(2048, 1536, 512), 14);
        assert_eq!(band_for_target(1024, 768, 512), 63);
        assert_eq!(band_for_target(0, 0, 512), 63);
    }
}
