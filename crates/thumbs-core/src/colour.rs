//! Pixels in whatever the file held → 8-bit sRGB RGB, the only thing a JPEG thumbnail
//! without an ICC profile can honestly contain (a browser assumes sRGB for untagged JPEGs).
//!
//! - alpha is flattened onto white (thumbnails have no alpha, and white is what a
//!   transparent PNG looks like on the typical page);
//! - CMYK (and YCCK, which the JPEG decoder already turned into CMYK) goes through its
//!   embedded CMYK profile when there is one, otherwise through the naive formula every
//!   browser uses for untagged CMYK;
//! - an embedded RGB profile (Adobe RGB, Display P3, ...) is converted to sRGB with moxcms;
//!   a profile that does not parse or does not fit the pixels is ignored, as browsers do.

use moxcms::{ColorProfile, DataColorSpace, Layout as CmsLayout, TransformOptions};

use crate::error::Error;

/// How the bytes of a [`Bitmap`] are laid out. All 8 bits per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Gray8,
    Rgb8,
    Rgba8,
    /// Ink amounts, 0 = no ink (NOT Adobe's inverted storage).
    Cmyk8,
}

impl Layout {
    pub fn channels(self) -> usize {
        match self {
            Layout::Gray8 => 1,
            Layout::Rgb8 => 3,
            Layout::Rgba8 | Layout::Cmyk8 => 4,
        }
    }
}

/// A plain pixel buffer, rows top to bottom, no padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    pub data: Vec<u8>,
}

impl Bitmap {
    /// Checks that `data` holds exactly `width × height` pixels of `layout`.
    pub fn new(width: u32, height: u32, layout: Layout, data: Vec<u8>) -> Result<Bitmap, Error> {
        let expected = width as usize * height as usize * layout.channels();
        if data.len() != expected {
            return Err(Error::Undecodable(format!(
                "decoder returned {} bytes for {width}x{height} {layout:?}, expected {expected}",
                data.len()
            )));
        }
        Ok(Bitmap {
            width,
            height,
            layout,
            data,
        })
    }
}

/// Convert to 8-bit sRGB RGB ([`Layout::Rgb8`]).
pub fn to_srgb(bitmap: Bitmap, icc_profile: Option<&[u8]>) -> Result<Bitmap, Error> {
    let profile = icc_profile.and_then(|icc| ColorProfile::new_from_slice(icc).ok());
    let Bitmap {
        width,
        height,
        layout,
        data,
    } = bitmap;
    let rgb = match layout {
        Layout::Rgb8 => data,
        // Gray profiles are close to sRGB's tone curve; expanding is what matters here.
        Layout::Gray8 => data.iter().flat_map(|&v| [v, v, v]).collect(),
        Layout::Rgba8 => flatten_onto_white(&data),
        Layout::Cmyk8 => {
            let cmyk_profile = profile
                .as_ref()
                .filter(|p| p.color_space == DataColorSpace::Cmyk);
            return Bitmap::new(
                width,
                height,
                Layout::Rgb8,
                cmyk_to_srgb(&data, cmyk_profile),
            );
        }
    };
    let rgb = match profile.filter(|p| p.color_space == DataColorSpace::Rgb) {
        Some(profile) => rgb_profile_to_srgb(rgb, &profile),
        None => rgb,
    };
    Bitmap::new(width, height, Layout::Rgb8, rgb)
}

/// `out = colour × alpha + white × (1 − alpha)`, rounded. Done in the file's own encoding,
/// before any profile conversion: white is white in every RGB profile we convert from.
fn flatten_onto_white(rgba: &[u8]) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(rgba.len() / 4 * 3);
    for px in rgba.chunks_exact(4) {
        let a = u32::from(px[3]);
        for &c in &px[..3] {
            rgb.push(((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8);
        }
    }
    rgb
}

fn cmyk_to_srgb(cmyk: &[u8], profile: Option<&ColorProfile>) -> Vec<u8> {
    if let Some(profile) = profile {
        let transform = profile.create_transform_8bit(
            CmsLayout::Rgba, // moxcms: CMYK 8-bit uses the 4-channel RGBA layout
            &ColorProfile::new_srgb(),
            CmsLayout::Rgb,
            TransformOptions::default(),
        );
        if let Ok(transform) = transform {
            let mut rgb = vec![0u8; cmyk.len() / 4 * 3];
            if transform.transform(cmyk, &mut rgb).is_ok() {
                return rgb;
            }
        }
    }
    // Untagged CMYK: R = (1 − C)(1 − K), the conversion browsers apply.
    let mut rgb = Vec::with_capacity(cmyk.len() / 4 * 3);
    for px in cmyk.chunks_exact(4) {
        let white = 255 - u32::from(px[3]);
        for &ink in &px[..3] {
            rgb.push(((255 - u32::from(ink)) * white / 255) as u8);
        }
    }
    rgb
}

fn rgb_profile_to_srgb(mut rgb: Vec<u8>, profile: &ColorProfile) -> Vec<u8> {
    let Ok(transform) = profile.create_transform_8bit(
        CmsLayout::Rgb,
        &ColorProfile::new_srgb(),
        CmsLayout::Rgb,
        TransformOptions::default(),
    ) else {
        return rgb;
    };
    let mut out = vec![0u8; rgb.len()];
    if transform.transform(&rgb, &mut out).is_ok() {
        rgb = out;
    }
    rgb
}
