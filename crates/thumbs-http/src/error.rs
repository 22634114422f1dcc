//! [`ApiError`]: an error as the HTTP API shows it, and the one place where error kinds become
//! HTTP statuses (the contract, infra/openapi.yaml). Core and store errors carry an
//! [`ErrorKind`] and a stable code; handlers convert them with `ApiError::from(&err)` and build
//! their own errors with the named constructors, never with a status.

use std::fmt;

use lambda_http::http::StatusCode;
use thumbs_core::error::{Error, ErrorKind};
use thumbs_store::StoreError;

/// Seconds a client should wait before retrying after a transient storage fault.
pub const RETRY_AFTER_SECS: u32 = 2;

/// `{"error": {"code": "...", "message": "..."}}` with its status (and `Retry-After` on 503).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    /// Stable machine-readable code, e.g. `unsupported_format`.
    pub code: &'static str,
    pub message: String,
    /// Seconds, for `Retry-After`.
    pub retry_after: Option<u32>,
}

impl ApiError {
    fn with_status(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The status of each kind: the table of the contract.
    pub fn of_kind(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        let status = match kind {
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        };
        let err = ApiError::with_status(status, code, message);
        if kind == ErrorKind::Unavailable {
            err.with_retry_after(RETRY_AFTER_SECS)
        } else {
            err
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::of_kind(ErrorKind::Invalid, code, message)
    }

    /// 404: no such route or image (`not_found`), or a deleted image (`deleted`).
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::of_kind(ErrorKind::NotFound, code, message)
    }

    /// 405: the route exists, the method does not.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        ApiError::with_status(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            message,
        )
    }

    /// 413: over a byte limit.
    pub fn too_large(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::of_kind(ErrorKind::TooLarge, code, message)
    }

    /// 500: our fault; the details go to the log.
    pub fn internal(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::of_kind(ErrorKind::Internal, code, message)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// A GET sends no image, so "too large" (413) and "unsupported type" (415) describe the
    /// stored original, not the request: a read answers them as 422, the status the contract
    /// gives an original that cannot be thumbnailed. Other errors are unchanged.
    pub fn about_stored_original(self) -> Self {
        if matches!(
            self.status,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE
        ) {
            ApiError::of_kind(
                ErrorKind::Unprocessable,
                self.code,
                format!("the original cannot be thumbnailed: {}", self.message),
            )
        } else {
            self
        }
    }

    /// The response body: `{"error":{"code":..,"message":..}}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "error": { "code": self.code, "message": self.message } }).to_string()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

/// A core error as the client sees it: its kind's status, its code, its message (a body over
/// the limit also points to `POST /uploads`).
impl From<&Error> for ApiError {
    fn from(err: &Error) -> Self {
        let message = match err {
            Error::InputTooLarge { .. } => {
                format!("{err}; for large files, POST /uploads for a presigned upload URL")
            }
            _ => err.to_string(),
        };
        ApiError::of_kind(err.kind(), err.code(), message)
    }
}

/// A storage fault as the client sees it: 503 + Retry-After for transient, 404 for missing,
/// 413 for over-limit objects, 500 otherwise. Details go to the log, not the client.
impl From<&StoreError> for ApiError {
    fn from(err: &StoreError) -> Self {
        let message = match err {
            StoreError::NotFound { .. } => "no such image".to_owned(),
            StoreError::Unavailable { .. } => "storage is unavailable, retry shortly".to_owned(),
            StoreError::TooLarge { size, limit, .. } => {
                format!("object is {size} bytes, over the {limit}-byte limit")
            }
            StoreError::PreconditionFailed { .. } => "the object already exists".to_owned(),
            StoreError::Permanent { .. } => "storage request failed".to_owned(),
        };
        ApiError::of_kind(err.kind(), err.code(), message)
    }
}
