//! SAM's CORS preflight: a MOCK `OPTIONS` method on every resource when the API has `Cors`.
//! The functions add the CORS headers to their own responses (thumbs-http's `cors`).

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use http_body_util::Full;

use super::pipeline::{Outcome, Source};
use super::{Gateway, header, insert};
use crate::gateway_response::GatewayError;

impl Gateway {
    pub(super) fn preflight(
        &self,
        headers: &HeaderMap,
        methods: &[&str],
        request_id: &str,
    ) -> Outcome<'_> {
        let cors = self.api.cors.as_ref().expect("checked by the caller");
        if self.api.api_key_required
            && self.api.api_key_on_preflight
            && !self.key_matches(header(headers, "x-api-key"))
        {
            return self.gateway_error(GatewayError::InvalidApiKey, request_id);
        }
        let allow_methods = cors
            .allow_methods
            .clone()
            .unwrap_or_else(|| methods_of(methods));
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::OK;
        let out = response.headers_mut();
        insert(out, "content-type", "application/json");
        insert(out, "access-control-allow-origin", &cors.allow_origin);
        insert(out, "access-control-allow-methods", &allow_methods);
        if let Some(allow_headers) = &cors.allow_headers {
            insert(out, "access-control-allow-headers", allow_headers);
        }
        if let Some(max_age) = &cors.max_age {
            insert(out, "access-control-max-age", max_age);
        }
        if cors.allow_credentials {
            insert(out, "access-control-allow-credentials", "true");
        }
        Outcome {
            response,
            function: None,
            source: Source::Gateway,
        }
    }
}

/// SAM's default `AllowMethods`: the resource's methods (`ANY` expanded) and `OPTIONS`.
fn methods_of(methods: &[&str]) -> String {
    let mut list: Vec<&str> = Vec::new();
    for method in methods {
        let expanded: &[&str] = if *method == "ANY" {
            &["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
        } else {
            std::slice::from_ref(method)
        };
        for m in expanded {
            if !list.contains(m) {
                list.push(m);
            }
        }
    }
    if !list.contains(&"OPTIONS") {
        list.push("OPTIONS");
    }
    list.join(",")
}
