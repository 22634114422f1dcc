//! The API Gateway emulator: a hyper service that behaves like a REST API with Lambda proxy
//! integrations, as configured by the template. docs/emulator.md lists its rules and where each
//! one is documented or recorded.
//!
//! - [`server`]: the accept loop (`TCP_NODELAY` on every socket), graceful shutdown.
//! - [`connection`]: what the emulator sees of the raw bytes — the client's header-name casing,
//!   and hyper's bodiless parse-error answers rewritten into the JSON error shape.
//! - [`pipeline`]: one request in API Gateway's order, with the access-log line.
//! - [`front_end`]: what AWS's HTTP front end answers before API Gateway runs (body over 10 MB,
//!   request line and headers over 10,240 bytes, a broken body).
//! - [`proxy_response`]: the function's proxy response JSON to an HTTP response (rule 2).
//! - [`cors`]: the CORS preflight SAM's `Cors` adds.
//! - [`request_id`]: request ids and the `X-Amzn-Trace-Id` header.

mod connection;
mod cors;
mod front_end;
mod pipeline;
mod proxy_response;
mod request_id;
mod server;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::watch;

use crate::functions::HttpFunction;
use crate::routes::Routes;
use crate::template::{ApiSettings, Template};

pub use front_end::MAX_REQUEST_LINE_AND_HEADERS_BYTES;

/// REST API payload limit (AWS quotas: "Payload size 10 MB").
pub const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;
/// Lambda synchronous invocation payload limit, each way (6 MB).
pub const MAX_LAMBDA_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
/// REST API default integration timeout.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);

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

    fn key_matches(&self, given: Option<&str>) -> bool {
        match (&self.api_key, given) {
            (Some(expected), Some(given)) => {
                constant_time_eq(expected.as_bytes(), given.as_bytes())
            }
            _ => false,
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn insert(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
        headers.insert(name, value);
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
}
