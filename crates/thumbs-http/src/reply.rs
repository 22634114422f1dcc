//! The success answers of the HTTP functions, so that their statuses live here beside the
//! error statuses (`error.rs`) and the handlers name what they answer instead of a status.

use lambda_http::http::{HeaderMap, StatusCode, header};
use lambda_http::{Body, Response};
use thumbs_core::encode::OutputFormat;

/// `Cache-Control` of every thumbnail: its bytes never change for an id (ids are
/// content-addressed or random and never reused), so any cache may keep it for a year.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn json(status: StatusCode, body: &serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::Text(body.to_string()))
        .expect("valid status and headers")
}

/// 200 with a JSON body.
pub fn json_ok(body: &serde_json::Value) -> Response<Body> {
    json(StatusCode::OK, body)
}

/// 201 with a JSON body: the request created the resource.
pub fn json_created(body: &serde_json::Value) -> Response<Body> {
    json(StatusCode::CREATED, body)
}

/// 204: done, nothing to say.
pub fn no_content() -> Response<Body> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .expect("static response")
}

/// 200 with an HTML page.
pub fn html_page(html: &str, cache_control: &'static str) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, cache_control)
        .body(Body::Text(html.to_owned()))
        .expect("valid response")
}

/// How a thumbnail is answered: its format, whether the URL was the negotiated one, and the
/// request's headers (`If-None-Match` is read once, when the ETag is known).
pub struct ImageReply<'a> {
    pub format: OutputFormat,
    pub negotiated: bool,
    pub if_none_match: &'a HeaderMap,
}

impl ImageReply<'_> {
    /// 200 with the image (or headers only for HEAD: `body` None), or 304 when
    /// `If-None-Match` has our ETag. A negotiated answer carries `Vary: Accept` either way (a
    /// cache must not hand this body to a client with another Accept), and the ETag of the
    /// variant it is, so two formats of one thumbnail never share an ETag.
    pub fn image(&self, etag: Option<String>, len: u64, body: Option<Vec<u8>>) -> Response<Body> {
        let etag = etag.unwrap_or_else(|| format!("\"thumbs-{}\"", self.format.name()));
        let mut builder = Response::builder()
            .header(header::ETAG, &etag)
            .header(header::CACHE_CONTROL, IMMUTABLE)
            // The type of the representation: on a 304 without it API Gateway would label the
            // empty answer `application/json`, its default for a proxy response with no type.
            .header(header::CONTENT_TYPE, self.format.mime());
        if self.negotiated {
            builder = builder.header(header::VARY, "Accept");
        }
        if if_none_match(self.if_none_match, &etag) {
            return builder
                .status(StatusCode::NOT_MODIFIED)
                .body(Body::Empty)
                .expect("valid response");
        }
        builder = builder
            .status(StatusCode::OK)
            .header(header::CONTENT_LENGTH, len);
        let body = match body {
            Some(bytes) => Body::Binary(bytes),
            None => Body::Empty,
        };
        builder.body(body).expect("valid response")
    }
}

/// RFC 9110 13.1.2: weak comparison; `*` matches any current representation.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    let ours = etag.trim_start_matches("W/");
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|value| {
            value
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
        })
}
