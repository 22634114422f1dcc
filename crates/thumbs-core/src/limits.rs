//! Resource limits, checked before any pixel buffer exists.
//!
//! A 30 KB PNG can claim 30000×30000 pixels and inflate to gigabytes; the only safe moment to
//! say no is after reading the header and before allocating. [`Limits::check_input`] runs on
//! the raw bytes, [`Limits::check_dimensions`] on the header's width and height — both are
//! called by `decode` before it asks any decoder for pixels.

use crate::error::Error;

/// The ceilings one image must stay under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Width × height, as claimed by the header (default 100 megapixels).
    pub max_pixels: u64,
    /// Longest side (default 32768: past that, extreme aspect ratios make thumbnails of one
    /// pixel row and decoders' 16-bit limits start to bite).
    pub max_side: u32,
    /// Size of the encoded input (`MAX_INPUT_BYTES`, default [`DEFAULT_MAX_INPUT_BYTES`]). The
    /// ONE cap on an original's size: `POST /uploads` presigns at most this many bytes, and the
    /// resize and the on-demand render read at most this many, so an upload the API accepts is
    /// never refused later for its size. (Direct `POST /images` bodies have their own, smaller
    /// transport limit, `Config::max_upload_bytes`.)
    pub max_input_bytes: usize,
}

/// Default of [`Limits::max_input_bytes`]: 50 MB.
pub const DEFAULT_MAX_INPUT_BYTES: usize = 50_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: 100_000_000,
            max_side: 32_768,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }
}

impl Limits {
    /// Reject input whose byte size alone is over the limit.
    pub fn check_input(&self, bytes: &[u8]) -> Result<(), Error> {
        if bytes.len() > self.max_input_bytes {
            return Err(Error::InputTooLarge {
                bytes: bytes.len(),
                limit: self.max_input_bytes,
            });
        }
        Ok(())
    }

    /// Reject dimensions (from a header) that are empty or past the limits.
    pub fn check_dimensions(&self, width: u32, height: u32) -> Result<(), Error> {
        if width == 0 || height == 0 {
            return Err(Error::Undecodable(format!(
                "the header says {width}x{height} pixels"
            )));
        }
        if u64::from(width) * u64::from(height) > self.max_pixels {
            return Err(Error::TooManyPixels {
                width,
                height,
                limit: self.max_pixels,
            });
        }
        if width.max(height) > self.max_side {
            return Err(Error::SideTooLong {
                width,
                height,
                limit: self.max_side,
            });
        }
        Ok(())
    }

    /// The same ceilings for the `image` crate's decoders, as a second line of defence for
    /// allocations they make internally (frame buffers, metadata chunks). Ours run first.
    pub(crate) fn to_image_limits(self) -> image::Limits {
        let mut limits = image::Limits::default();
        // RGBA16 at the pixel limit, plus room for a decoder's own buffers.
        limits.max_alloc = Some(self.max_pixels.saturating_mul(8).saturating_add(64 << 20));
        limits
    }
}
