//! The one mapping of error kinds to HTTP statuses, and the bodies clients see.

use lambda_http::http::{StatusCode, header};
use thumbs_core::error::{Error, ErrorKind, SizeList};
use thumbs_http::error::RETRY_AFTER_SECS;
use thumbs_http::{ApiError, error_response};
use thumbs_store::StoreError;

#[test]
fn core_errors_map_to_the_designed_http_statuses() {
    let cases = [
        (Error::UnsupportedFormat, 415),
        (
            Error::InputTooLarge {
                bytes: 10,
                limit: 5,
            },
            413,
        ),
        (
            Error::TooManyPixels {
                width: 1,
                height: 1,
                limit: 0,
            },
            422,
        ),
        (
            Error::SideTooLong {
                width: 1,
                height: 1,
                limit: 0,
            },
            422,
        ),
        (Error::Undecodable("x".into()), 422),
        (Error::InvalidId, 400),
        (
            Error::InvalidSize {
                given: "1".into(),
                allowed: SizeList(vec![128]),
            },
            400,
        ),
        (Error::Encode("x".into()), 500),
    ];
    for (err, status) in cases {
        let api = ApiError::from(&err);
        assert_eq!(api.status().as_u16(), status, "{err:?}");
        assert_eq!(api.code, err.code(), "{err:?}");
    }
    let too_large = ApiError::from(&Error::InputTooLarge {
        bytes: 10,
        limit: 5,
    });
    assert!(too_large.message.contains("/uploads"));
    let json: serde_json::Value =
        serde_json::from_str(&ApiError::from(&Error::UnsupportedFormat).to_json()).unwrap();
    assert_eq!(json["error"]["code"], "unsupported_format");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a supported image")
    );
}

#[test]
fn store_errors_map_to_statuses_without_their_details() {
    let key = "originals/secret-key".to_owned();
    let cases = [
        (StoreError::NotFound { key: key.clone() }, 404, None),
        (
            StoreError::Unavailable {
                op: "GetObject",
                key: key.clone(),
                message: "503 SlowDown".into(),
            },
            503,
            Some(RETRY_AFTER_SECS),
        ),
        (
            StoreError::Permanent {
                op: "GetObject",
                key: key.clone(),
                message: "403 AccessDenied".into(),
            },
            500,
            None,
        ),
        (
            StoreError::PreconditionFailed {
                op: "PutObject",
                key: key.clone(),
            },
            409,
            None,
        ),
        (
            StoreError::TooLarge {
                key: key.clone(),
                size: 10,
                limit: 5,
            },
            413,
            None,
        ),
    ];
    for (err, status, retry_after) in cases {
        let api = ApiError::from(&err);
        assert_eq!(
            (api.status().as_u16(), api.retry_after, api.code),
            (status, retry_after, err.code()),
            "{err:?}"
        );
        assert!(!api.message.contains("secret-key"), "{api}");
    }
}

#[test]
fn every_kind_has_its_status_and_named_constructors_agree() {
    let kinds = [
        (ErrorKind::Invalid, StatusCode::BAD_REQUEST),
        (ErrorKind::NotFound, StatusCode::NOT_FOUND),
        (ErrorKind::Conflict, StatusCode::CONFLICT),
        (ErrorKind::TooLarge, StatusCode::PAYLOAD_TOO_LARGE),
        (ErrorKind::Unsupported, StatusCode::UNSUPPORTED_MEDIA_TYPE),
        (ErrorKind::Unprocessable, StatusCode::UNPROCESSABLE_ENTITY),
        (ErrorKind::Internal, StatusCode::INTERNAL_SERVER_ERROR),
        (ErrorKind::Unavailable, StatusCode::SERVICE_UNAVAILABLE),
    ];
    for (kind, status) in kinds {
        assert_eq!(
            ApiError::of_kind(kind, "c", "m").status(),
            status,
            "{kind:?}"
        );
    }
    assert_eq!(
        ApiError::bad_request("c", "m").status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        ApiError::not_found("c", "m").status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ApiError::method_not_allowed("m").status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(
        ApiError::too_large("c", "m").status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        ApiError::internal("c", "m").status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[test]
fn a_stored_original_too_large_or_unsupported_is_unprocessable() {
    let unsupported = ApiError::from(&Error::UnsupportedFormat).about_stored_original();
    assert_eq!(unsupported.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unsupported.code, "unsupported_format");
    assert!(
        unsupported
            .message
            .starts_with("the original cannot be thumbnailed")
    );
    let too_large = ApiError::too_large("too_large", "big").about_stored_original();
    assert_eq!(too_large.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let invalid = ApiError::from(&Error::InvalidId).about_stored_original();
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn the_response_carries_status_json_and_retry_after() {
    let resp = error_response(&ApiError::from(&StoreError::Unavailable {
        op: "HeadObject",
        key: "k".into(),
        message: "timeout".into(),
    }));
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        resp.headers()[header::RETRY_AFTER].to_str().unwrap(),
        RETRY_AFTER_SECS.to_string()
    );
    assert_eq!(
        resp.headers()[header::CONTENT_TYPE].to_str().unwrap(),
        "application/json"
    );
    let plain = error_response(&ApiError::not_found("deleted", "gone"));
    assert_eq!(plain.status(), StatusCode::NOT_FOUND);
    assert!(plain.headers().get(header::RETRY_AFTER).is_none());
}
