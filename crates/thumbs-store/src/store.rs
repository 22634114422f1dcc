//! [`Store`]: every S3 call thumbs makes, over one shared `aws_sdk_s3::Client`.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::StoreConfig;
use crate::error::StoreError;

/// Per-attempt bound on one S3 call (to the response head; bodies stream after it).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bound on one S3 call with the SDK's retries. A handler makes at most two calls before it
/// answers, so a hung S3 gives the client 503 + Retry-After well inside API Gateway's 29 s
/// integration timeout (docs/architecture.md, rule 4) instead of a bare 504.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// The bucket, through one S3 client built at start-up. Cheap to clone (the client is an `Arc`).
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    bucket: String,
}

/// What `HeadObject` tells us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    pub content_type: Option<String>,
    /// Quoted, as S3 sends it (`"9b2c..."`): usable as an HTTP ETag as is.
    pub etag: Option<String>,
    /// When S3 stored the object (`Last-Modified`), if it said.
    pub last_modified: Option<SystemTime>,
}

/// An object read whole.
#[derive(Debug, Clone)]
pub struct Object {
    pub bytes: Bytes,
    pub meta: ObjectMeta,
}

/// A presigned `PUT` a client (browser, curl) performs directly against S3.
#[derive(Debug, Clone)]
pub struct PresignedPut {
    pub url: String,
    pub method: String,
    /// Headers that are part of the signature and must be sent exactly (Content-Type, Content-Length).
    pub headers: Vec<(String, String)>,
    pub expires_at: SystemTime,
}

impl Store {
    /// Builds THE S3 client from `config` (region, endpoint, path style, credentials).
    pub async fn connect(config: &StoreConfig) -> Store {
        let mut builder = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .force_path_style(config.force_path_style)
            // Checksums only where S3 requires them: keeps presigned URLs free of a checksum
            // of the empty body, and works with every S3-compatible endpoint.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .timeout_config(timeouts(ATTEMPT_TIMEOUT, OPERATION_TIMEOUT));
        if let Some(endpoint) = &config.endpoint_url {
            builder = builder.endpoint_url(endpoint);
        }
        if let Some((access_key, secret_key)) = &config.credentials {
            builder = builder.credentials_provider(Credentials::new(
                access_key,
                secret_key,
                config.session_token.clone(),
                None,
                "environment",
            ));
        }
        Store::new(Client::from_conf(builder.build()), config.bucket.clone())
    }

    /// The same store with other S3 call bounds (tests use short ones against a hung S3).
    pub fn with_timeouts(self, attempt: Duration, operation: Duration) -> Store {
        let config = self
            .client
            .config()
            .to_builder()
            .timeout_config(timeouts(attempt, operation))
            .build();
        Store::new(Client::from_conf(config), self.bucket)
    }

