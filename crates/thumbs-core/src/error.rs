//! The one error type of thumbs-core, with its [`ErrorKind`] and stable code. No HTTP here:
//! thumbs-http maps kinds to statuses (docs/architecture.md, "Error model").

use std::fmt;

/// Everything that can go wrong between "here are some bytes" and "here are the thumbnails".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not one of JPEG, PNG, GIF, WebP, BMP, TIFF (SVG, text, empty, random bytes...).
    #[error("not a supported image (JPEG, PNG, GIF, WebP, BMP or TIFF)")]
    UnsupportedFormat,
    /// More bytes than the configured limit.
    #[error("the image is {bytes} bytes, more than the limit of {limit} bytes")]
    InputTooLarge { bytes: usize, limit: usize },
    /// The header claims more pixels than allowed (decompression-bomb guard).
    #[error("the image is {width}x{height} pixels, more than the limit of {limit} pixels")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    /// One side is longer than allowed.
    #[error("the image is {width}x{height} pixels; its longest side may be at most {limit}")]
    SideTooLong { width: u32, height: u32, limit: u32 },
    /// The format is supported but the data is broken (or truncated before any pixel).
    #[error("the image could not be decoded: {0}")]
    Undecodable(String),
    /// Encoding the JPEG failed (an internal fault, not the client's).
    #[error("the thumbnail could not be encoded: {0}")]
    Encode(String),
    /// An image id that is not 32 lowercase hex characters.
    #[error("invalid image id: expected 32 lowercase hexadecimal characters")]
    InvalidId,
    /// A thumbnail size that is not configured.
    #[error("invalid size {given:?}; allowed sizes: {allowed}")]
    InvalidSize { given: String, allowed: SizeList },
}

/// The configured sizes, for error messages ("128, 256, 512").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeList(pub Vec<u32>);

impl fmt::Display for SizeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, size) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{size}")?;
        }
        Ok(())
    }
}

/// What sort of failure an error is. Core and store classify their errors into kinds and
/// stable codes; only the HTTP layer (thumbs-http) knows which status each kind is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The request names something malformed: an image id, a thumbnail size.
    Invalid,
    /// The input is over a byte limit.
    TooLarge,
    /// Not a supported image format.
    Unsupported,
    /// A supported format that cannot be thumbnailed: over the pixel limits, broken data.
    Unprocessable,
    /// Nothing is there.
    NotFound,
    /// A create-only write found the object already there.
    Conflict,
    /// Worth retrying shortly: a storage outage.
    Unavailable,
    /// Our own fault, not the client's.
    Internal,
}

impl Error {
    /// The kind of failure: bad id or size are invalid requests, limits and broken pixels are
    /// unprocessable, an encoder fault is ours.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnsupportedFormat => ErrorKind::Unsupported,
            Error::InputTooLarge { .. } => ErrorKind::TooLarge,
            Error::TooManyPixels { .. } | Error::SideTooLong { .. } | Error::Undecodable(_) => {
                ErrorKind::Unprocessable
            }
            Error::Encode(_) => ErrorKind::Internal,
            Error::InvalidId | Error::InvalidSize { .. } => ErrorKind::Invalid,
        }
    }

    /// The stable machine-readable code clients and `error.json` see (`unsupported_format`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnsupportedFormat => "unsupported_format",
            Error::InputTooLarge { .. } => "too_large",
            Error::TooManyPixels { .. } | Error::SideTooLong { .. } => "too_many_pixels",
            Error::Undecodable(_) => "undecodable",
            Error::Encode(_) => "internal",
            Error::InvalidId => "invalid_id",
            Error::InvalidSize { .. } => "invalid_size",
        }
    }
}
