//! The API Gateway emulator: a hyper service that behaves like a REST API with Lambda proxy
//! integrations, as configured by the template.
//!
//! Per request, in API Gateway's order: body size (10 MB REST payload limit → 413) → route
//! (unknown path or method → 403 `Missing Authentication Token`; CORS preflight answered here when
//! the API declares `Cors`) → API key (`ApiKeyRequired`, `x-api-key`, constant-time compare →
//! 403 `Forbidden`) → proxy event JSON ([`crate::proxy_event`], rule 1) → Lambda payload limit
//! (6 MB → 413) → the function, bounded by the integration timeout (29 s → 504) and its own
//! `Timeout` (→ 502) → the proxy response JSON (malformed or > 6 MB → 502) → rule 2: a base64
//! body is decoded only when `Accept`'s first type matches `binaryMediaTypes`. One access-log
//! line per request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::functions::{FunctionError, HttpFunction};
use crate::gateway_response::{self, GatewayError};
use crate::proxy_event::{self, BodyEncoding, IncomingRequest, Target};
use crate::routes::{Lookup, Routes};
use crate::template::{ApiSettings, Template};

/// REST API payload limit (AWS quotas: "Payload size 10 MB").
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;
/// Lambda synchronous invocation payload limit, each way (6 MB).
pub const MAX_LAMBDA_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
/// REST API default integration timeout.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);
/// How long an over-limit body is still read (and dropped) so the client sees the 413.
const MAX_DRAIN_BYTES: usize = 256 * 1024 * 1024;

/// A function behind one or more routes.
#[derive(Clone)]
pub struct FunctionEntry {
    pub function: Arc<dyn HttpFunction>,
    /// The function's own `Timeout`; when shorter than the integration timeout, Lambda gives up
    /// first and API Gateway answers 502.
    pub timeout: Option<Duration>,
}

/// Everything the gateway needs, built once at start-up.
pub struct Gateway {
    api: ApiSettings,
    routes: Routes,
    functions: HashMap<String, FunctionEntry>,
    api_key: Option<String>,
    integration_timeout: Duration,
    api_id: String,
}

impl Gateway {
    /// `functions`: logical id → implementation. Routes to functions missing here answer 502
    /// (logged), like an integration pointing at nothing.
    pub fn new(
        template: &Template,
        functions: HashMap<String, FunctionEntry>,
        api_key: Option<String>,
    ) -> Gateway {
        Gateway {
            api: template.api.clone(),
            routes: Routes::from_template(template),
            functions,
            api_key,
            integration_timeout: INTEGRATION_TIMEOUT,
            api_id: "local".to_owned(),
        }
    }

    /// Replaces the 29 s integration timeout (tests).
    pub fn with_integration_timeout(mut self, timeout: Duration) -> Gateway {
        self.integration_timeout = timeout;
        self
    }

