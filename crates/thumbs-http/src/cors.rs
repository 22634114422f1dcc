//! CORS on the functions' own responses.
//!
//! With a Lambda proxy integration API Gateway answers only the preflight (`OPTIONS`) itself; the
//! response to the real request is the function's, so the function must carry
//! `Access-Control-Allow-Origin` or a browser on another origin cannot read it ("CORS on REST
//! APIs", https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-cors.html). Every
//! response of upload and serve, errors included, goes through [`apply`].

use lambda_http::http::{HeaderValue, Response, header};

/// The response headers a page on another origin may read besides the CORS-safelisted ones:
/// `Location` (where `POST /images` put the image) and `ETag` (thumbnail revalidation).
pub const EXPOSE_HEADERS: &str = "Location, ETag";

/// Adds `Access-Control-Allow-Origin: <allow_origin>` and `Access-Control-Expose-Headers` to
/// `response`. `None` (no `CORS_ALLOW_ORIGIN` configured) leaves it as it is.
///
/// The headers go on every response whether or not the request had an `Origin` header: the value
/// does not depend on the request, so a cache never serves a copy without them to a browser.
pub fn apply<B>(allow_origin: Option<&str>, response: &mut Response<B>) {
    let Some(origin) = allow_origin.and_then(|o| HeaderValue::from_str(o).ok()) else {
        return;
    };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    if allow_origin != Some("*") {
        // One named origin: say so to shared caches, as the Fetch standard asks of servers whose
        // Access-Control-Allow-Origin is not "*".
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;

    #[test]
    fn adds_origin_and_exposed_headers() {
        let mut response = Response::new(Body::Empty);
        apply(Some("*"), &mut response);
        let h = response.headers();
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(h[header::ACCESS_CONTROL_EXPOSE_HEADERS], "Location, ETag");
        assert!(h.get(header::VARY).is_none());

        let mut response = Response::new(Body::Empty);
        apply(Some("https://app.example"), &mut response);
        let h = response.headers();
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example"
        );
        assert_eq!(h[header::VARY], "Origin");
    }

    #[test]
    fn none_adds_nothing() {
        let mut response = Response::new(Body::Empty);
        apply(None, &mut response);
        assert!(response.headers().is_empty());
    }
}
