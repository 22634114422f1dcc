//! The function's Lambda proxy response JSON → the HTTP response, as API Gateway reads it.
//!
//! Format: "Output format of a Lambda function for proxy integration"
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html).
//! What it does with responses outside that format is recorded against AWS in
//! localstack/localstack's AWS-validated test `test_aws_proxy_response_payload_format_validation`
//! (tests/aws/services/apigateway/test_apigateway_lambda.py): an unknown top-level key → 502;
//! `{}` → 502; no `statusCode` but other keys → 200; `statusCode` `"201"` → 201, `"test"` → 502;
//! a `multiValueHeaders` value that is not a list → 502. A body marked base64 that does not decode
//! when Accept asks for binary → 500 ("Execution failed due to configuration error: Unable to
//! base64 decode the body", https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings-workflow.html).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::{Map, Value};

use super::{Gateway, MAX_LAMBDA_PAYLOAD_BYTES, insert};
use crate::gateway_response::GatewayError;
use crate::proxy_event;

/// The top-level keys of a REST API proxy response.
const KNOWN_KEYS: [&str; 5] = [
    "statusCode",
    "headers",
    "multiValueHeaders",
    "body",
    "isBase64Encoded",
];

impl Gateway {
    /// Turns the proxy response JSON into the HTTP response, applying rule 2.
    pub(super) fn proxy_response(
        &self,
        reply: Value,
        accept: Option<&str>,
        is_head: bool,
        request_id: &str,
    ) -> Result<Response<Full<Bytes>>, GatewayError> {
        let reply_bytes = serde_json::to_vec(&reply).map_or(usize::MAX, |v| v.len());
        if reply_bytes > MAX_LAMBDA_PAYLOAD_BYTES {
            tracing::error!(
                request_id,
                reply_bytes,
                limit = MAX_LAMBDA_PAYLOAD_BYTES,
                "function response over Lambda's 6 MB payload limit: API Gateway answers 502"
            );
            return Err(GatewayError::InternalServerError);
        }
        let malformed = |why: &str| {
            tracing::error!(
                request_id,
                why,
                "Execution failed due to configuration error: Malformed Lambda proxy response"
            );
            GatewayError::InternalServerError
        };
        let reply = check_shape(reply).map_err(|why| malformed(&why))?;
        let status = status_code(&reply).map_err(malformed)?;
        let is_base64 = reply
            .get("isBase64Encoded")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let body = match reply.get("body") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(body)) => body.clone(),
            Some(_) => return Err(malformed("body is not a string")),
        };
        let mut headers = response_headers(&reply).map_err(malformed)?;
        if !headers.contains_key(http::header::CONTENT_TYPE) {
            // API Gateway's default for REST API responses without a Content-Type.
            insert(&mut headers, "content-type", "application/json");
        }

        let bytes = if is_base64 {
            self.decode_binary(body, accept, request_id)?
        } else {
            body.into_bytes()
        };
        // The gateway sends its own framing: the function's Content-Length describes the body it
        // returned (binary), not necessarily the one sent (base64 text when Accept did not match).
        // A HEAD answer has no body, so there the function's length (of the GET body) stays.
        if !(is_head && bytes.is_empty()) {
            headers.remove(http::header::CONTENT_LENGTH);
        }
        for hop_by_hop in [http::header::TRANSFER_ENCODING, http::header::CONNECTION] {
            headers.remove(hop_by_hop);
        }
        let mut response = Response::new(Full::new(Bytes::from(bytes)));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }

    /// Rule 2: a base64 body becomes bytes only when Accept's FIRST type is a binary media type.
    fn decode_binary(
        &self,
        body: String,
        accept: Option<&str>,
        request_id: &str,
    ) -> Result<Vec<u8>, GatewayError> {
        let accept_value = accept.unwrap_or(proxy_event::DEFAULT_CONTENT_TYPE);
        if self.api.binary_media_types.matches_accept(accept_value) {
            return BASE64.decode(body.trim()).map_err(|_| {
                tracing::error!(
                    request_id,
                    "Execution failed due to configuration error: Unable to base64 decode the body (isBase64Encoded is true): API Gateway answers 500"
                );
                GatewayError::ResponseTransformFailed
            });
        }
        tracing::warn!(
            request_id,
            accept = accept_value,
            first_type = crate::binary::first_accept_type(accept_value).unwrap_or(""),
            binary_media_types = ?self.api.binary_media_types.entries(),
            "response was base64 but Accept's first media type matches no binary media type, so the client gets the base64 text (as on AWS); fix: add it to the API's BinaryMediaTypes in template.yaml (\"*~1*\" matches every Accept, incl. browsers' image/avif,... and curl's */*)"
        );
        Ok(body.into_bytes())
    }
}

/// An object with at least one key, all of them known.
fn check_shape(reply: Value) -> Result<Map<String, Value>, String> {
    let Value::Object(reply) = reply else {
        return Err("not a JSON object".to_owned());
    };
    if reply.is_empty() {
        return Err("an empty object".to_owned());
    }
    if let Some(unknown) = reply.keys().find(|k| !KNOWN_KEYS.contains(&k.as_str())) {
        return Err(format!(
            "unknown key {unknown:?} (a REST API proxy response has only {})",
            KNOWN_KEYS.join(", ")
        ));
    }
    Ok(reply)
}

/// `statusCode`: a number or a numeric string; missing means 200.
fn status_code(reply: &Map<String, Value>) -> Result<StatusCode, &'static str> {
    let Some(value) = reply.get("statusCode") else {
        return Ok(StatusCode::OK);
    };
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or("statusCode is not a status")
}

/// `multiValueHeaders` (each value a list) merged with `headers`, as API Gateway merges them.
fn response_headers(reply: &Map<String, Value>) -> Result<HeaderMap, &'static str> {
    let mut headers = HeaderMap::new();
    match reply.get("multiValueHeaders") {
        None | Some(Value::Null) => {}
        Some(Value::Object(multi)) => {
            for (name, values) in multi {
                let Value::Array(values) = values else {
                    return Err("a multiValueHeaders value is not a list");
                };
                for value in values {
                    append(&mut headers, name, &scalar_text(value));
                }
            }
        }
        Some(_) => return Err("multiValueHeaders is not an object"),
    }
    match reply.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(single)) => {
            for (name, value) in single {
                let value = scalar_text(value);
                let already = headers
                    .get_all(name.as_str())
                    .iter()
                    .any(|v| v.as_bytes() == value.as_bytes());
                if !already {
                    append(&mut headers, name, &value);
                }
            }
        }
        Some(_) => return Err("headers is not an object"),
    }
    Ok(headers)
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn append(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
        headers.append(name, value);
    }
}
