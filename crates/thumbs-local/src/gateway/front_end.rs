//! What AWS's HTTP front end answers before API Gateway's own pipeline runs: no request id, no
//! `x-amzn-*` headers, no gateway-response override from the template (so no CORS headers).

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

use super::{MAX_REQUEST_BYTES, header, insert};

/// API Gateway's quota on "total combined size of request line and header values" (REST APIs,
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
pub const MAX_REQUEST_LINE_AND_HEADERS_BYTES: usize = 10_240;
/// How long an over-limit body is still read (and dropped) so the client sees the 413.
const MAX_DRAIN_BYTES: usize = 256 * 1024 * 1024;
/// The 413 for a body over 10 MB, word for word as AWS sends it (recorded in
/// https://github.com/koki-develop/lgtm-generator/issues/10).
pub(super) const BODY_TOO_LARGE_TEXT: &str = "HTTP content length exceeded 10485760 bytes.";

pub(super) enum BodyError {
    TooLarge,
    Broken(hyper::Error),
}

/// Reads the body up to the 10 MB limit. Past it, keeps reading (and dropping) a while so the
/// client gets the 413 instead of a reset connection.
pub(super) async fn read_body(mut body: Incoming, headers: &HeaderMap) -> Result<Bytes, BodyError> {
    let declared = header(headers, "content-length").and_then(|v| v.parse::<usize>().ok());
    let mut buffer = Vec::with_capacity(declared.unwrap_or(0).min(MAX_REQUEST_BYTES));
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Broken)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len();
        if total <= MAX_REQUEST_BYTES {
            buffer.extend_from_slice(&data);
        } else if total > MAX_DRAIN_BYTES {
            break;
        }
    }
    if total > MAX_REQUEST_BYTES {
        return Err(BodyError::TooLarge);
    }
    Ok(Bytes::from(buffer))
}

/// Body over 10 MB: AWS's front end answers in plain text, before API Gateway (so the template's
/// REQUEST_TOO_LARGE override does not apply).
pub(super) fn body_too_large() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(
        BODY_TOO_LARGE_TEXT.as_bytes(),
    )));
    *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    let headers = response.headers_mut();
    insert(headers, "content-type", "text; charset=utf-8");
    insert(headers, "connection", "close");
    response
}

/// A body shorter than its Content-Length, broken chunked framing: the client's fault.
pub(super) fn broken_body(err: &hyper::Error) -> Response<Full<Bytes>> {
    json_error(
        StatusCode::BAD_REQUEST,
        "bad_request",
        &format!("request body: {err}"),
    )
}

/// The 10,240-byte quota on the request line and header values: 414 when the request line alone
/// is over it, else 431. What AWS itself answers is not documented (docs/emulator.md).
pub(super) fn head_over_quota(parts: &Parts) -> Option<Response<Full<Bytes>>> {
    let target = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path(), |p| p.as_str());
    let version = "HTTP/1.1";
    let request_line = parts.method.as_str().len() + 1 + target.len() + 1 + version.len();
    let values: usize = parts.headers.values().map(|v| v.len()).sum();
    if request_line > MAX_REQUEST_LINE_AND_HEADERS_BYTES {
        return Some(json_error(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            &format!(
                "the request line is {request_line} bytes; API Gateway allows {MAX_REQUEST_LINE_AND_HEADERS_BYTES} bytes for the request line and header values together"
            ),
        ));
    }
    let total = request_line + values;
    (total > MAX_REQUEST_LINE_AND_HEADERS_BYTES).then(|| {
        json_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            &format!(
                "the request line and header values are {total} bytes; API Gateway allows {MAX_REQUEST_LINE_AND_HEADERS_BYTES}"
            ),
        )
    })
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    insert(headers, "content-type", "application/json");
    insert(headers, "connection", "close");
    response
}

/// hyper's own answer to a head it could not parse (`HTTP/1.1 400|414|431 ...` with an empty
/// body), rewritten with the JSON error body; `None` for anything else.
pub(super) fn rewrite_parse_error(written: &[u8]) -> Option<Vec<u8>> {
    let status_line = written.split(|&b| b == b'\n').next()?;
    let (status, code, message) = if status_line.starts_with(b"HTTP/1.1 431 ") {
        (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!(
                "the request head is too large; API Gateway allows {MAX_REQUEST_LINE_AND_HEADERS_BYTES} bytes for the request line and header values together"
            ),
        )
    } else if status_line.starts_with(b"HTTP/1.1 414 ") {
        (
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!(
                "the request URI is too long; API Gateway allows {MAX_REQUEST_LINE_AND_HEADERS_BYTES} bytes for the request line and header values together"
            ),
        )
    } else if status_line.starts_with(b"HTTP/1.1 400 ") {
        (
            StatusCode::BAD_REQUEST,
            "bad_request",
            "malformed HTTP request".to_owned(),
        )
    } else {
        return None;
    };
    let head = String::from_utf8_lossy(written).to_ascii_lowercase();
    if !head.contains("content-length: 0\r\n") {
        return None;
    }
    let body = serde_json::json!({ "error": { "code": code, "message": message } }).to_string();
    let reason = status.canonical_reason().unwrap_or("");
    Some(
        format!(
            "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            status.as_u16(),
            body.len()
        )
        .into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_bodiless_errors_become_json() {
        let hyper_431 =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let rewritten = String::from_utf8(rewrite_parse_error(hyper_431).unwrap()).unwrap();
        assert!(rewritten.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        let body = rewritten.split("\r\n\r\n").nth(1).unwrap();
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["error"]["code"], "headers_too_large");
        assert!(rewritten.contains(&format!("content-length: {}\r\n", body.len())));
        // A function's own 400 with a body, and any other status, pass through.
        assert!(
            rewrite_parse_error(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 10\r\n\r\n")
                .is_none()
        );
        assert!(rewrite_parse_error(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
    }
}
