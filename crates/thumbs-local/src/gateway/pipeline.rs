//! One request, in API Gateway's order: front end (request line + headers quota, 10 MB body) →
//! route (unknown path or method → 403 `Missing Authentication Token`; CORS preflight when the
//! API declares `Cors`) → API key (`ApiKeyRequired`, `x-api-key`, constant-time compare → 403
//! `Forbidden`) → proxy event JSON ([`crate::proxy_event`], rule 1) → Lambda payload limit
//! (6 MB → 413) → the function, bounded by the integration timeout (29 s → 504) and its own
//! `Timeout` (→ 502) → the proxy response ([`super::proxy_response`], rule 2). One access-log
//! line per request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::request::Parts;
use http::{Method, Request, Response};

use http_body_util::Full;
use hyper::body::{Body as _, Incoming};
use serde_json::Value;

use super::connection::HeadCapture;
use super::front_end::{self, BodyError};
use super::request_id::RequestIds;
use super::{FunctionEntry, Gateway, MAX_LAMBDA_PAYLOAD_BYTES, header, insert};
use crate::functions::FunctionError;
use crate::gateway_response::{self, GatewayError};
use crate::proxy_event::{self, BodyEncoding, HeaderCase, IncomingRequest, Target};
use crate::routes::{Lookup, RouteMatch};

/// A response and what the access log says about it.
pub(super) struct Outcome<'a> {
    pub response: Response<Full<Bytes>>,
    pub function: Option<&'a str>,
    /// Who answered: the front end (no API Gateway headers), the gateway itself, or the
    /// function through the proxy integration (the only one with `X-Amzn-Trace-Id`).
    pub source: Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    FrontEnd,
    Gateway,
    Proxy,
}

impl<'a> Outcome<'a> {
    fn front_end(response: Response<Full<Bytes>>) -> Outcome<'a> {
        Outcome {
            response,
            function: None,
            source: Source::FrontEnd,
        }
    }
}

