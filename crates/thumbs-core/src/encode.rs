//! Thumbnail pixels → file bytes, in one of the three [`OutputFormat`]s, through one entry
//! point, [`encode`].
//!
//! - JPEG ([`encode_jpeg`]): baseline, below.
//! - WebP: lossy, through libwebp (`encode_webp.rs`), at the lowest quality whose SSIM against
//!   the pixels is at least the JPEG's under two windows ([`EncodeSettings::webp_match_jpeg`]).
//! - AVIF: through rav1e (`encode_avif.rs`), at the highest quantizer of a search whose
//!   reconstruction is closer (SSIM) to the pixels than the JPEG by a margin
//!   ([`EncodeSettings::avif_match_jpeg`]).
//!
//! Every format gets the same upright sRGB pixels and writes NO metadata (no EXIF, no ICC:
//! untagged means sRGB to a browser). Every encoder is deterministic, so the same pixels and
//! [`EncodeSettings`] give the same bytes, which makes thumbnails cacheable by content.
//!
//! JPEG: 4:2:0 chroma subsampling (what cameras and browsers expect, and a third smaller than
//! 4:4:4 for thumbnails that look the same), each chroma sample the mean of its 2×2 block as
//! libjpeg makes it (jpeg-encoder's default keeps the block's top-left sample, which aliases
//! colour edges: over 62 photos the 512 px thumbnails' RGB SSIM was 0.0019 lower and their
//! Cb/Cr error 6 % higher, for 2 % less time), the standard Huffman tables — jpeg-encoder 0.7's
//! optimised tables decode to wrong colours in zune-jpeg 0.5 (the `image` crate's JPEG
//! decoder), and a thumbnail must look right in every decoder, not just libjpeg.

use std::fmt;
use std::str::FromStr;

use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder, SamplingFactor};

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
    /// against the pixels is at least the SSIM of the JPEG at `jpeg_quality` under both
    /// windows of [`ssim::Ssim`] (the top of the range if none is). One fixed quality cannot
    /// do this: at libwebp q80 a detailed photo's WebP is far closer than the JPEG q80 and
    /// only 10 % smaller, a smooth one's is half the size and further away
    /// (docs/performance.md, "Formats").
    pub webp_match_jpeg: bool,
    /// libwebp method 0 (fastest) – 6 (smallest).
    pub webp_method: u8,
    /// libwebp spatial noise shaping 0–100 (the photo preset's is 80): how far bits move from
    /// busy to flat areas. Lower keeps detail where SSIM looks for it.
    pub webp_sns_strength: u8,
    /// libwebp's sharp (iterative) RGB→YUV conversion.
    pub webp_sharp_yuv: bool,
    /// How far above the JPEG's SSIM (under each window) the WebP search aims, in 1/10,000
    /// of SSIM.
    pub webp_ssim_margin: u16,
    /// Pick the AVIF quantizer per thumbnail, like `webp_match_jpeg`
    /// ([`encode_avif_matching_jpeg`]); off, every AVIF is encoded at `avif_quantizer`.
    pub avif_match_jpeg: bool,
    /// rav1e quantizer 0–255 (AV1's base_q_idx; higher is smaller and further from the
    /// pixels): the fixed one with `avif_match_jpeg` off, the search's first guess with it on.
    pub avif_quantizer: u8,
    /// rav1e speed preset 0 (slowest, smallest) – 10 (fastest).
    pub avif_speed: u8,
    /// 4:2:0 chroma (as the JPEG) instead of 4:4:4.
    pub avif_subsampled: bool,
    /// 10-bit AV1 instead of 8-bit.
    pub avif_ten_bit: bool,
    /// How far above the JPEG's SSIM the AVIF search aims: this many percent less SSIM error
    /// (1 − SSIM) than the JPEG's. Relative, not a fixed SSIM step, because the search measures
    /// against the pipeline's pixels and a client against a full decode, and how far those
    /// two differ scales with the error itself (docs/performance.md, "Formats").
    pub avif_error_cut: u8,
    /// And this much more SSIM on top, in 1/10,000: on soft photos the JPEG's error is small,
    /// so 15 % of it is too (docs/performance.md, "Formats").
    pub avif_ssim_margin: u16,
    /// The cut never asks for more than this much SSIM, in 1/10,000: on a textured photo whose
    /// JPEG is far from the pixels (SSIM ~0.95), 15 % of the error is ~0.007, several times what
    /// the full-decode comparison needs, and the bytes it costs put the AVIF above 0.8 of the
    /// JPEG (docs/performance.md, "Formats").
    pub avif_cut_cap: u16,
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
            webp_ssim_margin: 10,
            avif_match_jpeg: true,
            avif_quantizer: 112,
            avif_speed: 8,
            avif_subsampled: true,
            avif_ten_bit: true,
            avif_error_cut: 15,
            avif_ssim_margin: 5,
            avif_cut_cap: 35,
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
        OutputFormat::Avif if settings.avif_match_jpeg => {
            encode_avif_matching_jpeg(bitmap, settings)
        }
        OutputFormat::Avif => {
            Ok(avif::encode_avif(bitmap, settings.avif_quantizer, &avif_tuning(settings))?.file)
        }
    }
}

