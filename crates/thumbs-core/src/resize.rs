//! Thumbnail geometry and resampling.
//!
//! Geometry: fit inside N×N, keep the aspect ratio, never upscale ([`fit_within`]).
//!
//! Filter: Lanczos3 (fast_image_resize's SIMD convolution), the sharpest of the common
//! windowed-sinc filters and the default of libvips and Pillow thumbnails. Convolution runs on
//! the gamma-encoded sRGB bytes, not in linear light: that is what browsers and most
//! thumbnailers do, it keeps the fast 8-bit path, and for photographs the difference is
//! invisible; linear light mainly matters for fine high-contrast patterns, where it also
//! amplifies Lanczos ringing.

use fast_image_resize::images::Image;
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::colour::{Bitmap, Layout};
use crate::error::Error;

/// The size of a thumbnail of a `width × height` image that must fit inside `size × size`.
/// The longest side becomes `size` (unless the image is already smaller: never upscale); the
/// other side is rounded to the nearest pixel and is at least 1.
pub fn fit_within(width: u32, height: u32, size: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= size || longest == 0 {
        return (width, height);
    }
    let scale = |side: u32| -> u32 {
        let scaled =
            (u64::from(side) * u64::from(size) + u64::from(longest) / 2) / u64::from(longest);
        (scaled as u32).clamp(1, size)
    };
    if width >= height {
        (size, scale(height))
    } else {
        (scale(width), size)
    }
}

/// Resample an RGB bitmap to exactly `width × height`.
pub fn resize(source: &Bitmap, width: u32, height: u32) -> Result<Bitmap, Error> {
    debug_assert_eq!(source.layout, Layout::Rgb8);
    if (source.width, source.height) == (width, height) {
        return Ok(source.clone());
    }
    let fail = |e: &dyn std::fmt::Display| Error::Encode(format!("resize: {e}"));
    // fast_image_resize wants an owned or borrowed buffer; a view over our bytes avoids a copy.
    let src = fast_image_resize::images::ImageRef::new(
        source.width,
        source.height,
        &source.data,
        PixelType::U8x3,
    )
    .map_err(|e| fail(&e))?;
    let mut dst = Image::new(width, height, PixelType::U8x3);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .map_err(|e| fail(&e))?;
    Bitmap::new(width, height, Layout::Rgb8, dst.into_vec())
}
