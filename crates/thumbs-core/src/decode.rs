//! Bytes → pixels, behind one function: [`decode`]. Also [`probe`], its header-only half.
//!
//! Order of work, so that a decompression bomb costs a header read and nothing more:
//! 1. sniff the format from magic bytes and check the input size;
//! 2. read the header only and check its width × height against [`Limits`];
//! 3. only then ask the decoder for pixels.
//!
//! `target_max_side` lets a decoder produce fewer pixels when the caller only needs a small
//! image: JPEG goes through thumbs-jpeg, which decodes straight to 1/2, 1/4 or 1/8 (DCT
//! scaling) at the smallest scale that leaves the resampler at least a 1.4× reduction (1.5× at
//! 1/8), then at the scale of libjpeg's draft mode where that is 1/2 or smaller (it goes by the
//! short side, so it is coarser for near-square photos and finer for wide ones), and reads only the DCT coefficients below the target's Nyquist limit: a progressive
//! file skips the scans of the others unread, a baseline file skips their values. A 24 MP
//! photo for a 512 px thumbnail is decoded at 1/4, about 1.5 MP, from its lowest six
//! coefficients per block. The scale is never below what the target needs. JPEGs thumbs-jpeg
//! does not handle (lossless, arithmetic-coded, 12-bit,
//! hierarchical) or rejects as malformed fall back to the previous decoders: jpeg-decoder for
//! complete files (it also reads lossless JPEG), the `image` crate's zune-jpeg for truncated ones.
//!
//! # Truncated files
//! Policy, chosen to match what browsers show: a JPEG that stops early (no EOI marker at the
//! end) still renders the part that arrived, the missing blocks flat grey as libjpeg and
//! browsers draw them; a truncated progressive JPEG shows the scans that arrived. thumbs-jpeg
//! does exactly that, at the reduced scale too. A JPEG that stops before its first scan has
//! nothing to show and is [`Error::Undecodable`] (422). The other formats' decoders cannot hand
//! out a partial image, so a truncated PNG, GIF, WebP, BMP or TIFF is also `Undecodable`: a
//! half-written thumbnail that looks finished would be worse than a clear error.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader};

use crate::colour::{Bitmap, Layout};
use crate::error::Error;
use crate::format::{Format, sniff};
use crate::limits::Limits;
use crate::orient;
use crate::resize::fit_within;

/// What the header says about an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: Format,
    /// Displayed width, i.e. after EXIF orientation.
    pub width: u32,
    /// Displayed height, i.e. after EXIF orientation.
    pub height: u32,
}

/// The result of [`decode`]: pixels as stored in the file (EXIF orientation NOT yet applied,
/// colours still in the file's colour space) plus what is needed to finish the job.
#[derive(Debug, Clone)]
pub struct DecodedImage {
    /// Format and full-size displayed dimensions.
    pub info: ImageInfo,
    /// Full-size dimensions as stored, before orientation.
    pub stored_width: u32,
    pub stored_height: u32,
    /// The pixels, possibly smaller than `stored_width × stored_height` (shrink-on-load).
    pub pixels: Bitmap,
    pub orientation: Orientation,
    /// Embedded ICC profile, if any.
    pub icc_profile: Option<Vec<u8>>,
}

/// Header only: format and displayed size, with every limit enforced. No pixel is decoded.
pub fn probe(bytes: &[u8], limits: &Limits) -> Result<ImageInfo, Error> {
    let format = sniff(bytes)?;
    limits.check_input(bytes)?;
    let header = match format {
        Format::Jpeg => match thumbs_jpeg::read_header(bytes) {
            Ok(header) => {
                limits.check_dimensions(header.width, header.height)?;
                Header {
                    width: header.width,
                    height: header.height,
                    orientation: jpeg_orientation(header.exif),
                    icc_profile: None,
                }
            }
            Err(_) => JpegSource::open(bytes, limits)?.header,
        },
        _ => ImageSource::open(bytes, format, limits)?.header,
    };
    Ok(header.info(format))
}

