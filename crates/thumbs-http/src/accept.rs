//! `Accept` → the thumbnail format a negotiated URL (`GET /images/{id}/{size}`) answers with.
//!
//! The rule (the same one the CDN applies, `infra/cloudfront/normalize-accept.js`, and both
//! are tested against the one table in `infra/accept-cases.json`):
//!
//! - AVIF when the client lists `image/avif` with q > 0 and AVIF is enabled;
//! - else WebP when it lists `image/webp` with q > 0;
//! - else JPEG, which every client decodes. Wildcards (`*/*`, `image/*`) never select AVIF or
//!   WebP: a client that names neither might not decode them (Safari 13 sends `image/*`).
//!
//! Details: type names compare case-insensitively and whole (`image/avifs` is not AVIF); an
//! entry whose q is not a valid qvalue (RFC 9110 §12.4.2: 0–1 with at most three decimals)
//! is ignored; a `q=0` entry refuses its type even if the type is listed again. The relative
//! q of AVIF and WebP does not matter: a browser lists what it decodes, and AVIF is the
//! smaller file at the same quality. Nothing here allocates, whatever the header's length.

use thumbs_core::encode::OutputFormat;

/// The request header the CDN's viewer-request function sets to the normalised format
/// (`avif`, `webp` or `jpeg`) and keys its cache on.
pub const FORMAT_HEADER: &str = "x-thumbs-format";

/// The format for a request whose Accept header is `accept` (`None`: no header).
pub fn negotiate(accept: Option<&str>, avif_enabled: bool) -> OutputFormat {
    let accept = accept.unwrap_or("");
    if avif_enabled && accepts(accept, "image/avif") {
        OutputFormat::Avif
    } else if accepts(accept, "image/webp") {
        OutputFormat::WebP
    } else {
        OutputFormat::Jpeg
    }
}

/// The Accept value that stands for `format` after normalisation: what the CDN forwards to the
/// origin, so the origin's own negotiation picks the same format. The AVIF one lists WebP as
/// well, so an origin with AVIF turned off still answers an AVIF client with WebP.
pub fn canonical_accept(format: OutputFormat) -> &'static str {
    match format {
        OutputFormat::Avif => "image/avif,image/webp",
        OutputFormat::WebP => "image/webp",
        OutputFormat::Jpeg => "image/jpeg",
    }
}

/// Whether `accept` lists `media_type` (lowercase `type/subtype`) with q > 0 and never with
/// q = 0.
fn accepts(accept: &str, media_type: &str) -> bool {
    let mut listed = false;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let range = parts.next().unwrap_or("").trim();
        if !range.eq_ignore_ascii_case(media_type) {
            continue;
        }
        let mut q = Some(1000);
        for param in parts {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            if name.trim().eq_ignore_ascii_case("q") {
                q = parse_qvalue(value.trim());
            }
        }
        match q {
            Some(0) => return false,
            Some(_) => listed = true,
            None => {}
        }
    }
    listed
}

/// An RFC 9110 qvalue in thousandths: `0`, `0.5`, `0.125`, `1`, `1.000`; anything else
/// (`abc`, `2`, `-1`, `0.5000`, empty) is `None`.
fn parse_qvalue(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qvalues() {
        assert_eq!(parse_qvalue("0"), Some(0));
        assert_eq!(parse_qvalue("0."), Some(0));
        assert_eq!(parse_qvalue("0.8"), Some(800));
        assert_eq!(parse_qvalue("0.125"), Some(125));
        assert_eq!(parse_qvalue("1"), Some(1000));
        assert_eq!(parse_qvalue("1.000"), Some(1000));
        for bad in [
            "", "1.5", "2", "-1", "0.1234", "abc", "0x1", ".5", "0.5e1", "+1",
        ] {
            assert_eq!(parse_qvalue(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_huge_header_is_just_scanned() {
        let accept = "image/png,".repeat(100_000) + "image/webp";
        assert_eq!(negotiate(Some(&accept), true), OutputFormat::WebP);
    }
}
