//! Which image format some bytes are, from their magic numbers only. A client's Content-Type or
//! file name is never trusted (the format is sniffed from the bytes, see docs/architecture.md).

use crate::error::Error;

/// The formats thumbs accepts. Variants of a family sniff as the family: MPO is JPEG (its
/// first image is a plain JPEG), APNG is PNG (its default image is a plain PNG).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Gif,
    WebP,
    Bmp,
    Tiff,
}

impl Format {
    /// The MIME type to store the original under.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::WebP => "image/webp",
            Format::Bmp => "image/bmp",
            Format::Tiff => "image/tiff",
        }
    }

    /// Short lowercase name, as in the API's JSON ("jpeg", "png", ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::WebP => "webp",
            Format::Bmp => "bmp",
            Format::Tiff => "tiff",
        }
    }

    pub(crate) fn to_image_format(self) -> image::ImageFormat {
        match self {
            Format::Jpeg => image::ImageFormat::Jpeg,
            Format::Png => image::ImageFormat::Png,
            Format::Gif => image::ImageFormat::Gif,
            Format::WebP => image::ImageFormat::WebP,
            Format::Bmp => image::ImageFormat::Bmp,
            Format::Tiff => image::ImageFormat::Tiff,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Identify the format from the first bytes. Anything unrecognised — SVG, text, HEIC, empty
/// input, random bytes — is [`Error::UnsupportedFormat`].
pub fn sniff(bytes: &[u8]) -> Result<Format, Error> {
    // Signatures: JPEG SOI + a marker; PNG's 8-byte signature; GIF87a/89a; RIFF....WEBP;
    // TIFF little-endian "II*\0" and big-endian "MM\0*"; BMP "BM" followed by one of the
    // known DIB header sizes at offset 14, so text starting with "BM" is not taken for one.
    let at =
        |offset: usize, magic: &[u8]| bytes.get(offset..).is_some_and(|b| b.starts_with(magic));
    let format = if at(0, &[0xFF, 0xD8, 0xFF]) {
        Format::Jpeg
    } else if at(0, b"\x89PNG\r\n\x1a\n") {
        Format::Png
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        Format::Gif
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        Format::WebP
    } else if at(0, b"II*\0") || at(0, b"MM\0*") {
        Format::Tiff
    } else if at(0, b"BM")
        && [12u8, 40, 52, 56, 64, 108, 124]
            .iter()
            .any(|&n| at(14, &[n, 0, 0, 0]))
    {
        Format::Bmp
    } else {
        return Err(Error::UnsupportedFormat);
    };
    Ok(format)
}
