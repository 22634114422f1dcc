//! Where request bodies become image bytes: every body form of `POST /images`
//! (infra/openapi.yaml). The format is NOT decided here — that is sniffed from the bytes later.
//!
//! | Content-Type                         | body                                              |
//! |--------------------------------------|---------------------------------------------------|
//! | `image/*`, `application/octet-stream`| the bytes (API Gateway base64-encodes them when the type is in binaryMediaTypes and lambda_http decodes: `Body::Binary`) |
//! | `text/plain`, none                   | base64 text, or a `data:image/...;base64,` URL; raw bytes when they start with an image signature (Python `requests` sends no type) |
//! | `application/json`                   | `{"data": "<base64 or data URL>"}`                 |
//! | `multipart/form-data; boundary=..`   | the first file part                                |
//! | anything else                        | a data URL or base64 if it looks like one, else the bytes |
//!
//! Every path checks the size against the limit before allocating the decoded image.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Why a body could not be turned into bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Malformed base64, data URL, JSON or multipart.
    #[error("{0}")]
    BadEncoding(String),
    /// The decoded image would be larger than the limit.
    #[error("the upload is {bytes} bytes, more than the limit of {limit} bytes")]
    TooLarge { bytes: usize, limit: usize },
    /// Nothing to upload.
    #[error("the request body is empty")]
    Empty,
}

/// Accepts padded and unpadded base64.
const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Decodes a `POST /images` body to the uploaded bytes. `content_type` is the raw header
/// (parameters included); `body` is what lambda_http handed over (already base64-decoded when
/// API Gateway flagged it `isBase64Encoded`). `limit` bounds the decoded size.
pub fn decode_upload(
    content_type: Option<&str>,
    body: &[u8],
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    let content_type = content_type.map(str::trim).filter(|t| !t.is_empty());
    let essence = content_type.map(|t| {
        t.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    let essence = essence.as_deref();

    let bytes = match essence {
        Some("multipart/form-data") => {
            let boundary = content_type.and_then(boundary_param).ok_or_else(|| {
                BodyError::BadEncoding("multipart/form-data needs a boundary parameter".to_owned())
            })?;
            multipart_file(body, &boundary)?.to_vec()
        }
        Some("application/json") => {
            let value: serde_json::Value = serde_json::from_slice(body)
                .map_err(|err| BodyError::BadEncoding(format!("invalid JSON body: {err}")))?;
            let data = value.get("data").and_then(|d| d.as_str()).ok_or_else(|| {
                BodyError::BadEncoding(
                    r#"JSON body needs a "data" string (base64 or a data: URL)"#.to_owned(),
                )
            })?;
            decode_text(data.as_bytes(), limit)?
        }
        // Raw image bytes sent without a type are the image: a known signature (thumbs-core's
        // sniff) in a body that is not base64 text cannot be anything else.
        None | Some("text/plain")
            if thumbs_core::format::sniff(body).is_ok() && !looks_like_text_encoding(body) =>
        {
            body.to_vec()
        }
        None | Some("text/plain") => decode_text(body, limit)?,
        Some(t) if t.starts_with("image/") || t == "application/octet-stream" => {
            // If API Gateway did not treat this type as binary, a client that base64-encoded
            // the bytes itself still works; real image bytes are never pure base64 text.
            if looks_like_text_encoding(body) {
                decode_text(body, limit)?
            } else {
                body.to_vec()
            }
        }
        // e.g. curl --data-binary's default application/x-www-form-urlencoded.
        Some(_) => {
            if looks_like_text_encoding(body) {
                decode_text(body, limit)?
            } else {
                body.to_vec()
            }
        }
    };
    if bytes.is_empty() {
        return Err(BodyError::Empty);
    }
    if bytes.len() > limit {
        return Err(BodyError::TooLarge {
            bytes: bytes.len(),
            limit,
        });
    }
    Ok(bytes)
}

/// A `data:` URL or base64 text (whitespace and line breaks ignored), nothing else.
fn decode_text(text: &[u8], limit: usize) -> Result<Vec<u8>, BodyError> {
    let text = trim_ascii(text);
    if text.is_empty() {
        return Err(BodyError::Empty);
    }
    let payload = if text.len() >= 5 && text[..5].eq_ignore_ascii_case(b"data:") {
        let comma = text
            .iter()
            .position(|&b| b == b',')
            .ok_or_else(|| BodyError::BadEncoding("data: URL without a comma".to_owned()))?;
        let header = std::str::from_utf8(&text[5..comma])
            .unwrap_or("")
            .to_ascii_lowercase();
        if !header.split(';').any(|p| p.trim() == "base64") {
            return Err(BodyError::BadEncoding(
                "only base64 data: URLs are accepted".to_owned(),
            ));
        }
        &text[comma + 1..]
    } else {
        text
    };
    let compact: Vec<u8> = payload
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    // Check the size the decoded bytes would have before allocating them.
    let decoded_len = compact.len() / 4 * 3;
    if decoded_len > limit + 3 {
        return Err(BodyError::TooLarge {
            bytes: decoded_len,
            limit,
        });
    }
    let url_safe = compact.iter().any(|&b| b == b'-' || b == b'_');
    let engine = if url_safe {
        &URL_SAFE_LENIENT
    } else {
        &STANDARD_LENIENT
    };
    engine
        .decode(&compact)
        .map_err(|err| BodyError::BadEncoding(format!("invalid base64: {err}")))
}

/// True for bodies that are a data URL or consist only of base64 characters.
fn looks_like_text_encoding(body: &[u8]) -> bool {
    let body = trim_ascii(body);
    if body.len() >= 5 && body[..5].eq_ignore_ascii_case(b"data:") {
        return true;
    }
    !body.is_empty()
        && body.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
                || b.is_ascii_whitespace()
        })
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

/// The `boundary` parameter of a multipart Content-Type (quoted or not).
fn boundary_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim().trim_matches('"');
        // RFC 2046: 1 to 70 characters.
        (!value.is_empty() && value.len() <= 70).then(|| value.to_owned())
    })
}

