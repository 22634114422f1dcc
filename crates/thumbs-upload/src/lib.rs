//! thumbs-upload: the Lambda behind `POST /images`, `POST /uploads` and `DELETE /images/{id}`.
//!
//! - [`Upload`]: the handler. It turns an API Gateway request into core types and store calls
//!   and back; it holds no image logic (that is thumbs-core) and no S3 logic (thumbs-store).
//! - [`body`]: where request bodies become image bytes — every body form of the HTTP contract.
//! - JSON responses and the one conversion of errors to HTTP responses live in `thumbs-http`,
//!   shared with thumbs-serve.
//!
//! Data flows one way: event → body decoding → sniff + probe (limits, before any pixel
//! buffer) → content-addressed id → `originals/{id}`. Thumbnails are made by thumbs-resize when
//! S3 reports the new original. Client faults are responses, never `Err`: the handler returns
//! `Response` and Lambda never retries a 4xx.

pub mod body;

use std::time::Duration;

use lambda_http::http::{Method, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;
use thumbs_core::config::Config;
use thumbs_core::error::Error;
use thumbs_core::format::{Format, sniff};
use thumbs_core::id::ImageId;
use thumbs_store::layout::{self, OriginalKey};
use thumbs_store::{Store, lifecycle};

use crate::body::{BodyError, decode_upload};
use thumbs_http::reply::{json_created, json_ok, no_content};
use thumbs_http::{ApiError, error_response, public_base, thumbnail_urls, variant_urls};

/// How long a presigned PUT stays valid.
pub const PRESIGNED_EXPIRY: Duration = Duration::from_secs(15 * 60);

/// The upload handler: configuration read once, one shared [`Store`].
#[derive(Debug, Clone)]
pub struct Upload {
    config: Config,
    store: Store,
}

impl Upload {
    /// `config.limits.max_input_bytes` is also the cap of `POST /uploads`.
    pub fn new(config: Config, store: Store) -> Upload {
        Upload { config, store }
    }

    /// Routes one API Gateway request. Every outcome, client fault or storage outage, is a
    /// response with a JSON error body; nothing is half-written on failure.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let path = request_path(&req);
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let result = match (req.method(), segments.as_slice()) {
            (&Method::POST, ["images"]) => self.post_image(&req).await,
            (&Method::POST, ["uploads"]) => self.post_upload(&req).await,
            (&Method::DELETE, ["images", id]) => {
                let id = req
                    .path_parameters()
                    .first("id")
                    .map(str::to_owned)
                    .unwrap_or_else(|| (*id).to_owned());
                self.delete_image(&id).await
            }
            (_, ["images"] | ["uploads"] | ["images", _]) => Err(ApiError::method_not_allowed(
                format!("{} is not allowed on {path}", req.method()),
            )),
            _ => Err(ApiError::not_found(
                "not_found",
                format!("no route for {} {path}", req.method()),
            )),
        };
        let mut response = result.unwrap_or_else(|err| error_response(&err));
        thumbs_http::cors::apply(self.config.cors_allow_origin.as_deref(), &mut response);
        response
    }

    /// `POST /images`: decode, sniff, probe, store `originals/{id}`.
    async fn post_image(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let bytes = decode_upload(
            content_type,
            req.body().as_ref(),
            self.config.max_upload_bytes,
        )
        .map_err(|err| body_error(&err))?;
        let format = sniff(&bytes).map_err(|err| ApiError::from(&err))?;
        let info =
            thumbs_core::probe(&bytes, &self.config.limits).map_err(|err| ApiError::from(&err))?;
        let (id, created, status) = self.store_original(&bytes, format).await?;
        let base = public_base(req);
        let thumbnails = thumbnail_urls(&base, &id, &self.config.sizes);
        let body = serde_json::json!({
            "id": id,
            "status": status,
            "original": {
                "format": info.format.name(),
                "width": info.width,
                "height": info.height,
                "bytes": bytes.len(),
            },
            "thumbnails": thumbnails,
            "formats": variant_urls(&base, &id, &self.config.sizes),
        });
        let mut resp = if created {
            json_created(&body)
        } else {
            json_ok(&body)
        };
        let location = format!("{base}/images/{id}");
        resp.headers_mut().insert(
            header::LOCATION,
            location.parse().expect("ids are URL-safe"),
        );
        Ok(resp)
    }

    /// Stores `originals/{id}` create-only and says whether this call created it, with the
    /// status to report. The id is content-addressed (the same bytes are the same image), so
    /// concurrent identical uploads race for ONE key: `If-None-Match: *` lets exactly one write
    /// it (201, one S3 event, one resize); the others see 412 and answer 200.
    ///
    /// A deleted id is never reused (its thumbnails may sit in caches for a year, and its
    /// tombstone must keep meaning "gone"): the same bytes uploaded after a delete are a new
    /// life under the next id of their chain, [`life_id`]. If a DELETE lands between the
    /// tombstone check and the write, the re-check after the write sees it, removes the
    /// original just written, and moves on to the next life.
    async fn store_original(
        &self,
        bytes: &[u8],
        format: Format,
    ) -> Result<(ImageId, bool, &'static str), ApiError> {
        let first = ImageId::for_content(bytes);
        for life in 0..MAX_LIVES {
            let id = life_id(&first, life);
            let key = OriginalKey::new(&id);
            if lifecycle::is_deleted(&self.store, &id)
                .await
                .map_err(|err| store_error(&err))?
            {
                continue;
            }
            let created = self
                .store
                .put_if_absent(key.as_str(), bytes.to_vec(), format.mime())
                .await
                .map_err(|err| store_error(&err))?;
            if lifecycle::is_deleted(&self.store, &id)
                .await
                .map_err(|err| store_error(&err))?
            {
                if created {
                    // Ours, and already dead: leave nothing behind (the resize this write
                    // started will find the tombstone too, and clean up as well).
                    self.store
                        .delete(key.as_str())
                        .await
                        .map_err(|err| store_error(&err))?;
                }
                continue;
            }
            if created {
                tracing::info!(%id, life, format = format.name(), bytes = bytes.len(), "stored original");
                return Ok((id, true, "processing"));
            }
            let status = self.current_status(&id).await?;
            return Ok((id, false, status));
        }
        // The same bytes deleted MAX_LIVES times: give up on content addressing for them.
        let id = ImageId::random();
        self.store
            .put_if_absent(
                OriginalKey::new(&id).as_str(),
                bytes.to_vec(),
                format.mime(),
            )
            .await
            .map_err(|err| store_error(&err))?;
        Ok((id, true, "processing"))
    }

    /// `ready` (manifest), `failed` (error record) or `processing`, for an existing original.
    async fn current_status(&self, id: &ImageId) -> Result<&'static str, ApiError> {
        let head = |key: String| async move {
            self.store
                .head(&key)
                .await
                .map(|meta| meta.is_some())
                .map_err(|err| store_error(&err))
        };
        if head(layout::manifest_key(id)).await? {
            Ok("ready")
        } else if head(layout::error_key(id)).await? {
            Ok("failed")
        } else {
            Ok("processing")
        }
    }

    /// `POST /uploads`: a presigned PUT for files past the Lambda payload limit. The PUT to S3
    /// triggers the same resize; limits are applied there, since these bytes never pass here.
    async fn post_upload(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        #[derive(Deserialize)]
        struct UploadRequest {
            content_type: String,
            bytes: u64,
        }
        let request: UploadRequest =
            serde_json::from_slice(req.body().as_ref()).map_err(|err| {
                ApiError::bad_request(
                    "bad_request",
                    format!(r#"expected JSON {{"content_type": "image/...", "bytes": N}}: {err}"#),
                )
            })?;
        let content_type = request.content_type.trim().to_ascii_lowercase();
        let Some(format) = format_for_mime(&content_type) else {
            return Err(ApiError::from(&Error::UnsupportedFormat));
        };
        if request.bytes == 0 {
            return Err(ApiError::bad_request(
                "bad_request",
                "bytes must be at least 1",
            ));
        }
        // The resize's own input cap: what is presigned here is never refused there for size.
        let cap = self.config.limits.max_input_bytes as u64;
        if request.bytes > cap {
            return Err(ApiError::too_large(
                "too_large",
                format!(
                    "{} bytes is more than the upload limit of {cap} bytes",
                    request.bytes
                ),
            ));
        }
        let id = ImageId::random();
        let key = OriginalKey::new(&id);
        let presigned = self
            .store
            .presign_put(key.as_str(), format.mime(), request.bytes, PRESIGNED_EXPIRY)
            .await
            .map_err(|err| store_error(&err))?;
        let headers: serde_json::Map<String, serde_json::Value> = presigned
            .headers
            .iter()
            .map(|(name, value)| (canonical_header(name), value.clone().into()))
            .collect();
        let expires_at = time::OffsetDateTime::from(presigned.expires_at)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let base = public_base(req);
        let body = serde_json::json!({
            "id": id,
            "url": presigned.url,
            "method": presigned.method,
            "headers": headers,
            "expires_at": expires_at,
            "status_url": format!("{base}/images/{id}"),
        });
        Ok(json_ok(&body))
    }

    /// `DELETE /images/{id}`: the tombstone FIRST, then the content. From the tombstone on, no
    /// route serves the image and every writer still at work removes what it writes, so the
    /// 204 sticks (`docs/lifecycle.md`). If removing fails midway, the answer is 503 and the
    /// image already reads as deleted; a retried DELETE finishes the removal.
    async fn delete_image(&self, id: &str) -> Result<Response<Body>, ApiError> {
        let id = ImageId::parse(id).map_err(|err| ApiError::from(&err))?;
        if lifecycle::is_deleted(&self.store, &id)
            .await
            .map_err(|err| store_error(&err))?
        {
            // Already deleted: finish any removal an earlier DELETE left undone, then say so.
            lifecycle::remove_content(&self.store, &id)
                .await
                .map_err(|err| store_error(&err))?;
            return Err(deleted(&id));
        }
        let original = self
            .store
            .head(OriginalKey::new(&id).as_str())
            .await
            .map_err(|err| store_error(&err))?;
        let derived = self
            .store
            .list(&layout::thumbnails_prefix(&id))
            .await
            .map_err(|err| store_error(&err))?;
        if original.is_none() && derived.is_empty() {
            return Err(ApiError::not_found("not_found", format!("no image {id}")));
        }
        lifecycle::mark_deleted(&self.store, &id)
            .await
            .map_err(|err| store_error(&err))?;
        // Listed again after the tombstone: this listing sees every write that the writers'
        // re-checks did not catch.
        let removed = lifecycle::remove_content(&self.store, &id)
            .await
            .map_err(|err| store_error(&err))?;
        tracing::info!(%id, objects = removed, "deleted image");
        Ok(no_content())
    }
}

