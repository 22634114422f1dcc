//! Helpers shared by the integration tests: fixtures and pixel comparison.
#![allow(dead_code)]

use image::RgbImage;
use thumbs_core::{Config, ThumbnailSize, make_thumbnails};

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn size(n: u32) -> ThumbnailSize {
    ThumbnailSize::new(n).unwrap()
}

/// Decode any fixture or output to RGB with the `image` crate (no ICC, no orientation).
pub fn rgb(bytes: &[u8]) -> RgbImage {
    image::load_from_memory(bytes)
        .expect("decodable")
        .into_rgb8()
}

/// One thumbnail of `name` fitting inside `n`×`n`, decoded back to RGB.
pub fn thumbnail_rgb(name: &str, n: u32) -> RgbImage {
    let thumbs = make_thumbnails(&fixture(name), &[size(n)], &Config::default())
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    rgb(&thumbs.images[0].jpeg)
}

/// Mean absolute difference per channel (0–255) after shrinking both to 32 px wide, so
/// JPEG noise and resampling differences do not dominate.
pub fn mean_abs_error(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(
        a.dimensions(),
        b.dimensions(),
        "compare images of the same size"
    );
    let (w, h) = (32, (32 * a.height() / a.width()).max(1));
    let small = |img: &RgbImage| image::imageops::resize(img, w, h, image::imageops::Triangle);
    let (a, b) = (small(a), small(b));
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

/// The markers of a JPEG up to its first scan (APPn, DQT, SOF, ...).
pub fn jpeg_markers(jpeg: &[u8]) -> Vec<(u8, Vec<u8>)> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut markers = Vec::new();
    let mut i = 2;
    while i + 4 <= jpeg.len() {
        assert_eq!(jpeg[i], 0xFF, "marker expected at {i}");
        let marker = jpeg[i + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]));
        markers.push((marker, jpeg[i + 4..i + 2 + len].to_vec()));
        if marker == 0xDA {
            break;
        }
        i += 2 + len;
    }
    markers
}