impl Gateway {
    /// One request, start to finish, with its access-log line.
    pub(super) async fn handle(
        &self,
        request: Request<Incoming>,
        remote: SocketAddr,
        capture: &HeadCapture,
    ) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let ids = RequestIds::new(header(request.headers(), "x-amzn-trace-id"));
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let mut outcome = self.respond(request, remote, capture, &ids).await;
        let headers = outcome.response.headers_mut();
        if outcome.source != Source::FrontEnd {
            insert(headers, "x-amzn-RequestId", &ids.request_id);
            insert(headers, "x-amz-apigw-id", &ids.apigw_id);
        }
        if outcome.source == Source::Proxy {
            insert(headers, "X-Amzn-Trace-Id", &ids.trace);
        }
        let status = outcome.response.status().as_u16();
        let bytes = outcome.response.body().size_hint().exact().unwrap_or(0);
        let ms = started.elapsed().as_millis();
        tracing::info!(
            target: "thumbs_local::access",
            function = outcome.function.unwrap_or("-"),
            request_id = ids.request_id,
            "{method} {path} {status} {bytes}B {ms}ms"
        );
        outcome.response
    }

    async fn respond(
        &self,
        request: Request<Incoming>,
        remote: SocketAddr,
        capture: &HeadCapture,
        ids: &RequestIds,
    ) -> Outcome<'_> {
        let request_id = ids.request_id.as_str();
        let (parts, body) = request.into_parts();
        let body = match front_end::read_body(body, &parts.headers).await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => {
                tracing::warn!(
                    request_id,
                    "request body over the REST API payload limit (10 MB): AWS's front end answers a plain-text 413"
                );
                return Outcome::front_end(front_end::body_too_large());
            }
            Err(BodyError::Broken(err)) => {
                // AWS's HTTP front end answers 400 before API Gateway runs.
                tracing::warn!(request_id, %err, "reading the request body failed: 400");
                return Outcome::front_end(front_end::broken_body(&err));
            }
        };
        let header_case = capture.take();
        if let Some(response) = front_end::head_over_quota(&parts) {
            tracing::warn!(
                request_id,
                "request line and header values over API Gateway's 10,240-byte quota"
            );
            return Outcome::front_end(response);
        }

        let path = self.resource_path(parts.uri.path());
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
        let api_key = header(&parts.headers, "x-api-key");
        if route.api_key_required && !self.key_matches(api_key) {
            tracing::info!(request_id, resource = %route.resource, "ApiKeyRequired and x-api-key is missing or wrong");
            return self.gateway_error(GatewayError::InvalidApiKey, request_id);
        }
        let request = Received {
            parts: &parts,
            path,
            body: &body,
            remote,
            header_case: &header_case,
        };
        let mut outcome = self.integrate(&request, &found, ids).await;
        outcome.function = Some(route.function.as_str());
        outcome
    }

    /// The path without the `/{stage}` prefix: the API is served both at the root and under
    /// `/{stage}/` (the execute-api URL shape).
    fn resource_path<'p>(&self, raw_path: &'p str) -> &'p str {
        let rest = raw_path
            .strip_prefix('/')
            .and_then(|p| p.strip_prefix(self.api.stage.as_str()));
        match rest {
            Some("") => "/",
            Some(rest) if rest.starts_with('/') => rest,
            _ => raw_path,
        }
    }

    /// The Lambda proxy integration: event, payload limit, invocation, proxy response.
    async fn integrate(
        &self,
        request: &Received<'_>,
        found: &RouteMatch<'_>,
        ids: &RequestIds,
    ) -> Outcome<'_> {
        let request_id = ids.request_id.as_str();
        let route = found.route;
        let headers = &request.parts.headers;
        let incoming = IncomingRequest {
            method: request.parts.method.as_str(),
            path: request.path,
            query: request.parts.uri.query(),
            headers,
            header_case: request.header_case,
            trace_id: Some(&ids.trace),
            body: request.body,
            source_ip: request.remote.ip(),
        };
        let target = Target {
            resource: &route.resource,
            path_parameters: &found.path_parameters,
            stage: &self.api.stage,
            api_id: &self.api_id,
            request_id,
            api_key: route
                .api_key_required
                .then(|| header(headers, "x-api-key"))
                .flatten(),
        };
        let (event, encoding) =
            proxy_event::build(&incoming, &target, &self.api.binary_media_types);
        if encoding == BodyEncoding::TextLossy {
            tracing::warn!(
                request_id,
                content_type =
                    header(headers, "content-type").unwrap_or(proxy_event::DEFAULT_CONTENT_TYPE),
                "request body is not UTF-8 and its Content-Type matches no binaryMediaTypes entry: API Gateway passes it as text, so invalid bytes were replaced (add the type to BinaryMediaTypes to receive it base64-encoded)"
            );
        }
        let event_bytes = serde_json::to_vec(&event).map_or(usize::MAX, |v| v.len());
        if event_bytes > MAX_LAMBDA_PAYLOAD_BYTES {
            tracing::warn!(
                request_id,
                event_bytes,
                limit = MAX_LAMBDA_PAYLOAD_BYTES,
                "event over Lambda's 6 MB synchronous payload limit (binary bodies grow by 4/3 in base64)"
            );
            return self.gateway_error(GatewayError::RequestTooLarge, request_id);
        }
        let Some(entry) = self.functions.get(&route.function) else {
            tracing::error!(request_id, function = %route.function, "route points at a function this stack does not run");
            return self.gateway_error(GatewayError::InternalServerError, request_id);
        };
        let reply = match self.invoke(entry, event, request_id).await {
            Ok(reply) => reply,
            Err(error) => return self.gateway_error(error, request_id),
        };
        let accept = header(headers, "accept");
        let is_head = request.parts.method == Method::HEAD;
        match self.proxy_response(reply, accept, is_head, request_id) {
            Ok(response) => Outcome {
                response,
                function: None,
                source: Source::Proxy,
            },
            Err(error) => self.gateway_error(error, request_id),
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
                let what = if on_timeout == GatewayError::IntegrationTimeout {
                    "integration timeout: API Gateway answers 504 (the function may still be running on AWS)"
                } else {
                    "Task timed out (the function's Timeout): API Gateway answers 502"
                };
                tracing::warn!(request_id, timeout_s = deadline.as_secs_f32(), "{what}");
                return Err(on_timeout);
            }
        };
        result.map_err(|err| {
            tracing::error!(request_id, error_type = %err.error_type, message = %err.message, "function failed: API Gateway answers 502");
            GatewayError::InternalServerError
        })
    }

    /// A response API Gateway makes itself, with the template's `GatewayResponses` applied.
    pub(super) fn gateway_error(&self, error: GatewayError, request_id: &str) -> Outcome<'_> {
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
            source: Source::Gateway,
        }
    }
}

/// The request as the integration needs it.
struct Received<'a> {
    parts: &'a Parts,
    path: &'a str,
    body: &'a Bytes,
    remote: SocketAddr,
    header_case: &'a HeaderCase,
}