/// Binary search of [`WEBP_QUALITY_RANGE`] for the lowest quality whose WebP is at least as
/// close (SSIM under both windows, libwebp's own decode) to `bitmap` as the JPEG at
/// `settings.jpeg_quality` (decoded by the `image` crate), plus `settings.webp_ssim_margin`.
/// Six or seven WebP encodes, one JPEG encode.
fn encode_webp_matching_jpeg(bitmap: &Bitmap, settings: &EncodeSettings) -> Result<Vec<u8>, Error> {
    let (w, h) = (bitmap.width as usize, bitmap.height as usize);
    let jpeg = jpeg_ssim(bitmap, settings)?;
    // The search measures against the thumbnail's own pixels, a client against a full decode
    // of the original resized by its own resampler, which moves a comparison by up to ~0.001:
    // hence the margin, asked under both windows because a client may use either (see
    // docs/performance.md, "WebP search under two windows").
    let margin = f64::from(settings.webp_ssim_margin) / 10_000.0;
    let (low, high) = WEBP_QUALITY_RANGE;
    // Invariant: every quality below `lo` falls short; `best` meets the target.
    let (mut lo, mut hi) = (low, high + 1);
    let mut best = None;
    while lo < hi {
        let mid = (lo + hi) / 2;
        let webp = webp::encode_webp(bitmap, mid, &tuning(settings))?;
        let pixels = webp::decode_webp_rgb(&webp, bitmap.width, bitmap.height)
            .ok_or_else(|| Error::Encode("libwebp cannot decode its own output".into()))?;
        if ssim::Ssim::of(&bitmap.data, &pixels, w, h).at_least(&jpeg, margin) {
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

/// The JPEG at `settings.jpeg_quality` (decoded by the `image` crate) measured against the
/// pixels: its SSIM under both windows.
fn jpeg_ssim(bitmap: &Bitmap, settings: &EncodeSettings) -> Result<ssim::Ssim, Error> {
    let jpeg = encode_jpeg(bitmap, settings.jpeg_quality)?;
    let jpeg_rgb = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
        .map_err(|e| Error::Encode(format!("decoding our own JPEG: {e}")))?
        .into_rgb8();
    if jpeg_rgb.dimensions() != (bitmap.width, bitmap.height) {
        return Err(Error::Encode("our own JPEG decoded to another size".into()));
    }
    let (w, h) = (bitmap.width as usize, bitmap.height as usize);
    Ok(ssim::Ssim::of(&bitmap.data, jpeg_rgb.as_raw(), w, h))
}

/// At most this many AVIF encodes per thumbnail.
pub const AVIF_MAX_ENCODES: usize = 4;

/// How fast SSIM falls with the rav1e quantizer, as the slope of ln(1 − SSIM) per quantizer
/// step (measured: 0.012–0.017 around the JPEG q80 match, quantizers 60–140): the search's
/// second guess, before it has two encodes of its own to interpolate between.
const AVIF_LOG_ERROR_SLOPE: f64 = 0.015;

/// Stop once a passing encode is this close (quantizer steps, ~1 % of the bytes each) to
/// where the interpolation puts the target.
const AVIF_CLOSE_ENOUGH: f64 = 3.0;

/// What the AVIF search chose, with what it measured (for tests and measurements).
#[derive(Debug, Clone)]
pub struct AvifPick {
    pub file: Vec<u8>,
    pub quantizer: u8,
    /// SSIM of the chosen encode's reconstruction against the pixels.
    pub ssim: f64,
    /// SSIM it had to reach: the JPEG's plus the margin (`avif_error_cut`).
    pub target: f64,
    pub encodes: usize,
}

/// The AVIF quantizer search: the highest rav1e quantizer (smallest file) whose
/// reconstruction (what a decoder shows, taken from rav1e itself) is at least as close (SSIM)
/// to `bitmap` as the JPEG at `settings.jpeg_quality`, with `settings.avif_error_cut` percent less
/// SSIM error (at most `settings.avif_cut_cap`) plus `settings.avif_ssim_margin`, in at
/// most [`AVIF_MAX_ENCODES`] encodes. ln(1 − SSIM) is close to linear in the quantizer, so
/// the first encode is at `settings.avif_quantizer` (where the AVIF typically matches the
/// JPEG), the second a step along the measured typical slope, and each next one interpolates
/// (or extrapolates) between the two encodes nearest the target. If no encode meets the
/// target, the closest one is returned.
fn encode_avif_matching_jpeg(bitmap: &Bitmap, settings: &EncodeSettings) -> Result<Vec<u8>, Error> {
    Ok(avif_search(bitmap, settings)?.file)
}

/// [`encode_avif_matching_jpeg`]'s search, with what it measured. `bitmap` must be
/// [`Layout::Rgb8`].
pub fn avif_search(bitmap: &Bitmap, settings: &EncodeSettings) -> Result<AvifPick, Error> {
    if bitmap.layout != Layout::Rgb8 {
        return Err(Error::Encode(format!(
            "expected RGB pixels, got {:?}",
            bitmap.layout
        )));
    }
    if bitmap.width == 0 || bitmap.height == 0 {
        return Err(Error::Encode("an empty image has no AVIF".into()));
    }
    let (w, h) = (bitmap.width as usize, bitmap.height as usize);
    // AVIF's targets were measured on the Gaussian window (docs/performance.md, "AVIF search").
    let jpeg_ssim = jpeg_ssim(bitmap, settings)?.gaussian;
    let cut = f64::from(settings.avif_error_cut.min(90)) / 100.0;
    let above = ((1.0 - jpeg_ssim) * cut).min(f64::from(settings.avif_cut_cap) / 10_000.0);
    let target = (jpeg_ssim + above + f64::from(settings.avif_ssim_margin) / 10_000.0).min(0.9999);
    let log_error = |s: f64| (1.0 - s).max(1e-6).ln();
    let goal = log_error(target);
    let tuning = avif_tuning(settings);
    // Every encode: (quantizer, ln(1 - SSIM), SSIM, file).
    let mut tried: Vec<(u8, f64, f64, Vec<u8>)> = Vec::new();
    let mut q = settings.avif_quantizer;
    while tried.len() < AVIF_MAX_ENCODES {
        let encoded = avif::encode_avif(bitmap, q, &tuning)?;
        let s = ssim::ssim_rgb(&bitmap.data, &encoded.rec_rgb, w, h);
        tried.push((q, log_error(s), s, encoded.file));
        // the nearest encodes at or below the goal (passing) and above it (missing)
        let pass = tried.iter().filter(|t| t.2 >= target).max_by_key(|t| t.0);
        let miss = tried.iter().filter(|t| t.2 < target).min_by_key(|t| t.0);
        let estimate = match (pass, miss) {
            (Some(p), Some(m)) => {
                if m.0 <= p.0 + 1 {
                    break;
                }
                f64::from(p.0) + (goal - p.1) / (m.1 - p.1) * f64::from(m.0 - p.0)
            }
            (Some(one), None) | (None, Some(one)) => {
                // one side only: the secant through the two nearest encodes, or the typical
                // slope with one encode
                let slope = match tried
                    .iter()
                    .filter(|t| t.0 != one.0)
                    .min_by_key(|t| t.0.abs_diff(one.0))
                {
                    Some(other)
                        if (one.1 - other.1) * (f64::from(one.0) - f64::from(other.0)) > 0.0 =>
                    {
                        (one.1 - other.1) / (f64::from(one.0) - f64::from(other.0))
                    }
                    _ => AVIF_LOG_ERROR_SLOPE,
                };
                f64::from(one.0) + (goal - one.1) / slope
            }
            (None, None) => unreachable!("one encode was just made"),
        };
        if pass.is_some_and(|p| estimate - f64::from(p.0) < AVIF_CLOSE_ENOUGH) {
            break;
        }
        // aim a step below the estimate while nothing passes, so the next one likely does
        let aim = if pass.is_none() {
            estimate - 2.0
        } else {
            estimate.floor()
        };
        let (lo, hi) = (
            pass.map_or(0, |p| p.0.saturating_add(1)),
            miss.map_or(255, |m| m.0.saturating_sub(1)),
        );
        if lo > hi {
            break;
        }
        q = (aim.round().clamp(0.0, 255.0) as u8).clamp(lo, hi);
    }
    let encodes = tried.len();
    let best = match tried.iter().position(|t| t.2 >= target) {
        Some(_) => tried
            .into_iter()
            .filter(|t| t.2 >= target)
            .max_by_key(|t| t.0),
        None => tried.into_iter().max_by(|a, b| a.2.total_cmp(&b.2)),
    }
    .ok_or_else(|| Error::Encode("no AVIF encode".into()))?;
    Ok(AvifPick {
        quantizer: best.0,
        ssim: best.2,
        file: best.3,
        target,
        encodes,
    })
}

fn avif_tuning(settings: &EncodeSettings) -> avif::AvifTuning {
    avif::AvifTuning {
        speed: settings.avif_speed,
        subsampled: settings.avif_subsampled,
        ten_bit: settings.avif_ten_bit,
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
    encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    encoder
        .encode(&bitmap.data, width, height, ColorType::Rgb)
        .map_err(|e| Error::Encode(e.to_string()))?;
    Ok(out)
}
