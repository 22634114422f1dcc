//! thumbs-serve: the Lambda behind the public reads.
//!
//! - `GET|HEAD /images/{id}/{size}.jpg` — the thumbnail as `Body::Binary` (lambda_http answers
//!   with `isBase64Encoded: true`, which API Gateway turns back into bytes when the request's
//!   Accept matches binaryMediaTypes — docs/architecture.md, rule 2), strong ETag, immutable caching,
//!   `If-None-Match` → 304. When the original exists but the thumbnail does not yet, that one
//!   size is rendered on demand and written, so an `<img>` placed right after upload never breaks.
//! - `GET /images/{id}` — JSON status: processing | ready | failed (with reason), sizes present.
//!   `processing` is bounded: an original older than [`Serve::with_processing_timeout`] with no
//!   manifest and no error record is reported `failed` with code `stalled` (its resize used up
//!   its attempts; the event waits in the failure queue for a redrive, which can still make it
//!   `ready`).
//! - A deleted image (its tombstone `tombstones/{id}` exists) is 404 `deleted` on every route,
//!   whatever is still in the bucket, and the on-demand render never leaves a thumbnail of it
//!   behind (`docs/lifecycle.md`).
//! - `GET /` — the upload page (`assets/index.html`, compiled in).
//!
//! [`Serve`] holds no image logic (thumbs-core renders) and no S3 logic (thumbs-store).

use lambda_http::http::{HeaderMap, Method, header};
use lambda_http::{Body, Request, RequestExt, Response};
use thumbs_core::config::{Config, ThumbnailFile, ThumbnailSize};
use thumbs_core::encode::OutputFormat;
use thumbs_core::error::Error;
use thumbs_core::id::ImageId;
use thumbs_store::layout::{self, Failure, Manifest, OriginalKey, ThumbnailKey};
use thumbs_store::{Store, StoreError, lifecycle};

use thumbs_http::accept::{self, FORMAT_HEADER};
use thumbs_http::reply::{ImageReply, html_page, json_ok};
use thumbs_http::{ApiError, error_response, public_base, thumbnail_urls, variant_urls};

/// The upload page, served at `GET /`.
pub const INDEX_HTML: &str = include_str!("../assets/index.html");

/// Variable with the bound on `processing`, in seconds.
pub const PROCESSING_TIMEOUT_ENV: &str = "PROCESSING_TIMEOUT_SECONDS";
/// The default bound: every attempt Lambda makes at the S3 event has ended by then. The resize's
/// 30 s timeout × 3 attempts (the first and `MaximumRetryAttempts: 2`), plus Lambda's waits of
/// about 1 and 2 minutes before the retries
/// (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html>), plus
/// 30 s of margin: 300 s.
pub const DEFAULT_PROCESSING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The serve function's whole configuration, parsed once at start-up from the environment
/// `template.yaml` gives it: by `main.rs` from the process environment, by thumbs-local from the
/// template's. (The render work adds its output settings to `thumbs_core::Config`, which both
/// already read through here.)
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Sizes, limits, quality, CORS: `thumbs_core::Config`.
    pub core: Config,
    /// [`PROCESSING_TIMEOUT_ENV`], else [`DEFAULT_PROCESSING_TIMEOUT`].
    pub processing_timeout: std::time::Duration,
}

impl ServeConfig {
    /// Every variable the function reads, from `lookup`; an invalid value is an error naming it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ServeConfig, String> {
        Ok(ServeConfig {
            core: Config::from_lookup(&lookup).map_err(|err| err.to_string())?,
            processing_timeout: Serve::processing_timeout_from(&lookup)?,
        })
    }

    /// [`ServeConfig::from_lookup`] over this process's environment.
    pub fn from_env() -> Result<ServeConfig, String> {
        ServeConfig::from_lookup(|name| std::env::var(name).ok())
    }
}

#[derive(Debug, Clone)]
pub struct Serve {
    config: Config,
    store: Store,
    processing_timeout: std::time::Duration,
}