/// How many lives (delete, upload the same bytes again) one content gets its own id chain for.
const MAX_LIVES: u32 = 16;

/// The id of the `life`-th life of content whose first id is `first`: `first` itself, then
/// the content id of `"{first}/{life}"`. Deterministic, so identical concurrent re-uploads
/// still meet at one key.
fn life_id(first: &ImageId, life: u32) -> ImageId {
    if life == 0 {
        first.clone()
    } else {
        ImageId::for_content(format!("{first}/{life}").as_bytes())
    }
}

/// 404 for an image that was deleted (its tombstone exists).
fn deleted(id: &ImageId) -> ApiError {
    ApiError::not_found("deleted", format!("image {id} was deleted"))
}

/// The resource path API Gateway matched (`path` in the REST proxy event, without the stage),
/// falling back to the URI path for requests built in-process.
fn request_path(req: &Request) -> String {
    let raw = req.raw_http_path();
    if raw.is_empty() {
        req.uri().path().to_owned()
    } else {
        raw.to_owned()
    }
}

fn body_error(err: &BodyError) -> ApiError {
    match err {
        BodyError::TooLarge { bytes, limit } => ApiError::from(&Error::InputTooLarge {
            bytes: *bytes,
            limit: *limit,
        }),
        BodyError::BadEncoding(message) => ApiError::bad_request("bad_encoding", message.clone()),
        BodyError::Empty => ApiError::bad_request("bad_encoding", err.to_string()),
    }
}

fn store_error(err: &thumbs_store::StoreError) -> ApiError {
    tracing::error!(error = %err, transient = err.is_transient(), "storage call failed");
    ApiError::from(err)
}

/// The supported format a client-declared type names (`image/jpg` too). Presigned uploads
/// are sniffed again by the resize before anything is trusted.
fn format_for_mime(mime: &str) -> Option<Format> {
    let mime = if mime == "image/jpg" {
        "image/jpeg"
    } else {
        mime
    };
    [
        Format::Jpeg,
        Format::Png,
        Format::Gif,
        Format::WebP,
        Format::Bmp,
        Format::Tiff,
    ]
    .into_iter()
    .find(|format| format.mime() == mime)
}

/// `content-type` → `Content-Type`, as a client would write it.
fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}
