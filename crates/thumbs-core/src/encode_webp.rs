//! RGB pixels → lossy WebP through libwebp (the C library, compiled from source by
//! `libwebp-sys`, so the arm64 cross-build needs only a C compiler — cargo-lambda's zig).
//!
//! libwebp is the reference encoder; the pure-Rust `image-webp` the decoder side uses only
//! writes lossless WebP, which is larger than the JPEG for photographs.
//! Settings (chosen by measurement, docs/performance.md "Formats", carried by
//! `EncodeSettings`): photo preset, method, spatial noise shaping and sharp YUV as measured,
//! single-threaded, no metadata, 4:2:0 as WebP always is. libwebp is deterministic for a given
//! build: the same pixels and settings give the same bytes.

use std::ffi::c_int;

use libwebp_sys as ffi;

use crate::colour::{Bitmap, Layout};
use crate::error::Error;

/// WebP's largest side (VP8's 14-bit dimensions).
const MAX_SIDE: u32 = 16_383;

/// libwebp's knobs besides quality (`EncodeSettings` carries the measured values).
#[derive(Debug, Clone, Copy)]
pub(crate) struct WebpTuning {
    /// 0 (fastest) – 6 (smallest).
    pub method: u8,
    /// Spatial noise shaping, 0–100.
    pub sns_strength: u8,
    pub sharp_yuv: bool,
}

/// Encode an sRGB [`Layout::Rgb8`] bitmap as lossy WebP at `quality` (0–100, libwebp's scale).
pub(crate) fn encode_webp(
    bitmap: &Bitmap,
    quality: u8,
    tuning: &WebpTuning,
) -> Result<Vec<u8>, Error> {
    debug_assert_eq!(bitmap.layout, Layout::Rgb8);
    if bitmap.width == 0 || bitmap.height == 0 {
        return Err(Error::Encode("an empty image has no WebP".into()));
    }
    if bitmap.width > MAX_SIDE || bitmap.height > MAX_SIDE {
        return Err(Error::Encode(format!(
            "{}x{} is too large for WebP (at most {MAX_SIDE} per side)",
            bitmap.width, bitmap.height
        )));
    }
    let expected = bitmap.width as usize * bitmap.height as usize * 3;
    if bitmap.data.len() != expected {
        return Err(Error::Encode(format!(
            "{} bytes for a {}x{} RGB bitmap, expected {expected}",
            bitmap.data.len(),
            bitmap.width,
            bitmap.height
        )));
    }
    let failed = |what: &str| Error::Encode(format!("libwebp: {what}"));

    // SAFETY: plain C structs initialised by libwebp's own init functions (checked), the
    // picture reads `bitmap.data` (length checked above: width × height × 3, stride width × 3)
    // only during the import call, the memory writer owns its buffer until it is copied out
    // and cleared, and the picture is freed on every path after a successful init.
    unsafe {
        let mut config = std::mem::MaybeUninit::<ffi::WebPConfig>::uninit();
        if ffi::WebPConfigInitInternal(
            config.as_mut_ptr(),
            ffi::WebPPreset::WEBP_PRESET_PHOTO,
            f32::from(quality.min(100)),
            ffi::WEBP_ENCODER_ABI_VERSION as c_int,
        ) == 0
        {
            return Err(failed("config init (ABI mismatch)"));
        }
        let mut config = config.assume_init();
        config.method = c_int::from(tuning.method.min(6));
        config.sns_strength = c_int::from(tuning.sns_strength.min(100));
        config.thread_level = 0;
        config.use_sharp_yuv = c_int::from(tuning.sharp_yuv);
        if ffi::WebPValidateConfig(&config) == 0 {
            return Err(failed("invalid config"));
        }

        let mut picture = std::mem::MaybeUninit::<ffi::WebPPicture>::uninit();
        if ffi::WebPPictureInitInternal(
            picture.as_mut_ptr(),
            ffi::WEBP_ENCODER_ABI_VERSION as c_int,
        ) == 0
        {
            return Err(failed("picture init (ABI mismatch)"));
        }
        let mut picture = picture.assume_init();
        picture.use_argb = 0;
        picture.width = bitmap.width as c_int;
        picture.height = bitmap.height as c_int;

        let mut writer = std::mem::MaybeUninit::<ffi::WebPMemoryWriter>::uninit();
        ffi::WebPMemoryWriterInit(writer.as_mut_ptr());
        let mut writer = writer.assume_init();
        picture.writer = Some(ffi::WebPMemoryWrite);
        picture.custom_ptr = (&raw mut writer).cast();

        let stride = (bitmap.width * 3) as c_int;
        let result = if ffi::WebPPictureImportRGB(&mut picture, bitmap.data.as_ptr(), stride) == 0 {
            Err(failed("out of memory importing the pixels"))
        } else if ffi::WebPEncode(&config, &mut picture) == 0 {
            Err(failed(&format!("encode failed ({:?})", picture.error_code)))
        } else if writer.mem.is_null() || writer.size == 0 {
            Err(failed("encoder wrote nothing"))
        } else {
            Ok(std::slice::from_raw_parts(writer.mem, writer.size).to_vec())
        };
        ffi::WebPPictureFree(&mut picture);
        ffi::WebPMemoryWriterClear(&mut writer);
        result
    }
}

/// libwebp's own decode of a WebP to RGB8 (the decoder browsers use), for measuring what an
/// encode did. `None` if it does not decode to `width` × `height`.
pub(crate) fn decode_webp_rgb(webp: &[u8], width: u32, height: u32) -> Option<Vec<u8>> {
    let stride = width as usize * 3;
    let mut out = vec![0u8; stride * height as usize];
    let (mut w, mut h): (c_int, c_int) = (0, 0);
    // SAFETY: WebPGetInfo reads `webp` within its length; WebPDecodeRGBInto writes at most
    // `out.len()` bytes with the given stride (it fails if the image does not fit).
    unsafe {
        if ffi::WebPGetInfo(webp.as_ptr(), webp.len(), &mut w, &mut h) == 0
            || (w, h) != (width as c_int, height as c_int)
        {
            return None;
        }
        let written = ffi::WebPDecodeRGBInto(
            webp.as_ptr(),
            webp.len(),
            out.as_mut_ptr(),
            out.len(),
            stride as c_int,
        );
        (!written.is_null()).then_some(out)
    }
}