impl Serve {
    pub fn new(config: Config, store: Store) -> Serve {
        Serve {
            config,
            store,
            processing_timeout: DEFAULT_PROCESSING_TIMEOUT,
        }
    }

    /// The function as its configuration describes it.
    pub fn from_config(config: ServeConfig, store: Store) -> Serve {
        Serve::new(config.core, store).with_processing_timeout(config.processing_timeout)
    }

    /// How long an original may stay without manifest or error record before its status says
    /// `failed` / `stalled` instead of `processing`.
    pub fn with_processing_timeout(mut self, timeout: std::time::Duration) -> Serve {
        self.processing_timeout = timeout;
        self
    }

    /// [`PROCESSING_TIMEOUT_ENV`] from `lookup` (whole seconds, at least 1), else the default.
    pub fn processing_timeout_from(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<std::time::Duration, String> {
        match lookup(PROCESSING_TIMEOUT_ENV) {
            None => Ok(DEFAULT_PROCESSING_TIMEOUT),
            Some(value) => match value.trim().parse::<u64>() {
                Ok(secs) if secs >= 1 => Ok(std::time::Duration::from_secs(secs)),
                _ => Err(format!(
                    "invalid {PROCESSING_TIMEOUT_ENV}={value:?}: expected whole seconds, at least 1"
                )),
            },
        }
    }

    /// Routes one API Gateway request; every outcome is a response.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let path = request_path(&req);
        let segments: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let head = req.method() == Method::HEAD;
        if req.method() != Method::GET && !head {
            let mut response = error_response(&ApiError::method_not_allowed(format!(
                "{} is not allowed here",
                req.method()
            )));
            thumbs_http::cors::apply(self.config.cors_allow_origin.as_deref(), &mut response);
            return response;
        }
        // Prefer API Gateway's pathParameters (resource /images/{id}/{file}); fall back to the
        // path for proxy resources and in-process requests.
        let params = req.path_parameters();
        let result = match segments.as_slice() {
            [] => Ok(html_page(INDEX_HTML, "no-cache")),
            ["images", id] => self.status(&req, params.first("id").unwrap_or(id)).await,
            ["images", id, file] => {
                let id = params.first("id").unwrap_or(id);
                let file = match params.first("size") {
                    Some(size) => format!("{size}.jpg"),
                    None => params.first("file").unwrap_or(file).to_owned(),
                };
                self.thumbnail(id, &file, req.headers(), head).await
            }
            _ => Err(ApiError::not_found(
                "not_found",
                format!("no route for {path}"),
            )),
        };
        let mut response = result.unwrap_or_else(|err| error_response(&err));
        if head {
            head_only(&mut response);
        }
        thumbs_http::cors::apply(self.config.cors_allow_origin.as_deref(), &mut response);
        response
    }