/// Decode `bytes`, enforcing `limits` from the header before any pixel buffer exists.
///
/// With `target_max_side = Some(n)` the result may be smaller than the original but still
/// covers a fit-inside-n×n thumbnail; `None` decodes at full size.
pub fn decode(
    bytes: &[u8],
    target_max_side: Option<u32>,
    limits: &Limits,
) -> Result<DecodedImage, Error> {
    let format = sniff(bytes)?;
    limits.check_input(bytes)?;
    match format {
        Format::Jpeg => match fast_jpeg(bytes, target_max_side, limits)? {
            Some(decoded) => Ok(decoded),
            None => decode_jpeg_fallback(bytes, target_max_side, limits),
        },
        _ => ImageSource::open(bytes, format, limits)?.decode(),
    }
}

/// The general JPEG decoders, for what thumbs-jpeg declines.
fn decode_jpeg_fallback(
    bytes: &[u8],
    target_max_side: Option<u32>,
    limits: &Limits,
) -> Result<DecodedImage, Error> {
    // Truncation policy (module docs): jpeg-decoder fails at the end of input, while the
    // image crate's decoder (zune-jpeg) fills missing blocks with flat grey — and shows a
    // truncated progressive JPEG at the quality of the scans that arrived, like a browser.
    if bytes.ends_with(&[0xFF, 0xD9]) {
        JpegSource::open(bytes, limits)?.decode(target_max_side)
    } else {
        ImageSource::open(bytes, Format::Jpeg, limits)?.decode()
    }
}

/// EXIF orientation from the TIFF bytes of an APP1 "Exif" segment; broken or absent EXIF is
/// upright, as browsers treat it.
fn jpeg_orientation(exif: Option<&[u8]>) -> Orientation {
    exif.and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms)
}

/// JPEG through thumbs-jpeg: header, limits, then a decode at the scale and coefficient band
/// `target_max_side` needs. `Ok(None)` means "not for this decoder" (an unsupported JPEG process,
/// data it considers malformed, or its own buffer ceiling): the caller falls back.
fn fast_jpeg(
    bytes: &[u8],
    target_max_side: Option<u32>,
    limits: &Limits,
) -> Result<Option<DecodedImage>, Error> {
    let Ok(header) = thumbs_jpeg::read_header(bytes) else {
        return Ok(None);
    };
    let (width, height) = (header.width, header.height);
    // Our limits first, from the header alone: nothing has been allocated yet.
    limits.check_dimensions(width, height)?;
    // fit-inside-N×N is symmetric, so the stored orientation needs the same scale and band.
    // The scale leaves the resampler at least a 1.4× (1/8: 1.5×) reduction or is the draft
    // mode's, and only the coefficients below both the thumbnail's and the decode grid's
    // Nyquist limits are read (thumbs-jpeg's `for_thumbnail`, `band_for_target`, `max_band`).
    let (scale, band) = match target_max_side {
        Some(side) => {
            let scale = thumbs_jpeg::Scale::for_thumbnail(width, height, side);
            let band = thumbs_jpeg::band_for_target(width, height, side).min(scale.max_band());
            (scale, band)
        }
        None => (thumbs_jpeg::Scale::Full, 63),
    };
    let jpeg_limits = thumbs_jpeg::Limits {
        max_pixels: limits.max_pixels,
        // The same budget the jpeg-decoder path had (4 bytes per pixel at the pixel limit);
        // at the scales thumbnails use, a decode needs a small fraction of it.
        max_bytes: limits.max_pixels.saturating_mul(4),
    };
    // Every thumbnail is stored with 4:2:0 chroma (JPEG, WebP and AVIF alike), so a
    // thumbnail's decode reads the chroma at half resolution where that is cheaper.
    let decode = match target_max_side {
        Some(_) => thumbs_jpeg::decode_for_thumbnail,
        None => thumbs_jpeg::decode_scaled_band,
    };
    let decoded = match decode(bytes, scale, band, &jpeg_limits) {
        Ok(decoded) => decoded,
        Err(_) => return Ok(None),
    };
    use thumbs_jpeg::PixelFormat as P;
    let layout = match decoded.format {
        P::Gray8 => Layout::Gray8,
        P::Rgb8 => Layout::Rgb8,
        // Both decoders give ink amounts (0 = no ink): Adobe's inversion and YCCK are undone.
        P::Cmyk8 => Layout::Cmyk8,
    };
    let pixels = Bitmap::new(decoded.width, decoded.height, layout, decoded.pixels)?;
    let header = Header {
        width,
        height,
        orientation: jpeg_orientation(header.exif),
        icc_profile: header.icc.map(std::borrow::Cow::into_owned),
    };
    Ok(Some(DecodedImage {
        info: header.info(Format::Jpeg),
        stored_width: width,
        stored_height: height,
        pixels,
        orientation: header.orientation,
        icc_profile: header.icc_profile,
    }))
}

