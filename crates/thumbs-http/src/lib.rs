//! thumbs-http: the HTTP side the upload and serve functions share.
//!
//! - [`ApiError`] (`error.rs`): the one place error kinds become HTTP statuses, and the named
//!   constructors handlers build their own errors with.
//! - [`error_response`]: the one conversion of an [`ApiError`] to an HTTP response
//!   (`{"error":{"code","message"}}`, `Retry-After` on 503).
//! - [`reply`]: the success answers (JSON 200/201, 204, the HTML page, a thumbnail with its
//!   ETag, 304 and `Vary`), so statuses are chosen here and nowhere else.
//! - [`public_base`] and [`thumbnail_urls`]: the URLs a reply hands to clients, with the API
//!   Gateway stage prefix when the request came through the default `execute-api` host.
//!
//! - [`accept`]: `Accept` → the format of a negotiated thumbnail URL.
//!
//! - [`cors`]: the CORS headers on every response of the HTTP functions.
//!
//! No image logic and no S3 calls here: only translation between core and store types and HTTP.

pub mod accept;
pub mod cors;
pub mod error;
pub mod reply;

pub use error::ApiError;

use lambda_http::http::header;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use thumbs_core::config::ThumbnailSize;
use thumbs_core::encode::OutputFormat;
use thumbs_core::id::ImageId;

/// `{"error":{"code","message"}}` with the error's status, plus `Retry-After` on 503.
pub fn error_response(err: &ApiError) -> Response<Body> {
    if err.status().is_server_error() {
        tracing::warn!(
            status = err.status().as_u16(),
            code = err.code,
            "{}",
            err.message
        );
    }
    let mut builder = Response::builder()
        .status(err.status())
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(seconds) = err.retry_after {
        builder = builder.header(header::RETRY_AFTER, seconds);
    }
    builder
        .body(Body::Text(err.to_json()))
        .expect("valid status and headers")
}

/// The path prefix public URLs need: `/{stage}` when the request came through API Gateway's
/// default `*.execute-api.*.amazonaws.com` host (whose URLs include the stage), empty
/// otherwise (custom domains, thumbs-local, in-process calls).
pub fn public_base(req: &Request) -> String {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !host.contains(".execute-api.") {
        return String::new();
    }
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => match ctx.stage.as_deref() {
            Some(stage) if !stage.is_empty() && stage != "$default" => format!("/{stage}"),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// `{base}/images/{id}/{size}.{ext}` for a format, `{base}/images/{id}/{size}` (negotiated from
/// the request's Accept) for `None`: the one place a thumbnail URL is spelled.
fn thumbnail_url(
    base: &str,
    id: &ImageId,
    size: &ThumbnailSize,
    format: Option<OutputFormat>,
) -> String {
    match format {
        Some(format) => format!("{base}/images/{id}/{size}.{}", format.extension()),
        None => format!("{base}/images/{id}/{size}"),
    }
}

/// Size → URL of each thumbnail (`{base}/images/{id}/{size}.jpg`), as upload and status replies
/// list them.
pub fn thumbnail_urls(
    base: &str,
    id: &ImageId,
    sizes: &[ThumbnailSize],
) -> serde_json::Map<String, serde_json::Value> {
    sizes
        .iter()
        .map(|size| {
            let url = thumbnail_url(base, id, size, Some(OutputFormat::Jpeg));
            (size.to_string(), url.into())
        })
        .collect()
}

/// Size → `{"jpeg", "webp", "avif": {base}/images/{id}/{size}.{ext}, "negotiated":
/// {base}/images/{id}/{size}}` (the negotiated URL picks the format from the request's Accept).
pub fn variant_urls(
    base: &str,
    id: &ImageId,
    sizes: &[ThumbnailSize],
) -> serde_json::Map<String, serde_json::Value> {
    sizes
        .iter()
        .map(|size| {
            let mut urls: serde_json::Map<String, serde_json::Value> = OutputFormat::ALL
                .into_iter()
                .map(|format| {
                    let url = thumbnail_url(base, id, size, Some(format));
                    (format.name().to_owned(), url.into())
                })
                .collect();
            let negotiated = thumbnail_url(base, id, size, None);
            urls.insert("negotiated".to_owned(), negotiated.into());
            (size.to_string(), urls.into())
        })
        .collect()
}