    /// `GET /images/{id}/{size}.jpg`, `.webp`, `.avif` (that format) and `GET /images/{id}/{size}`
    /// (the format [`Serve::negotiate`] picks, with `Vary: Accept`).
    async fn thumbnail(
        &self,
        id: &str,
        file: &str,
        headers: &HeaderMap,
        head: bool,
    ) -> Result<Response<Body>, ApiError> {
        let id = ImageId::parse(id).map_err(|err| ApiError::from(&err))?;
        let requested = self
            .config
            .thumbnail_request(file)
            .map_err(|err| ApiError::from(&err))?;
        let (size, format, negotiated) = match requested {
            ThumbnailFile::Format(size, format) => (size, format, false),
            ThumbnailFile::Negotiated(size) => (size, self.negotiate(headers)?, true),
        };
        let reply = ImageReply {
            format,
            negotiated,
            if_none_match: headers,
        };
        let key = ThumbnailKey::variant(&id, size, format);

        // The tombstone decides, whatever the read finds: a thumbnail may still exist for a
        // moment after a DELETE (a writer that has not yet undone its write), and a request
        // sent after the DELETE's 204 sees the tombstone. Both requests go out together so
        // the look costs no latency.
        let deleted = lifecycle::is_deleted(&self.store, &id);
        if head {
            let (meta, deleted) = tokio::join!(self.store.head(key.as_str()), deleted);
            if let Some(meta) = meta.map_err(|e| store_error(&e))? {
                refuse_if(&id, deleted)?;
                return Ok(reply.image(meta.etag, meta.size, None));
            }
        } else {
            let (object, deleted) = tokio::join!(self.store.get(key.as_str()), deleted);
            match object {
                Ok(object) => {
                    refuse_if(&id, deleted)?;
                    let etag = object.meta.etag.clone();
                    return Ok(reply.image(etag, object.meta.size, Some(object.bytes.to_vec())));
                }
                Err(StoreError::NotFound { .. }) => {}
                Err(err) => return Err(store_error(&err)),
            }
        }

        let (bytes, etag) = self
            .render_on_demand(&id, size, format)
            .await
            .map_err(ApiError::about_stored_original)?;
        let len = bytes.len() as u64;
        Ok(reply.image(etag, len, (!head).then_some(bytes)))
    }