/// What every decoder's header stage yields.
#[derive(Debug, Clone)]
struct Header {
    width: u32,
    height: u32,
    orientation: Orientation,
    icc_profile: Option<Vec<u8>>,
}

impl Header {
    fn info(&self, format: Format) -> ImageInfo {
        let (width, height) = orient::displayed_size(self.width, self.height, self.orientation);
        ImageInfo {
            format,
            width,
            height,
        }
    }
}

fn undecodable(err: impl std::fmt::Display) -> Error {
    Error::Undecodable(err.to_string())
}

/// JPEG through jpeg-decoder: scaled IDCT, CMYK/YCCK with Adobe APP14 handling.
struct JpegSource<'a> {
    decoder: jpeg_decoder::Decoder<&'a [u8]>,
    header: Header,
    format: Format,
}

impl<'a> JpegSource<'a> {
    fn open(bytes: &'a [u8], limits: &Limits) -> Result<Self, Error> {
        let mut decoder = jpeg_decoder::Decoder::new(bytes);
        // Backstop for the decoder's own buffer; our dimension check below comes first.
        let max_buffer = limits.max_pixels.saturating_mul(4);
        decoder.set_max_decoding_buffer_size(usize::try_from(max_buffer).unwrap_or(usize::MAX));
        decoder.read_info().map_err(undecodable)?;
        let info = decoder
            .info()
            .ok_or_else(|| undecodable("no JPEG frame header"))?;
        let (width, height) = (u32::from(info.width), u32::from(info.height));
        limits.check_dimensions(width, height)?;
        let orientation = decoder
            .exif_data()
            .and_then(Orientation::from_exif_chunk)
            .unwrap_or(Orientation::NoTransforms);
        let icc_profile = decoder.icc_profile();
        let header = Header {
            width,
            height,
            orientation,
            icc_profile,
        };
        Ok(JpegSource {
            decoder,
            header,
            format: Format::Jpeg,
        })
    }

    fn decode(mut self, target_max_side: Option<u32>) -> Result<DecodedImage, Error> {
        let Header { width, height, .. } = self.header;
        if let Some(side) = target_max_side {
            // Ask for the stored-orientation size of the largest thumbnail; fit-inside-N×N
            // is symmetric, so rotation does not change which scale is enough.
            let (w, h) = fit_within(width, height, side);
            let clamp = |n: u32| u16::try_from(n).unwrap_or(u16::MAX);
            self.decoder
                .scale(clamp(w), clamp(h))
                .map_err(undecodable)?;
        }
        let data = self.decoder.decode().map_err(undecodable)?;
        let info = self
            .decoder
            .info()
            .ok_or_else(|| undecodable("no JPEG frame header"))?;
        let (w, h) = (u32::from(info.width), u32::from(info.height));
        use jpeg_decoder::PixelFormat as P;
        let pixels = match info.pixel_format {
            P::RGB24 => Bitmap::new(w, h, Layout::Rgb8, data),
            // jpeg-decoder has already undone Adobe's inverted storage: these are ink amounts.
            P::CMYK32 => Bitmap::new(w, h, Layout::Cmyk8, data),
            P::L8 => Bitmap::new(w, h, Layout::Gray8, data),
            // Lossless 16-bit JPEG, big-endian samples: keep the high byte.
            P::L16 => Bitmap::new(
                w,
                h,
                Layout::Gray8,
                data.chunks_exact(2).map(|s| s[0]).collect(),
            ),
        }?;
        Ok(DecodedImage {
            info: self.header.info(self.format),
            stored_width: width,
            stored_height: height,
            pixels,
            orientation: self.header.orientation,
            icc_profile: self.header.icc_profile,
        })
    }
}