    /// Wraps an existing client.
    pub fn new(client: Client, bucket: impl Into<String>) -> Store {
        Store {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `HeadObject`; `Ok(None)` when the object does not exist.
    pub async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(ObjectMeta {
                size: out.content_length().unwrap_or(0).max(0) as u64,
                content_type: out.content_type().map(str::to_owned),
                etag: out.e_tag().map(str::to_owned),
                last_modified: out.last_modified().and_then(system_time),
            })),
            Err(err) => match StoreError::from_sdk("HeadObject", key, err) {
                StoreError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    /// `GetObject`, whole body. A missing object is [`StoreError::NotFound`].
    pub async fn get(&self, key: &str) -> Result<Object, StoreError> {
        self.get_limited(key, u64::MAX).await
    }

    /// `GetObject`, refusing (before reading the body) objects over `max_bytes`.
    pub async fn get_limited(&self, key: &str, max_bytes: u64) -> Result<Object, StoreError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|err| StoreError::from_sdk("GetObject", key, err))?;
        let size = out.content_length().unwrap_or(0).max(0) as u64;
        if size > max_bytes {
            return Err(StoreError::TooLarge {
                key: key.to_owned(),
                size,
                limit: max_bytes,
            });
        }
        let meta = ObjectMeta {
            size,
            content_type: out.content_type().map(str::to_owned),
            etag: out.e_tag().map(str::to_owned),
            last_modified: out.last_modified().and_then(system_time),
        };
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|err| StoreError::Unavailable {
                op: "GetObject",
                key: key.to_owned(),
                message: err.to_string(),
            })?
            .into_bytes();
        Ok(Object { bytes, meta })
    }

    /// `GetObject` of a JSON document; `Ok(None)` when it does not exist.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        match self.get(key).await {
            Ok(object) => serde_json::from_slice(&object.bytes)
                .map(Some)
                .map_err(|err| StoreError::Permanent {
                    op: "GetObject",
                    key: key.to_owned(),
                    message: format!("not the expected JSON: {err}"),
                }),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// `PutObject`; returns the ETag S3 assigned (quoted).
    pub async fn put(
        &self,
        key: &str,
        bytes: impl Into<Bytes>,
        content_type: &str,
    ) -> Result<Option<String>, StoreError> {
        let bytes: Bytes = bytes.into();
        let out = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(bytes.len() as i64)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|err| StoreError::from_sdk("PutObject", key, err))?;
        Ok(out.e_tag().map(str::to_owned))
    }

    /// `PutObject` with `If-None-Match: *`: writes only if `key` does not exist yet, atomically
    /// (S3 conditional writes: <https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html>).
    /// `Ok(true)` = this call created it; `Ok(false)` = it was already there (412), nothing written.
    pub async fn put_if_absent(
        &self,
        key: &str,
        bytes: impl Into<Bytes>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        let bytes: Bytes = bytes.into();
        let sent = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .content_type(content_type)
            .content_length(bytes.len() as i64)
            .body(ByteStream::from(bytes))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(err) => match StoreError::from_sdk("PutObject", key, err) {
                StoreError::PreconditionFailed { .. } => Ok(false),
                other => Err(other),
            },
        }
    }

    /// `PutObject` of `value` as `application/json`.
    pub async fn put_json<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let json = serde_json::to_vec(value).map_err(|err| StoreError::Permanent {
            op: "PutObject",
            key: key.to_owned(),
            message: err.to_string(),
        })?;
        self.put(key, json, "application/json").await.map(|_| ())
    }

    /// `DeleteObject` (deleting a missing key succeeds, as on S3).
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => match StoreError::from_sdk("DeleteObject", key, err) {
                StoreError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    /// Every key under `prefix` (`ListObjectsV2`, all pages).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|err| StoreError::from_sdk("ListObjectsV2", prefix, err))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        Ok(keys)
    }

    /// Deletes every key under `prefix`; returns how many. One `DeleteObject` per key: an image
    /// has a handful of objects, and this needs no `Content-MD5` (which `DeleteObjects` does).
    pub async fn delete_prefix(&self, prefix: &str) -> Result<usize, StoreError> {
        // Boxed: the paginator's future is deeply nested, and callers that embed this in their
        // own futures (the resize inside the Lambda runtime) would hit the compiler's query
        // depth limit.
        let keys = Box::pin(self.list(prefix)).await?;
        for key in &keys {
            self.delete(key).await?;
        }
        Ok(keys.len())
    }

    /// A presigned `PUT` for exactly `bytes` bytes of `content_type`, valid for `expires`, that
    /// can create `key` once. `Content-Type`, `Content-Length` and `If-None-Match: *` are all
    /// signed: S3 rejects a different type or size (403), a PUT without the condition (403), and
    /// a second PUT once the object exists (412), so one URL writes at most one object.
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        bytes: u64,
        expires: Duration,
    ) -> Result<PresignedPut, StoreError> {
        let permanent = |message: String| StoreError::Permanent {
            op: "presign PutObject",
            key: key.to_owned(),
            message,
        };
        let presigning =
            PresigningConfig::expires_in(expires).map_err(|err| permanent(err.to_string()))?;
        let start = SystemTime::now();
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(bytes as i64)
            .if_none_match("*")
            .presigned(presigning)
            .await
            .map_err(|err| StoreError::from_sdk("presign PutObject", key, err))?;
        let headers = request
            .headers()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        Ok(PresignedPut {
            url: request.uri().to_owned(),
            method: request.method().to_owned(),
            headers,
            expires_at: start + expires,
        })
    }
}

fn timeouts(attempt: Duration, operation: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build()
}

/// An SDK timestamp as a `SystemTime` (`None` if it does not fit).
fn system_time(at: &aws_sdk_s3::primitives::DateTime) -> Option<SystemTime> {
    SystemTime::try_from(*at).ok()
}