/// The content of the first file part of a `multipart/form-data` body (RFC 7578): the first
/// part with a `filename`, else the first part named `file`, `image` or `data`. The parser only
/// slices the body it is given (bounded by the payload limit), never copies parts.
fn multipart_file<'a>(body: &'a [u8], boundary: &str) -> Result<&'a [u8], BodyError> {
    let bad = |msg: &str| BodyError::BadEncoding(format!("multipart body: {msg}"));
    let delimiter = format!("--{boundary}").into_bytes();
    let mut pos = find(body, &delimiter, 0).ok_or_else(|| bad("boundary not found"))?;
    let mut named: Option<&'a [u8]> = None;
    loop {
        pos += delimiter.len();
        if body[pos..].starts_with(b"--") {
            break; // close delimiter
        }
        // Skip transport padding up to the CRLF ending the delimiter line.
        let line_end = find(body, b"\r\n", pos).ok_or_else(|| bad("truncated part"))?;
        let headers_start = line_end + 2;
        let headers_end = find(body, b"\r\n\r\n", headers_start)
            .ok_or_else(|| bad("part headers not terminated"))?;
        let headers = std::str::from_utf8(&body[headers_start..headers_end])
            .map_err(|_| bad("part headers not UTF-8"))?;
        let content_start = headers_end + 4;
        let mut next_delim = Vec::with_capacity(delimiter.len() + 2);
        next_delim.extend_from_slice(b"\r\n");
        next_delim.extend_from_slice(&delimiter);
        let content_end = find(body, &next_delim, content_start)
            .ok_or_else(|| bad("part not terminated by the boundary"))?;
        let content = &body[content_start..content_end];

        let disposition = headers
            .split("\r\n")
            .find(|line| {
                line.to_ascii_lowercase()
                    .starts_with("content-disposition:")
            })
            .unwrap_or("");
        let param = |name: &str| {
            disposition.split(';').skip(1).find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().trim_matches('"').to_owned())
            })
        };
        if param("filename").is_some() {
            return Ok(content);
        }
        if named.is_none() && matches!(param("name").as_deref(), Some("file" | "image" | "data")) {
            named = Some(content);
        }
        pos = content_end + 2;
    }
    named.ok_or_else(|| bad("no file part (a part with a filename, or named \"file\")"))
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > haystack.len() || needle.is_empty() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n rest";
    const LIMIT: usize = 1 << 20;

    fn b64(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    #[test]
    fn raw_binary_is_taken_as_is() {
        assert_eq!(
            decode_upload(Some("image/png"), PNG_MAGIC, LIMIT).unwrap(),
            PNG_MAGIC
        );
        assert_eq!(
            decode_upload(Some("application/octet-stream"), PNG_MAGIC, LIMIT).unwrap(),
            PNG_MAGIC
        );
    }

    #[test]
    fn raw_image_bytes_without_a_type_are_the_image() {
        // What Python's `requests.post(url, data=open(f, "rb"))` sends: no Content-Type.
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F'];
        assert_eq!(decode_upload(None, &jpeg, LIMIT).unwrap(), jpeg);
        assert_eq!(decode_upload(None, PNG_MAGIC, LIMIT).unwrap(), PNG_MAGIC);
        assert_eq!(
            decode_upload(Some("text/plain"), PNG_MAGIC, LIMIT).unwrap(),
            PNG_MAGIC
        );
        // Base64 text of an image is still decoded, and unknown binary is still an error.
        assert_eq!(
            decode_upload(None, b64(PNG_MAGIC).as_bytes(), LIMIT).unwrap(),
            PNG_MAGIC
        );
        assert!(matches!(
            decode_upload(None, &[0x00, 0x89, 0x50], LIMIT),
            Err(BodyError::BadEncoding(_))
        ));
    }

    #[test]
    fn base64_text_with_or_without_type_and_line_breaks() {
        let text = b64(PNG_MAGIC);
        let wrapped = format!("{}\n{}\n", &text[..8], &text[8..]);
        assert_eq!(
            decode_upload(None, text.as_bytes(), LIMIT).unwrap(),
            PNG_MAGIC
        );
        assert_eq!(
            decode_upload(Some("text/plain; charset=utf-8"), wrapped.as_bytes(), LIMIT).unwrap(),
            PNG_MAGIC
        );
        let unpadded = text.trim_end_matches('=');
        assert_eq!(
            decode_upload(None, unpadded.as_bytes(), LIMIT).unwrap(),
            PNG_MAGIC
        );
    }

    #[test]
    fn data_url_and_json_forms() {
        let url = format!("data:image/png;base64,{}", b64(PNG_MAGIC));
        assert_eq!(
            decode_upload(Some("text/plain"), url.as_bytes(), LIMIT).unwrap(),
            PNG_MAGIC
        );
        let json = serde_json::json!({ "data": url }).to_string();
        assert_eq!(
            decode_upload(Some("application/json"), json.as_bytes(), LIMIT).unwrap(),
            PNG_MAGIC
        );
        let json = serde_json::json!({ "data": b64(PNG_MAGIC) }).to_string();
        assert_eq!(
            decode_upload(Some("application/json"), json.as_bytes(), LIMIT).unwrap(),
            PNG_MAGIC
        );
    }

    #[test]
    fn garbage_is_bad_encoding() {
        assert!(matches!(
            decode_upload(Some("text/plain"), b"not base64 at all!", LIMIT),
            Err(BodyError::BadEncoding(_))
        ));
        assert!(matches!(
            decode_upload(None, b"abc$%", LIMIT),
            Err(BodyError::BadEncoding(_))
        ));
        assert!(matches!(
            decode_upload(Some("application/json"), b"{\"x\":1}", LIMIT),
            Err(BodyError::BadEncoding(_))
        ));
        assert!(matches!(
            decode_upload(Some("application/json"), b"{", LIMIT),
            Err(BodyError::BadEncoding(_))
        ));
        assert!(matches!(
            decode_upload(None, b"data:image/png,abc", LIMIT),
            Err(BodyError::BadEncoding(_))
        ));
        assert_eq!(decode_upload(None, b"", LIMIT), Err(BodyError::Empty));
    }

    #[test]
    fn multipart_file_part() {
        let mut body = Vec::new();
        body.extend_from_slice(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n",
        );
        body.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n");
        body.extend_from_slice(PNG_MAGIC);
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        let got = decode_upload(Some("multipart/form-data; boundary=XyZ"), &body, LIMIT).unwrap();
        assert_eq!(got, PNG_MAGIC);
        let got =
            decode_upload(Some("multipart/form-data; boundary=\"XyZ\""), &body, LIMIT).unwrap();
        assert_eq!(got, PNG_MAGIC);
    }

    #[test]
    fn multipart_wrong_or_missing_boundary_is_bad_encoding() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc\r\n--XyZ--\r\n";
        for ct in [
            "multipart/form-data",
            "multipart/form-data; boundary=other",
            "multipart/form-data; boundary=",
        ] {
            assert!(
                matches!(
                    decode_upload(Some(ct), body, LIMIT),
                    Err(BodyError::BadEncoding(_))
                ),
                "{ct}"
            );
        }
        let no_file =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nabc\r\n--XyZ--\r\n";
        assert!(matches!(
            decode_upload(Some("multipart/form-data; boundary=XyZ"), no_file, LIMIT),
            Err(BodyError::BadEncoding(_))
        ));
        let truncated =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc";
        assert!(matches!(
            decode_upload(Some("multipart/form-data; boundary=XyZ"), truncated, LIMIT),
            Err(BodyError::BadEncoding(_))
        ));
    }

    #[test]
    fn over_the_limit_before_and_after_decoding() {
        let big = vec![0xffu8; 100];
        assert_eq!(
            decode_upload(Some("image/jpeg"), &big, 99),
            Err(BodyError::TooLarge {
                bytes: 100,
                limit: 99
            })
        );
        let text = b64(&vec![0u8; 3000]);
        assert!(matches!(
            decode_upload(None, text.as_bytes(), 1000),
            Err(BodyError::TooLarge { .. })
        ));
    }
}