    /// The format of a negotiated thumbnail request. The CDN's viewer-request function has
    /// already normalised `Accept` into [`FORMAT_HEADER`] when it is present (a value other
    /// than avif, webp or jpeg is 400); otherwise thumbs-http's rule reads `Accept`. AVIF only
    /// when it is enabled: an AVIF client otherwise gets WebP, which every AVIF browser decodes.
    fn negotiate(&self, headers: &HeaderMap) -> Result<OutputFormat, ApiError> {
        let avif = self.config.avif_enabled;
        if let Some(value) = headers.get(FORMAT_HEADER) {
            let format = value
                .to_str()
                .ok()
                .and_then(|v| v.parse::<OutputFormat>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_format",
                        format!("{FORMAT_HEADER} must be one of avif, webp, jpeg"),
                    )
                })?;
            return Ok(match format {
                OutputFormat::Avif if !avif => OutputFormat::WebP,
                other => other,
            });
        }
        let accept = headers
            .get(header::ACCEPT)
            .map(|v| v.to_str().unwrap_or(""));
        Ok(accept::negotiate(accept, avif))
    }

    /// 404 `deleted` if the image's tombstone exists.
    async fn refuse_deleted(&self, id: &ImageId) -> Result<(), ApiError> {
        if lifecycle::is_deleted(&self.store, id)
            .await
            .map_err(|e| store_error(&e))?
        {
            return Err(deleted_error(id));
        }
        Ok(())
    }

    /// The original exists but this variant does not (yet): the resize has not written it, or
    /// it is an AVIF, which is only made on request. Render just this size × format
    /// (`thumbs_core::render`, the resize's path), write it (a JPEG or WebP the resize writes
    /// too is the same bytes — the pipeline is deterministic), and serve it. A writer like the
    /// resize, with the same rule: the tombstone is checked before the write and again after
    /// it, and if the image was deleted meanwhile the variant just written is removed and the
    /// answer is 404.
    async fn render_on_demand(
        &self,
        id: &ImageId,
        size: ThumbnailSize,
        format: OutputFormat,
    ) -> Result<(Vec<u8>, Option<String>), ApiError> {
        self.refuse_deleted(id).await?;
        let limit = self.config.limits.max_input_bytes as u64;
        let original = match self
            .store
            .get_limited(OriginalKey::new(id).as_str(), limit)
            .await
        {
            Ok(object) => object,
            Err(StoreError::NotFound { .. }) => {
                return Err(ApiError::not_found("not_found", format!("no image {id}")));
            }
            Err(StoreError::TooLarge { size: bytes, .. }) => {
                return Err(ApiError::from(&Error::InputTooLarge {
                    bytes: bytes as usize,
                    limit: limit as usize,
                }));
            }
            Err(err) => return Err(store_error(&err)),
        };
        let config = self.config.clone();
        let bytes = original.bytes;
        let started = std::time::Instant::now();
        let made = tokio::task::spawn_blocking(move || {
            thumbs_core::render(&bytes, &[size], &[format], &config)
        })
        .await
        .unwrap_or_else(|join| Err(Error::Encode(format!("thumbnail task failed: {join}"))))
        .map_err(|err| ApiError::from(&err))?;
        let render_ms = started.elapsed().as_millis() as u64;
        let encoded = made
            .variants
            .into_iter()
            .next()
            .map(|t| t.bytes)
            .ok_or_else(|| ApiError::internal("internal", "no thumbnail was produced"))?;
        let key = ThumbnailKey::variant(id, size, format);
        self.refuse_deleted(id).await?;
        let written = self
            .store
            .put(key.as_str(), encoded.clone(), format.mime())
            .await
            .map_err(|e| store_error(&e));
        // After the write (or its failure: it may have landed anyway), once more.
        match lifecycle::is_deleted(&self.store, id).await {
            Ok(false) => {}
            Ok(true) => {
                self.store
                    .delete(key.as_str())
                    .await
                    .map_err(|e| store_error(&e))?;
                tracing::info!(%id, %size, %format, "deleted while rendering: thumbnail removed");
                return Err(deleted_error(id));
            }
            Err(err) => {
                // Cannot tell whether the image was deleted: do not serve, and do not leave
                // what may be a deleted image's thumbnail behind.
                let _ = self.store.delete(key.as_str()).await;
                return Err(store_error(&err));
            }
        }
        let etag = written?;
        tracing::info!(%id, %size, %format, bytes = encoded.len(), render_ms, "rendered on demand");
        Ok((encoded, etag))
    }

    /// `GET /images/{id}`: deleted (tombstone, 404) > ready (manifest) > failed (error.json) >
    /// processing (original) > 404.
    ///
    /// Same shape as the upload reply: `thumbnails` maps each configured size to its JPEG URL and
    /// `formats` to its URL per format plus the negotiated one (all of them work while
    /// processing, since missing ones are rendered on demand); `sizes` lists the sizes whose
    /// JPEG is stored and `stored` every stored variant (size → formats).
    async fn status(&self, req: &Request, id: &str) -> Result<Response<Body>, ApiError> {
        let id = ImageId::parse(id).map_err(|err| ApiError::from(&err))?;
        self.refuse_deleted(&id).await?;
        let base = public_base(req);
        let urls = thumbnail_urls(&base, &id, &self.config.sizes);
        let formats = variant_urls(&base, &id, &self.config.sizes);
        let manifest: Option<Manifest> = self
            .store
            .get_json(&layout::manifest_key(&id))
            .await
            .map_err(|e| store_error(&e))?;
        let body = if let Some(manifest) = manifest {
            let mut sizes: Vec<u32> = manifest.thumbnails.iter().map(|t| t.size).collect();
            sizes.dedup();
            // The manifest lists what the resize made; AVIFs rendered since are in the bucket.
            let stored = self.stored_variants(&id).await?;
            serde_json::json!({ "id": id, "status": "ready", "sizes": sizes, "original": manifest.source,
                                "thumbnails": urls, "formats": formats, "stored": stored,
                                "outputs": manifest.thumbnails })
        } else if let Some(failure) = self
            .store
            .get_json::<Failure>(&layout::error_key(&id))
            .await
            .map_err(|e| store_error(&e))?
        {
            serde_json::json!({ "id": id, "status": "failed", "reason": failure.reason, "code": failure.code,
                                "sizes": [], "thumbnails": {}, "formats": {}, "stored": {} })
        } else if let Some(original) = self
            .store
            .head(OriginalKey::new(&id).as_str())
            .await
            .map_err(|e| store_error(&e))?
        {
            let stored = self.stored_variants(&id).await?;
            let sizes: Vec<u32> = stored
                .iter()
                .filter(|(_, formats)| formats.contains(&OutputFormat::Jpeg.name()))
                .map(|(size, _)| *size)
                .collect();
            let age = original
                .last_modified
                .and_then(|at| std::time::SystemTime::now().duration_since(at).ok());
            match age {
                Some(age) if age > self.processing_timeout => {
                    // Every attempt at the resize has ended without a result: say so rather
                    // than `processing` for ever. The thumbnail URLs still work (on demand).
                    tracing::warn!(%id, age_s = age.as_secs(), "original without manifest or error record past the processing bound");
                    serde_json::json!({ "id": id, "status": "failed", "code": "stalled",
                        "reason": format!("no thumbnails {} s after the upload: the background resize did not finish; its event waits for a redrive, after which this can still become ready", age.as_secs()),
                        "sizes": sizes, "thumbnails": urls, "formats": formats, "stored": stored })
                }
                _ => {
                    serde_json::json!({ "id": id, "status": "processing", "sizes": sizes, "thumbnails": urls,
                                        "formats": formats, "stored": stored })
                }
            }
        } else {
            return Err(ApiError::not_found("not_found", format!("no image {id}")));
        };
        let mut resp = json_ok(&body);
        // Status changes: never cache it.
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, "no-store".parse().expect("static"));
        Ok(resp)
    }

    /// Size → the formats stored for it (`{"256": ["jpeg", "webp"]}`), from one LIST of
    /// `thumbnails/{id}/`, sizes ascending, formats in [`OutputFormat::ALL`] order.
    async fn stored_variants(
        &self,
        id: &ImageId,
    ) -> Result<std::collections::BTreeMap<u32, Vec<&'static str>>, ApiError> {
        let prefix = layout::thumbnails_prefix(id);
        let mut stored: std::collections::BTreeMap<u32, Vec<OutputFormat>> = Default::default();
        for key in self
            .store
            .list(&prefix)
            .await
            .map_err(|e| store_error(&e))?
        {
            if let Some((size, format)) =
                key.strip_prefix(&prefix).and_then(ThumbnailKey::parse_file)
            {
                stored.entry(size).or_default().push(format);
            }
        }
        Ok(stored
            .into_iter()
            .map(|(size, mut formats)| {
                formats.sort_unstable();
                (size, formats.into_iter().map(OutputFormat::name).collect())
            })
            .collect())
    }
}

