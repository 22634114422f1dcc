//! The one error type of thumbs-core, and [`ApiError`]: the one place where core errors become
//! HTTP statuses (infra/openapi.yaml). Handlers never pick a status for a core error
//! themselves; they convert with `ApiError::from(&err)`.

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

/// An error as the HTTP API shows it: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    /// Stable machine-readable code, e.g. `unsupported_format`.
    pub code: &'static str,
    pub message: String,
    /// Seconds, for `Retry-After` on 503.
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The response body: `{"error":{"code":..,"message":..}}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": { "code": self.code, "message": self.message } }).to_string()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl From<&Error> for ApiError {
    /// The contract: 400 bad id/size, 413 too large (pointing to /uploads), 415 unsupported (SVG
    /// too), 422 over the pixel limit or undecodable; an encoder fault is ours, so 500.
    fn from(err: &Error) -> Self {
        let message = err.to_string();
        match err {
            Error::UnsupportedFormat => ApiError::new(415, "unsupported_format", message),
            Error::InputTooLarge { .. } => ApiError::new(
                413,
                "too_large",
                format!("{message}; for large files, POST /uploads for a presigned upload URL"),
            ),
            Error::TooManyPixels { .. } => ApiError::new(422, "too_many_pixels", message),
            Error::SideTooLong { .. } => ApiError::new(422, "too_many_pixels", message),
            Error::Undecodable(_) => ApiError::new(422, "undecodable", message),
            Error::Encode(_) => ApiError::new(500, "internal", message),
            Error::InvalidId => ApiError::new(400, "invalid_id", message),
            Error::InvalidSize { .. } => ApiError::new(400, "invalid_size", message),
        }
    }
}