    pub fn api(&self) -> &ApiSettings {
        &self.api
    }

    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    /// Serves connections from `listener` until `shutdown` turns true; in-flight requests finish.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stopped(&mut shutdown) => break,
            };
            let (stream, remote) = match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let gateway = Arc::clone(&self);
            let mut stop = shutdown.clone();
            connections.spawn(async move {
                let service = service_fn(move |request| {
                    let gateway = Arc::clone(&gateway);
                    async move {
                        Ok::<_, std::convert::Infallible>(gateway.handle(request, remote).await)
                    }
                });
                let connection =
                    http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                let mut connection = std::pin::pin!(connection);
                tokio::select! {
                    _ = connection.as_mut() => {}
                    _ = stopped(&mut stop) => {
                        connection.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(Duration::from_secs(5), connection).await;
                    }
                }
            });
            while connections.try_join_next().is_some() {}
        }
        while connections.join_next().await.is_some() {}
    }

    /// One request, start to finish, with its access-log line.
    pub async fn handle(
        &self,
        request: Request<Incoming>,
        remote: SocketAddr,
    ) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let request_id = request_id();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let mut outcome = self.respond(request, remote, &request_id).await;
        let headers = outcome.response.headers_mut();
        insert(headers, "x-amzn-RequestId", &request_id);
        let hex: String = request_id.chars().filter(|c| *c != '-').collect();
        insert(headers, "x-amz-apigw-id", &hex[..16]);
        insert(
            headers,
            "X-Amzn-Trace-Id",
            &format!("Root=1-{}-{}", &hex[..8], &hex[8..]),
        );
        let status = outcome.response.status().as_u16();
        let bytes = outcome.response.body().size_hint().exact().unwrap_or(0);
        let ms = started.elapsed().as_millis();
        tracing::info!(
            target: "thumbs_local::access",
            function = outcome.function.unwrap_or("-"),
            request_id,
            "{method} {path} {status} {bytes}B {ms}ms"
        );
        outcome.response
    }

    async fn respond(
        &self,
        request: Request<Incoming>,
        remote: SocketAddr,
        request_id: &str,
    ) -> Outcome<'_> {
        let (parts, body) = request.into_parts();
        let body = match read_body(body, &parts.headers).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                tracing::warn!(
                    request_id,
                    limit = MAX_REQUEST_BYTES,
                    "request body over the REST API payload limit (10 MB)"
                );
                return self.gateway_error(GatewayError::RequestTooLarge, request_id);
            }
            Err(BodyError::Broken(err)) => {
                // The client's fault (a body shorter than its Content-Length, broken chunked
                // framing): AWS's HTTP front end answers 400 before API Gateway runs.
                tracing::warn!(request_id, %err, "reading the request body failed: 400");
                let body = serde_json::json!({
                    "error": { "code": "bad_request", "message": format!("request body: {err}") }
                });
                let mut response = Response::builder().status(StatusCode::BAD_REQUEST);
                let headers = response.headers_mut().expect("fresh builder");
                insert(headers, "content-type", "application/json");
                insert(headers, "connection", "close");
                return Outcome {
                    response: response
                        .body(Full::new(Bytes::from(body.to_string())))
                        .expect("valid response"),
                    function: None,
                };
            }
        };

        // The API is served both at the root and under /{stage}/ (the execute-api URL shape).
        let raw_path = parts.uri.path();
        let stage_prefix = format!("/{}", self.api.stage);
        let path = match raw_path.strip_prefix(&stage_prefix) {
            Some("") => "/",
            Some(rest) if rest.starts_with('/') => rest,
            _ => raw_path,
        };

        let found = match self.routes.lookup(parts.method.as_str(), path) {
            Lookup::Found(found) => found,
            Lookup::NoMethod { methods, .. }
                if parts.method == Method::OPTIONS && self.api.cors.is_some() =>
            {
                return self.preflight(&parts.headers, &methods, request_id);
            }
            Lookup::NoMethod { resource, .. } => {
                tracing::info!(request_id, method = %parts.method, resource, "no such method on the resource: REST APIs answer 403 Missing Authentication Token");
                return self.gateway_error(GatewayError::MissingAuthenticationToken, request_id);
            }
            Lookup::NoResource => {
                return self.gateway_error(GatewayError::MissingAuthenticationToken, request_id);
            }
        };
        let route = found.route;
        let function_name = Some(route.function.as_str());

        let api_key = header(&parts.headers, "x-api-key");
        if route.api_key_required && !self.key_matches(api_key) {
            tracing::info!(request_id, resource = %route.resource, "ApiKeyRequired and x-api-key is missing or wrong");
            return self.gateway_error(GatewayError::InvalidApiKey, request_id);
        }

        let incoming = IncomingRequest {
            method: parts.method.as_str(),
            path,
            query: parts.uri.query(),
            headers: &parts.headers,
            body: &body,
            source_ip: remote.ip(),
        };
        let target = Target {
            resource: &route.resource,
            path_parameters: &found.path_parameters,
            stage: &self.api.stage,
            api_id: &self.api_id,
            request_id,
            api_key: if route.api_key_required {
                api_key
            } else {
                None
            },
        };
        let (event, encoding) =
            proxy_event::build(&incoming, &target, &self.api.binary_media_types);
        if encoding == BodyEncoding::TextLossy {
            tracing::warn!(
                request_id,
                content_type = header(&parts.headers, "content-type")
                    .unwrap_or(proxy_event::DEFAULT_CONTENT_TYPE),
                "request body is not UTF-8 and its Content-Type matches no binaryMediaTypes entry: API Gateway passes it as text, so invalid bytes were replaced (add the type to BinaryMediaTypes to receive it base64-encoded)"
            );
        }
        let event_bytes = serde_json::to_vec(&event)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if event_bytes > MAX_LAMBDA_PAYLOAD_BYTES {
            tracing::warn!(
                request_id,
                event_bytes,
                limit = MAX_LAMBDA_PAYLOAD_BYTES,
                "event over Lambda's 6 MB synchronous payload limit (binary bodies grow by 4/3 in base64)"
            );
            let mut outcome = self.gateway_error(GatewayError::RequestTooLarge, request_id);
            outcome.function = function_name;
            return outcome;
        }

        let Some(entry) = self.functions.get(&route.function) else {
            tracing::error!(request_id, function = %route.function, "route points at a function this stack does not run");
            return self.gateway_error(GatewayError::InternalServerError, request_id);
        };
        let reply = match self.invoke(entry, event, request_id).await {
            Ok(reply) => reply,
            Err(error) => {
                let mut outcome = self.gateway_error(error, request_id);
                outcome.function = function_name;
                return outcome;
            }
        };
        let accept = header(&parts.headers, "accept");
        let is_head = parts.method == Method::HEAD;
        let response = match self.proxy_response(reply, accept, is_head, request_id) {
            Ok(response) => response,
            Err(error) => self.gateway_error(error, request_id).response,
        };
        Outcome {
            response,
            function: function_name,
        }
    }

    /// Runs the function under Lambda's and API Gateway's clocks; a panic is a crash (502).
    async fn invoke(
        &self,
        entry: &FunctionEntry,
        event: Value,
        request_id: &str,
    ) -> Result<Value, GatewayError> {
        let function = Arc::clone(&entry.function);
        let task = tokio::spawn(async move { function.invoke(event).await });
        let abort = task.abort_handle();
        let lambda_timeout = entry.timeout.unwrap_or(Duration::MAX);
        let (deadline, on_timeout) = if lambda_timeout < self.integration_timeout {
            (lambda_timeout, GatewayError::InternalServerError)
        } else {
            (self.integration_timeout, GatewayError::IntegrationTimeout)
        };
        let result = match tokio::time::timeout(deadline, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(FunctionError::new(
                "Runtime.ExitError",
                format!("the function crashed: {join}"),
            )),
            Err(_) => {
                abort.abort();
                if on_timeout == GatewayError::IntegrationTimeout {
                    tracing::warn!(
                        request_id,
                        timeout_s = deadline.as_secs_f32(),
                        "integration timeout: API Gateway answers 504 (the function may still be running on AWS)"
                    );
                } else {
                    tracing::warn!(
                        request_id,
                        timeout_s = deadline.as_secs_f32(),
                        "Task timed out (the function's Timeout): API Gateway answers 502"
                    );
                }
                return Err(on_timeout);
            }
        };
        result.map_err(|err| {
            tracing::error!(request_id, error_type = %err.error_type, message = %err.message, "function failed: API Gateway answers 502");
            GatewayError::InternalServerError
        })
    }

    /// Turns the proxy response JSON into the HTTP response, applying rule 2.
    fn proxy_response(
        &self,
        reply: Value,
        accept: Option<&str>,
        is_head: bool,
        request_id: &str,
    ) -> Result<Response<Full<Bytes>>, GatewayError> {
        let reply_bytes = serde_json::to_vec(&reply)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
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
        let Value::Object(reply) = reply else {
            return Err(malformed("not a JSON object"));
        };
        let status = reply
            .get("statusCode")
            .and_then(|s| {
                s.as_u64()
                    .or_else(|| s.as_str().and_then(|s| s.parse().ok()))
            })
            .and_then(|s| u16::try_from(s).ok())
            .and_then(|s| StatusCode::from_u16(s).ok())
            .ok_or_else(|| malformed("statusCode missing or not a status"))?;
        let is_base64 = reply
            .get("isBase64Encoded")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let body = match reply.get("body") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(body)) => body.clone(),
            Some(_) => return Err(malformed("body is not a string")),
        };

        let mut builder = Response::builder().status(status);
        let headers = builder.headers_mut().expect("fresh builder");
        if let Some(Value::Object(multi)) = reply.get("multiValueHeaders") {
            for (name, values) in multi {
                for value in values.as_array().into_iter().flatten() {
                    append(headers, name, &scalar_text(value));
                }
            }
        }
        if let Some(Value::Object(single)) = reply.get("headers") {
            for (name, value) in single {
                let value = scalar_text(value);
                let already = headers
                    .get_all(name.as_str())
                    .iter()
                    .any(|v| v.as_bytes() == value.as_bytes());
                if !already {
                    append(headers, name, &value);
                }
            }
        }
        if !headers.contains_key(http::header::CONTENT_TYPE) {
            // API Gateway's default for REST API responses without a Content-Type.
            insert(headers, "content-type", "application/json");
        }

        let bytes = if is_base64 {
            // Rule 2: API Gateway uses the FIRST media type of Accept to decide.
            let accept_value = accept.unwrap_or(proxy_event::DEFAULT_CONTENT_TYPE);
            if self.api.binary_media_types.matches_accept(accept_value) {
                BASE64
                    .decode(body.trim())
                    .map_err(|_| malformed("isBase64Encoded is true but the body is not base64"))?
            } else {
                tracing::warn!(
                    request_id,
                    accept = accept_value,
                    first_type = crate::binary::first_accept_type(accept_value).unwrap_or(""),
                    binary_media_types = ?self.api.binary_media_types.entries(),
                    "response was base64 but Accept's first media type matches no binary media type, so the client gets the base64 text (as on AWS); fix: add it to the API's BinaryMediaTypes in template.yaml (\"*~1*\" matches every Accept, incl. browsers' image/avif,... and curl's */*)"
                );
                body.into_bytes()
            }
        } else {
            body.into_bytes()
        };
        // The gateway sends its own framing: the function's Content-Length describes the body it
        // returned (binary), not necessarily the one sent (base64 text when Accept did not match).
        // A HEAD answer has no body, so there the function's length (of the GET body) stays.
        let headers = builder.headers_mut().expect("fresh builder");
        if !(is_head && bytes.is_empty()) {
            headers.remove(http::header::CONTENT_LENGTH);
        }
        for hop_by_hop in [http::header::TRANSFER_ENCODING, http::header::CONNECTION] {
            headers.remove(hop_by_hop);
        }
        builder
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|_| malformed("invalid header in the response"))
    }

    /// SAM's CORS preflight: a MOCK OPTIONS method on every resource when the API has `Cors`.
    fn preflight(&self, headers: &HeaderMap, methods: &[&str], request_id: &str) -> Outcome<'_> {
        let cors = self.api.cors.as_ref().expect("checked by the caller");
        if self.api.api_key_required
            && self.api.api_key_on_preflight
            && !self.key_matches(header(headers, "x-api-key"))
        {
            return self.gateway_error(GatewayError::InvalidApiKey, request_id);
        }
        let allow_methods = cors.allow_methods.clone().unwrap_or_else(|| {
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
        });
        let mut response = Response::builder().status(StatusCode::OK);
        let out = response.headers_mut().expect("fresh builder");
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
            response: response
                .body(Full::new(Bytes::new()))
                .expect("valid response"),
            function: None,
        }
    }

    fn key_matches(&self, given: Option<&str>) -> bool {
        match (&self.api_key, given) {
            (Some(expected), Some(given)) => {
                constant_time_eq(expected.as_bytes(), given.as_bytes())
            }
            _ => false,
        }
    }

    fn gateway_error(&self, error: GatewayError, request_id: &str) -> Outcome<'_> {
        let rendered = gateway_response::render(error, &self.api, request_id);
        let mut response = Response::builder().status(rendered.status);
        let headers = response.headers_mut().expect("fresh builder");
        for (name, value) in &rendered.headers {
            insert(headers, name, value);
        }
        let response = response
            .body(Full::new(Bytes::from(rendered.body)))
            .unwrap_or_else(|_| {
                Response::new(Full::new(Bytes::from_static(
                    b"{\"message\":\"Internal server error\"}",
                )))
            });
        Outcome {
            response,
            function: None,
        }
    }
}

struct Outcome<'a> {
    response: Response<Full<Bytes>>,
    function: Option<&'a str>,
}

enum BodyError {
    TooLarge,
    Broken(hyper::Error),
}

/// Reads the body up to the 10 MB limit. Past it, keeps reading (and dropping) a while so the
/// client gets the 413 instead of a reset connection.
async fn read_body(mut body: Incoming, headers: &HeaderMap) -> Result<Bytes, BodyError> {
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

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn insert(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
        headers.insert(name, value);
    }
}

fn append(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
        headers.append(name, value);
    }
}

/// Resolves once `stop` is true (or its sender is gone), holding no borrow of the value.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Compares without an early exit, so response time does not leak how much of a key matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | u8::from(a.len() != b.len());
    for (index, byte) in a.iter().enumerate() {
        diff |= byte ^ b.get(index % b.len().max(1)).copied().unwrap_or(0);
    }
    diff == 0
}

/// A request id in the UUID form API Gateway uses.
fn request_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        bytes = nanos.to_le_bytes();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_is_eq() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"secret", b""));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn request_ids_look_like_uuids() {
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
    }
}