/// The answer to a HEAD: the GET's status and headers, `Content-Length` the GET body's length,
/// no body (RFC 9110 9.3.2). API Gateway passes a HEAD to the function as a HEAD and sends no
/// body either way.
fn head_only(response: &mut Response<Body>) {
    let len = match response.body() {
        Body::Empty => None,
        Body::Text(text) => Some(text.len()),
        Body::Binary(bytes) => Some(bytes.len()),
        _ => None,
    };
    if let Some(len) = len {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, len.into());
    }
    *response.body_mut() = Body::Empty;
}

fn request_path(req: &Request) -> String {
    let raw = req.raw_http_path();
    if raw.is_empty() {
        req.uri().path().to_owned()
    } else {
        raw.to_owned()
    }
}

/// The answer for a tombstone look made alongside a read.
fn refuse_if(id: &ImageId, deleted: Result<bool, StoreError>) -> Result<(), ApiError> {
    match deleted {
        Ok(false) => Ok(()),
        Ok(true) => Err(deleted_error(id)),
        Err(err) => Err(store_error(&err)),
    }
}

/// 404 for an image that was deleted (its tombstone exists).
fn deleted_error(id: &ImageId) -> ApiError {
    ApiError::not_found("deleted", format!("image {id} was deleted"))
}

fn store_error(err: &StoreError) -> ApiError {
    tracing::error!(error = %err, transient = err.is_transient(), "storage call failed");
    ApiError::from(err)
}