/// Every other format through the `image` crate's decoders.
struct ImageSource<'a> {
    decoder: Box<dyn ImageDecoder + 'a>,
    header: Header,
    format: Format,
}

/// image-webp 0.2 allocates a whole metadata chunk (EXIF, ICCP, XMP, ...) at the size its
/// header declares before reading it, so a 3 KB file claiming a 3 GB EXIF chunk allocated 3 GB
/// in `orientation()` (found by fuzz/ `pipeline`). Every chunk but the image data itself (which
/// the decoder streams, and whose truncation it reports) must fit in the bytes we have.
fn check_webp_chunks(bytes: &[u8]) -> Result<(), Error> {
    let mut rest = bytes.get(12..).unwrap_or(&[]);
    while let Some((header, body)) = rest.split_first_chunk::<8>() {
        let declared = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let size = usize::try_from(declared).unwrap_or(usize::MAX);
        let fourcc = &header[..4];
        if size > body.len() {
            if fourcc == b"VP8 " || fourcc == b"VP8L" {
                break;
            }
            return Err(undecodable(format!(
                "WebP chunk {:?} declares {size} bytes but only {} follow",
                String::from_utf8_lossy(fourcc),
                body.len()
            )));
        }
        rest = body.get(size.saturating_add(size & 1)..).unwrap_or(&[]);
    }
    Ok(())
}

impl<'a> ImageSource<'a> {
    fn open(bytes: &'a [u8], format: Format, limits: &Limits) -> Result<Self, Error> {
        if format == Format::WebP {
            check_webp_chunks(bytes)?;
        }
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format.to_image_format());
        reader.limits(limits.to_image_limits());
        let mut decoder: Box<dyn ImageDecoder + 'a> =
            Box::new(reader.into_decoder().map_err(undecodable)?);
        // `DynamicImage::from_decoder` does NOT enforce the allocation limit that image's
        // `decode()` applies, so this check is what stands between a bomb and the heap.
        // For GIF these are the logical screen's dimensions, the canvas every frame lives on.
        let (width, height) = decoder.dimensions();
        limits.check_dimensions(width, height)?;
        // Broken metadata is not worth rejecting an image for: browsers ignore it too.
        let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
        let icc_profile = decoder.icc_profile().ok().flatten();
        let header = Header {
            width,
            height,
            orientation,
            icc_profile,
        };
        Ok(ImageSource {
            decoder,
            header,
            format,
        })
    }

    fn decode(self) -> Result<DecodedImage, Error> {
        // Animated GIF, WebP and APNG: the decoders' still-image path yields the first frame
        // (APNG: the default image), which is what a thumbnail shows.
        let image = DynamicImage::from_decoder(self.decoder).map_err(undecodable)?;
        let (w, h) = (image.width(), image.height());
        // 16-bit and float images become 8-bit here; alpha is kept for the colour step to
        // flatten onto white.
        let pixels = if image.color().has_alpha() {
            Bitmap::new(w, h, Layout::Rgba8, image.into_rgba8().into_raw())
        } else if image.color().has_color() {
            Bitmap::new(w, h, Layout::Rgb8, image.into_rgb8().into_raw())
        } else {
            Bitmap::new(w, h, Layout::Gray8, image.into_luma8().into_raw())
        }?;
        Ok(DecodedImage {
            info: self.header.info(self.format),
            stored_width: self.header.width,
            stored_height: self.header.height,
            pixels,
            orientation: self.header.orientation,
            icc_profile: self.header.icc_profile,
        })
    }
}
