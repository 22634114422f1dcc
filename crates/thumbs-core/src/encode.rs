//! Thumbnail pixels → file bytes, in one of the three [`OutputFormat`]s, through one entry
//! point, [`encode`].
//!
//! - JPEG ([`encode_jpeg`]): baseline, below.
//! - WebP: lossy, through libwebp (`encode_webp.rs`), at the lowest quality of a ladder whose
//!   SSIM against the pixels is at least the JPEG's ([`EncodeSettings::webp_match_jpeg`]).
//! - AVIF: through ravif/rav1e (`encode_avif.rs`).
//!
//! Every format gets the same upright sRGB pixels and writes NO metadata (no EXIF, no ICC:
//! untagged means sRGB to a browser). Every encoder is deterministic, so the same pixels and
//! [`EncodeSettings`] give the same bytes, which makes thumbnails cacheable by content.
//!
//! JPEG: 4:2:0 chroma subsampling (what cameras and browsers expect, and a third smaller than
//! 4:4:4 for thumbnails that look the same), the standard Huffman tables — jpeg-encoder 0.7's
//! optimised tables decode to wrong colours in zune-jpeg 0.5 (the `image` crate's JPEG
//! decoder), and a thumbnail must look right in every decoder, not just libjpeg.

use std::fmt;
use std::str::FromStr;

use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use crate::colour::{Bitmap, Layout};
use crate::error::Error;

#[path = "encode_avif.rs"]
mod avif;
#[path = "encode_ssim.rs"]
pub mod ssim;
#[path = "encode_webp.rs"]
mod webp;

/// The formats a thumbnail can be encoded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutputFormat {
    Jpeg,
    WebP,
    Avif,
}

impl OutputFormat {
    /// Every format, JPEG (the one every client decodes) first.
    pub const ALL: [OutputFormat; 3] = [OutputFormat::Jpeg, OutputFormat::WebP, OutputFormat::Avif];

    /// Lowercase name, as in the API's JSON and the normalised format header: "jpeg",
    /// "webp", "avif".
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpeg",
            OutputFormat::WebP => "webp",
            OutputFormat::Avif => "avif",
        }
    }

    /// File extension in URLs and object keys: "jpg", "webp", "avif".
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::WebP => "webp",
            OutputFormat::Avif => "avif",
        }
    }

    /// The Content-Type a thumbnail in this format is served with.
    pub fn mime(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "image/jpeg",
            OutputFormat::WebP => "image/webp",
            OutputFormat::Avif => "image/avif",
        }
    }

    /// The format of a file extension (exactly "jpg", "webp" or "avif").
    pub fn from_extension(extension: &str) -> Option<OutputFormat> {
        OutputFormat::ALL
            .into_iter()
            .find(|f| f.extension() == extension)
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for OutputFormat {
    type Err = String;

    /// Exactly "jpeg", "webp" or "avif".
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OutputFormat::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("{s:?} is not one of jpeg, webp, avif"))
    }
}

/// Per-format encoder settings. The defaults are the measured ones (docs/performance.md,
/// "Formats"): each format at least as close to a full-decode reference (SSIM) as JPEG q80,
/// WebP and AVIF in fewer bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeSettings {
    /// JPEG quality 1–100.
    pub jpeg_quality: u8,
    /// libwebp quality 0–100: the quality used when `webp_match_jpeg` is off.
    pub webp_quality: u8,
    /// Pick the WebP quality per thumbnail: the lowest of [`WEBP_QUALITY_RANGE`] whose SSIM
    /// against the pixels is at least the SSIM of the JPEG at `jpeg_quality` (the highest of
    /// the ladder if none is). One fixed quality cannot do this: at libwebp q80 a detailed
    /// photo's WebP is far closer than the JPEG q80 and only 10 % smaller, a smooth one's is
    /// half the size and further away (docs/performance.md, "Formats").
    pub webp_match_jpeg: bool,
    /// libwebp method 0 (fastest) – 6 (smallest).
    pub webp_method: u8,
    /// libwebp spatial noise shaping 0–100 (the photo preset's is 80): how far bits move from
    /// busy to flat areas. Lower keeps detail where SSIM looks for it.
    pub webp_sns_strength: u8,
    /// libwebp's sharp (iterative) RGB→YUV conversion.
    pub webp_sharp_yuv: bool,
    /// How far above the JPEG's SSIM the WebP search aims, in 1/10,000 of SSIM.
    pub webp_ssim_margin: u16,
    /// ravif quality 1–100.
    pub avif_quality: u8,
    /// rav1e speed 1 (slowest, smallest) – 10 (fastest).
    pub avif_speed: u8,
}

