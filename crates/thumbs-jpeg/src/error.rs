//! The crate's one error type.

/// Why a JPEG could not be decoded.
///
/// `Unsupported` means "valid JPEG, but not a kind this decoder handles" (arithmetic coding,
/// lossless, hierarchical, 12-bit): the caller should fall back to a general decoder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The bytes are not a JPEG this decoder can make sense of.
    #[error("malformed JPEG: {0}")]
    Format(&'static str),
    /// A valid JPEG feature this decoder does not implement.
    #[error("unsupported JPEG: {0}")]
    Unsupported(&'static str),
    /// The image is larger than the caller's limits allow; nothing was allocated for it.
    #[error("JPEG too large: {width}x{height}x{components} exceeds the limit")]
    TooLarge {
        width: u32,
        height: u32,
        components: u8,
    },
    /// The data ended before even the first row of blocks could be decoded.
    #[error("JPEG truncated before any image data")]
    Truncated,
}
