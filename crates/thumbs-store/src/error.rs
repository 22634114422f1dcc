//! One error type for every S3 call, classified once: transient (retry) or not.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use thumbs_core::error::ErrorKind;

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
    /// True when the same call may succeed later (Lambda should retry, clients are told to).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }

    /// True when the object is simply not there.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound { .. })
    }

    /// The kind of failure (thumbs-http turns it into a status): transient faults are
    /// `Unavailable`, anything else that is not the caller's is `Internal`.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::NotFound { .. } => ErrorKind::NotFound,
            StoreError::Unavailable { .. } => ErrorKind::Unavailable,
            StoreError::TooLarge { .. } => ErrorKind::TooLarge,
            StoreError::PreconditionFailed { .. } => ErrorKind::Conflict,
            StoreError::Permanent { .. } => ErrorKind::Internal,
        }
    }

    /// The stable machine-readable code of the failure.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotFound { .. } => "not_found",
            StoreError::Unavailable { .. } => "storage_unavailable",
            StoreError::TooLarge { .. } => "too_large",
            StoreError::PreconditionFailed { .. } => "conflict",
            StoreError::Permanent { .. } => "storage_error",
        }
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