impl Default for EncodeSettings {
    fn default() -> Self {
        EncodeSettings {
            jpeg_quality: 80,
            webp_quality: 80,
            webp_match_jpeg: true,
            webp_method: 4,
            webp_sns_strength: 80,
            webp_sharp_yuv: false,
            webp_ssim_margin: 15,
            avif_quality: 83,
            avif_speed: 8,
        }
    }
}

/// The libwebp qualities the per-thumbnail search picks from (every whole number in the range:
/// a coarser ladder overshoots the target by up to a step, ~8 % of the bytes at q80).
pub const WEBP_QUALITY_RANGE: (u8, u8) = (40, 100);

/// Encode an upright sRGB [`Layout::Rgb8`] bitmap in `format`.
pub fn encode(
    bitmap: &Bitmap,
    format: OutputFormat,
    settings: &EncodeSettings,
) -> Result<Vec<u8>, Error> {
    if bitmap.layout != Layout::Rgb8 {
        return Err(Error::Encode(format!(
            "expected RGB pixels, got {:?}",
            bitmap.layout
        )));
    }
    match format {
        OutputFormat::Jpeg => encode_jpeg(bitmap, settings.jpeg_quality),
        OutputFormat::WebP if settings.webp_match_jpeg => {
            encode_webp_matching_jpeg(bitmap, settings)
        }
        OutputFormat::WebP => webp::encode_webp(bitmap, settings.webp_quality, &tuning(settings)),
        OutputFormat::Avif => avif::encode_avif(bitmap, settings.avif_quality, settings.avif_speed),
    }
}

/// Binary search of [`WEBP_QUALITY_RANGE`] for the lowest quality whose WebP is at least as
/// close (SSIM, libwebp's own decode) to `bitmap` as the JPEG at `settings.jpeg_quality`
/// (decoded by the `image` crate), plus `settings.webp_ssim_margin`. Six or seven WebP
/// encodes, one JPEG encode.
fn encode_webp_matching_jpeg(bitmap: &Bitmap, settings: &EncodeSettings) -> Result<Vec<u8>, Error> {
    let (w, h) = (bitmap.width as usize, bitmap.height as usize);
    let jpeg = encode_jpeg(bitmap, settings.jpeg_quality)?;
    let jpeg_rgb = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
        .map_err(|e| Error::Encode(format!("decoding our own JPEG: {e}")))?
        .into_rgb8();
    if jpeg_rgb.dimensions() != (bitmap.width, bitmap.height) {
        return Err(Error::Encode("our own JPEG decoded to another size".into()));
    }
    // The margin: the search measures against the thumbnail's own pixels, a client against a
    // full decode of the original; the two differ by shrink-on-load, so aim a little above.
    let target = ssim::ssim_rgb(&bitmap.data, jpeg_rgb.as_raw(), w, h)
        + f64::from(settings.webp_ssim_margin) / 10_000.0;
    let (low, high) = WEBP_QUALITY_RANGE;
    // Invariant: every quality below `lo` falls short; `best` meets the target.
    let (mut lo, mut hi) = (low, high + 1);
    let mut best = None;
    while lo < hi {
        let mid = (lo + hi) / 2;
        let webp = webp::encode_webp(bitmap, mid, &tuning(settings))?;
        let pixels = webp::decode_webp_rgb(&webp, bitmap.width, bitmap.height)
            .ok_or_else(|| Error::Encode("libwebp cannot decode its own output".into()))?;
        if ssim::ssim_rgb(&bitmap.data, &pixels, w, h) >= target {
            best = Some(webp);
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    match best {
        Some(webp) => Ok(webp),
        // Not even the top of the ladder is as close as the JPEG: the closest WebP there is.
        None => webp::encode_webp(bitmap, high, &tuning(settings)),
    }
}

fn tuning(settings: &EncodeSettings) -> webp::WebpTuning {
    webp::WebpTuning {
        method: settings.webp_method,
        sns_strength: settings.webp_sns_strength,
        sharp_yuv: settings.webp_sharp_yuv,
    }
}

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
