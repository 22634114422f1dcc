//! One error type for every S3 call, classified once: transient (retry) or not.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use thumbs_core::error::ApiError;

/// Seconds a client should wait before retrying after a transient storage fault.
pub const RETRY_AFTER_SECS: u32 = 2;

/// What went wrong talking to S3.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object (or bucket) does not exist.
    #[error("{key}: not found")]
    NotFound { key: String },
    /// Worth retrying: throttling, 5xx, timeouts, the endpoint unreachable.
    #[error("{op} {key}: storage unavailable: {message}")]
    Unavailable {
        op: &'static str,
        key: String,
        message: String,
    },
    /// Retrying will not help: access denied, bad request, a precondition, a body we cannot read.
    #[error("{op} {key}: {message}")]
    Permanent {
        op: &'static str,
        key: String,
        message: String,
    },
    /// A conditional write found its condition false (412: `If-None-Match: *` and the object
    /// exists). Callers that write create-only turn this into "already there".
    #[error("{op} {key}: precondition failed (the object already exists)")]
    PreconditionFailed { op: &'static str, key: String },
    /// An object is larger than the caller allowed to read.
    #[error("{key}: {size} bytes is over the {limit}-byte limit")]
    TooLarge { key: String, size: u64, limit: u64 },
}

impl StoreError {
    /// True when the same call may succeed later (Lambda should retry, HTTP says 503).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }

    /// True when the object is simply not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    /// Classifies an SDK error. The SDK has already retried transient faults with backoff
    /// (standard retry mode), so anything transient here has persisted for a few attempts.
    pub(crate) fn from_sdk<E, R>(op: &'static str, key: &str, err: SdkError<E, R>) -> StoreError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + HttpStatus,
    {
        let key = key.to_owned();
        match &err {
            SdkError::ServiceError(service) => {
                let status = service.raw().status_code();
                let code = service.err().code().unwrap_or("");
                let message = match service.err().message() {
                    Some(m) => format!("{status} {code}: {m}"),
                    None => format!("{status} {code}"),
                };
                if status == 404 || matches!(code, "NoSuchKey" | "NotFound" | "NoSuchBucket") {
                    StoreError::NotFound { key }
                } else if status == 412 || code == "PreconditionFailed" {
                    StoreError::PreconditionFailed { op, key }
                } else if status >= 500
                    || status == 429
                    // 409 on a conditional write: another one on the same key is in progress;
                    // S3 says to retry it.
                    || code == "ConditionalRequestConflict"
                    || matches!(
                        code,
                        "SlowDown"
                            | "RequestTimeout"
                            | "ServiceUnavailable"
                            | "InternalError"
                            | "Throttling"
                    )
                {
                    StoreError::Unavailable { op, key, message }
                } else {
                    StoreError::Permanent { op, key, message }
                }
            }
            SdkError::TimeoutError(_)
            | SdkError::DispatchFailure(_)
            | SdkError::ResponseError(_) => StoreError::Unavailable {
                op,
                key,
                message: error_chain(&err),
            },
            _ => StoreError::Permanent {
                op,
                key,
                message: error_chain(&err),
            },
        }
    }
}

/// The HTTP status of a raw SDK response (kept behind a trait so `from_sdk` stays generic).
pub(crate) trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// "dispatch failure: io error: connection refused" rather than just "dispatch failure".
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The HTTP face of a storage fault: 503 + Retry-After for transient, 404 for missing,
/// 413 for over-limit objects, 500 otherwise (details go to the log, not the client).
impl From<&StoreError> for ApiError {
    fn from(err: &StoreError) -> ApiError {
        match err {
            StoreError::NotFound { .. } => ApiError::new(404, "not_found", "no such image"),
            StoreError::Unavailable { .. } => ApiError::new(
                503,
                "storage_unavailable",
                "storage is unavailable, retry shortly",
            )
            .with_retry_after(RETRY_AFTER_SECS),
            StoreError::TooLarge { size, limit, .. } => ApiError::new(
                413,
                "too_large",
                format!("object is {size} bytes, over the {limit}-byte limit"),
            ),
            StoreError::PreconditionFailed { .. } => {
                ApiError::new(409, "conflict", "the object already exists")
            }
            StoreError::Permanent { .. } => {
                ApiError::new(500, "storage_error", "storage request failed")
            }
        }
    }
}
