//! EXIF orientation (values 1–8): the camera stores pixels as the sensor saw them and a tag
//! saying how to turn them. Thumbnails carry no EXIF, so the turn must be baked into pixels.
//!
//! The pipeline resizes first and orients the small result: the same picture, a fraction of
//! the pixel shuffling.

pub use image::metadata::Orientation;
use image::{DynamicImage, RgbImage};

use crate::colour::{Bitmap, Layout};
use crate::error::Error;

/// True for the four orientations (5–8) that swap width and height.
pub fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// The size a viewer shows for stored `width × height` pixels.
pub fn displayed_size(width: u32, height: u32, orientation: Orientation) -> (u32, u32) {
    if swaps_axes(orientation) {
        (height, width)
    } else {
        (width, height)
    }
}

/// Turn an RGB bitmap upright.
pub fn apply(bitmap: Bitmap, orientation: Orientation) -> Result<Bitmap, Error> {
    if orientation == Orientation::NoTransforms {
        return Ok(bitmap);
    }
    debug_assert_eq!(bitmap.layout, Layout::Rgb8);
    let buffer = RgbImage::from_raw(bitmap.width, bitmap.height, bitmap.data)
        .ok_or_else(|| Error::Undecodable("pixel buffer size mismatch".into()))?;
    let mut image = DynamicImage::ImageRgb8(buffer);
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    Bitmap::new(width, height, Layout::Rgb8, image.into_rgb8().into_raw())
}
