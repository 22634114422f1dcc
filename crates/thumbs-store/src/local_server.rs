//! [`LocalS3`]: an embedded S3-protocol server (s3s + s3s-fs) on 127.0.0.1, for thumbs-local and
//! for tests that want the real aws-sdk-s3 client over real HTTP instead of a fake.
//!
//! - Objects live as files under a root folder; each bucket is a sub-folder.
//! - SigV4 is verified (s3s `SimpleAuth`) with the static [`LOCAL_ACCESS_KEY`] /
//!   [`LOCAL_SECRET_KEY`], headers and presigned query strings alike, so a presigned URL
//!   signed with a Content-Type fails with any other type, as on AWS (docs/architecture.md, rule 7).
//! - CORS: the bucket's CORS rule from `template.yaml` (PUT from any origin, `ETag` exposed):
//!   preflight `OPTIONS` is answered here, and a PUT with an `Origin` gets the CORS headers.
//! - `TCP_NODELAY` on every accepted socket.
//! - Created objects (PutObject, CompleteMultipartUpload, CopyObject) are reported on a channel
//!   ([`LocalS3::start_with_hook`]) so the owner can deliver S3 event notifications.
//! - Conditional PUTs are atomic, as on S3: s3s-fs checks `If-None-Match: *` / `If-Match` when
//!   the request arrives and renames the finished file into place later, so two PUTs of one key
//!   could both pass the check. Here every PutObject of a key runs under that key's lock, so the
//!   check and the rename are one step: of concurrent create-only PUTs exactly one succeeds and
//!   the others get 412 PreconditionFailed (header-signed and presigned requests alike).
//! - Fault injection for tests: [`hold`] parks the next request of one operation on one key
//!   inside the server until the test lets it go, to place a DELETE at an exact point of a
//!   running resize without touching the code under test.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::dto::*;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3, S3Request, S3Response, S3Result};
use tokio::net::TcpListener;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use crate::config::StoreConfig;
use crate::event::ObjectCreated;

/// Access key the embedded server accepts (and the only one).
pub const LOCAL_ACCESS_KEY: &str = "thumbs-local";
/// Secret key matching [`LOCAL_ACCESS_KEY`].
pub const LOCAL_SECRET_KEY: &str = "thumbs-local-secret";

/// A running embedded S3 server. Stops when dropped.
#[derive(Debug)]
pub struct LocalS3 {
    addr: SocketAddr,
    root: PathBuf,
    /// Static credentials the server verifies signatures with.
    pub access_key: String,
    pub secret_key: String,
    accept_loop: JoinHandle<()>,
}

/// The embedded server could not start.
#[derive(Debug, thiserror::Error)]
pub enum LocalS3Error {
    #[error("data folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("s3s-fs: {0}")]
    FileSystem(String),
    #[error("binding 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
}

impl LocalS3 {
    /// Serves `root` on `127.0.0.1:port` (`0` = an ephemeral port) from the current tokio runtime.
    pub async fn start(root: impl Into<PathBuf>, port: u16) -> Result<LocalS3, LocalS3Error> {
        Self::serve(root.into(), port, None).await
    }

    /// Like [`LocalS3::start`], and sends an [`ObjectCreated`] on `hook` after every successful
    /// PutObject, CompleteMultipartUpload and CopyObject (after the object is in place, so a
    /// consumer can read it at once). A dropped receiver is ignored.
    pub async fn start_with_hook(
        root: impl Into<PathBuf>,
        port: u16,
        hook: UnboundedSender<ObjectCreated>,
    ) -> Result<LocalS3, LocalS3Error> {
        Self::serve(root.into(), port, Some(hook)).await
    }

    async fn serve(
        root: PathBuf,
        port: u16,
        hook: Option<UnboundedSender<ObjectCreated>>,
    ) -> Result<LocalS3, LocalS3Error> {
        std::fs::create_dir_all(&root).map_err(|source| LocalS3Error::Folder {
            path: root.clone(),
            source,
        })?;
        let root = root.canonicalize().map_err(|source| LocalS3Error::Folder {
            path: root.clone(),
            source,
        })?;
        let fs = s3s_fs::FileSystem::new(&root)
            .map_err(|err| LocalS3Error::FileSystem(format!("{err:?}")))?;
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| LocalS3Error::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| LocalS3Error::Bind { port, source })?;
        let mut builder = S3ServiceBuilder::new(Observed {
            inner: fs,
            root: root.clone(),
            hook,
            addr,
            key_locks: Mutex::default(),
        });
        builder.set_auth(SimpleAuth::from_single(LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY));
        let service = builder.build();
        let accept_loop = tokio::spawn(accept_loop(listener, service));
        tracing::info!(%addr, root = %root.display(), "embedded S3 server listening");
        Ok(LocalS3 {
            addr,
            root,
            access_key: LOCAL_ACCESS_KEY.to_owned(),
            secret_key: LOCAL_SECRET_KEY.to_owned(),
            accept_loop,
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The data folder (one sub-folder per bucket).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates `bucket` if it does not exist (a folder under the root, which is what s3s-fs
    /// CreateBucket does too).
    pub fn create_bucket(&self, bucket: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(self.root.join(bucket))
    }

    /// A [`StoreConfig`] pointing at this server: path style, static local credentials.
    pub fn store_config(&self, bucket: &str) -> StoreConfig {
        StoreConfig {
            bucket: bucket.to_owned(),
            endpoint_url: Some(self.endpoint_url()),
            force_path_style: true,
            credentials: Some((self.access_key.clone(), self.secret_key.clone())),
            session_token: None,
            region: "us-east-1".to_owned(),
        }
    }
}

/// A [`StoreConfig`] for "S3 is down": a loopback port nothing listens on (it was free a moment
/// ago), so every call fails to connect — a transient fault, as an outage looks to a handler.
pub fn unreachable_store_config(bucket: &str) -> StoreConfig {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or(9);
    StoreConfig {
        bucket: bucket.to_owned(),
        endpoint_url: Some(format!("http://127.0.0.1:{port}")),
        force_path_style: true,
        credentials: Some(("down".to_owned(), "down".to_owned())),
        session_token: None,
        region: "us-east-1".to_owned(),
    }
}

impl Drop for LocalS3 {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

async fn accept_loop(listener: TcpListener, service: S3Service) {
    let http = ConnBuilder::new(TokioExecutor::new());
    // Connections live in this task's JoinSet, so aborting the accept loop (dropping LocalS3)
    // also closes keep-alive connections a client pooled: "stopped" means stopped.
    let mut connections = tokio::task::JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(err) => {
                tracing::warn!("embedded S3: accept failed: {err}");
                continue;
            }
        };
        // Nagle's algorithm against the client's delayed ACK stalls every keep-alive response
        // written in more than one segment by ~40 ms.
        if let Err(err) = socket.set_nodelay(true) {
            tracing::warn!("embedded S3: TCP_NODELAY: {err}");
        }
        let service = service.clone();
        let http = http.clone();
        connections.spawn(async move {
            let svc = service_fn(move |req| with_cors(service.clone(), req));
            if let Err(err) = http.serve_connection(TokioIo::new(socket), svc).await {
                tracing::debug!("embedded S3: connection ended: {err}");
            }
        });
    }
}

/// The bucket CORS rule the embedded server applies: `template.yaml`'s `ImagesBucket`
/// `CorsConfiguration` with its default `CorsAllowOrigin` ("*"): PUT from any origin with any
/// header, `ETag` exposed, preflight cached 3000 s — what a page needs to PUT to a presigned URL
/// (docs/architecture.md, rule 7). thumbs-local's tests check the template still says the same.
pub const BUCKET_CORS_ALLOWED_METHODS: &[&str] = &["PUT"];
/// `ExposedHeaders` of the rule.
pub const BUCKET_CORS_EXPOSED_HEADERS: &[&str] = &["ETag"];
/// `MaxAge` of the rule, seconds.
pub const BUCKET_CORS_MAX_AGE: u32 = 3000;

/// S3's CORS evaluation for the one rule above
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html): a preflight whose
/// `Access-Control-Request-Method` the rule allows gets the CORS headers, any other preflight a
/// 403; an actual request with an `Origin` and an allowed method gets `Access-Control-Allow-Origin`
/// and `Access-Control-Expose-Headers`, others none.
async fn with_cors(
    service: S3Service,
    req: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<s3s::Body>, Infallible> {
    use http::header::{self, HeaderValue};

    let allowed = |method: &str| BUCKET_CORS_ALLOWED_METHODS.contains(&method);
    let origin = req.headers().get(header::ORIGIN).cloned();
    if req.method() == http::Method::OPTIONS {
        let requested = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|m| m.to_str().ok())
            .unwrap_or("");
        let mut resp = http::Response::new(s3s::Body::empty());
        if origin.is_none() || !allowed(requested) {
            *resp.status_mut() = http::StatusCode::FORBIDDEN;
            return Ok(resp);
        }
        let h = resp.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_str(&BUCKET_CORS_ALLOWED_METHODS.join(", ")).expect("static"),
        );
        if let Some(headers) = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .cloned()
        {
            // AllowedHeaders "*": every requested header is allowed.
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, headers);
        }
        h.insert(header::ACCESS_CONTROL_MAX_AGE, BUCKET_CORS_MAX_AGE.into());
        h.insert(
            header::VARY,
            HeaderValue::from_static(
                "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
            ),
        );
        return Ok(resp);
    }
    let cors = origin.is_some() && allowed(req.method().as_str());
    let mut resp = match hyper::service::Service::call(&service, req).await {
        Ok(resp) => resp,
        Err(err) => {
            tracing::error!("embedded S3: {err:?}");
            let mut resp = http::Response::new(s3s::Body::empty());
            *resp.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            resp
        }
    };
    if cors {
        let h = resp.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_str(&BUCKET_CORS_EXPOSED_HEADERS.join(", ")).expect("static"),
        );
        h.insert(
            header::VARY,
            HeaderValue::from_static(
                "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
            ),
        );
    }
    Ok(resp)
}

/// Longest a [`hold`] keeps a request parked, so a test that forgets to release cannot wedge
/// the server.
pub const MAX_HOLD: Duration = Duration::from_secs(20);

/// A request parked by [`hold`]: released when this is dropped (or after [`MAX_HOLD`]).
#[derive(Debug)]
pub struct Hold {
    rule: Arc<HoldRule>,
}

#[derive(Debug)]
struct HoldRule {
    server: SocketAddr,
    operation: &'static str,
    key_contains: String,
    taken: AtomicBool,
    reached: tokio::sync::watch::Sender<bool>,
    released: tokio::sync::watch::Sender<bool>,
}

/// Holds registered by tests, for every server in this process (each rule names its server).
static HOLDS: Mutex<Vec<Arc<HoldRule>>> = Mutex::new(Vec::new());

/// Parks the next `operation` (`"PutObject"`, `"GetObject"`, `"HeadObject"`, `"DeleteObject"`,
/// `"ListObjectsV2"`) whose key (or list prefix) contains `key_contains`, on the server at
/// `server`, before it touches the data folder. Only that one request waits; others pass.
/// For tests: it is how they put a DELETE between two steps of a real resize.
pub fn hold(server: SocketAddr, operation: &'static str, key_contains: &str) -> Hold {
    let rule = Arc::new(HoldRule {
        server,
        operation,
        key_contains: key_contains.to_owned(),
        taken: AtomicBool::new(false),
        reached: tokio::sync::watch::Sender::new(false),
        released: tokio::sync::watch::Sender::new(false),
    });
    lock(&HOLDS).push(Arc::clone(&rule));
    Hold { rule }
}

impl Hold {
    /// Waits until the matching request is parked; `false` if none came within `within`.
    pub async fn reached(&self, within: Duration) -> bool {
        let mut reached = self.rule.reached.subscribe();
        tokio::time::timeout(within, reached.wait_for(|r| *r))
            .await
            .is_ok()
    }

    /// Lets the parked request (if any) go on; a later match is no longer held.
    pub fn release(self) {}
}

impl Drop for Hold {
    fn drop(&mut self) {
        lock(&HOLDS).retain(|rule| !Arc::ptr_eq(rule, &self.rule));
        self.rule.released.send_replace(true);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// s3s-fs with a tap on object creation, atomic conditional PUTs and test holds. Forwards the
/// operations s3s-fs implements.
struct Observed {
    inner: s3s_fs::FileSystem,
    root: PathBuf,
    hook: Option<UnboundedSender<ObjectCreated>>,
    addr: SocketAddr,
    /// One lock per `bucket/key` being written; entries go when their last user does.
    key_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Observed {
    /// Parks the request if a [`hold`] on this server matches it.
    async fn gate(&self, operation: &'static str, key: &str) {
        let rule = lock(&HOLDS)
            .iter()
            .find(|rule| {
                rule.server == self.addr
                    && rule.operation == operation
                    && key.contains(&rule.key_contains)
                    && !rule.taken.load(Ordering::SeqCst)
            })
            .cloned();
        let Some(rule) = rule else { return };
        if rule.taken.swap(true, Ordering::SeqCst) {
            return;
        }
        let mut released = rule.released.subscribe();
        rule.reached.send_replace(true);
        tracing::debug!(operation, key, "embedded S3: request held by a test");
        let _ = tokio::time::timeout(MAX_HOLD, released.wait_for(|r| *r)).await;
    }

    /// Runs `write` under the lock of `bucket/key`.
    async fn serialized<T>(
        &self,
        bucket: &str,
        key: &str,
        write: impl std::future::Future<Output = T>,
    ) -> T {
        let name = format!("{bucket}/{key}");
        let key_lock = Arc::clone(lock(&self.key_locks).entry(name.clone()).or_default());
        let guard = Arc::clone(&key_lock).lock_owned().await;
        let result = write.await;
        drop(guard);
        let mut locks = lock(&self.key_locks);
        // Two references (the map's and ours) means nobody else waits for it.
        if Arc::strong_count(&key_lock) == 2 {
            locks.remove(&name);
        }
        result
    }

    fn notify(&self, event_name: &'static str, bucket: &str, key: &str, etag: Option<&ETag>) {
        let Some(hook) = &self.hook else { return };
        // The object is on disk by now; its size is the file's.
        let size = std::fs::metadata(self.root.join(bucket).join(key))
            .map(|m| m.len())
            .unwrap_or(0);
        let etag = etag.map(|e| e.value().to_owned()).unwrap_or_default();
        let _ = hook.send(ObjectCreated {
            event_name,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size,
            etag,
        });
    }
}

/// Forwards to s3s-fs. Written in the shape `#[async_trait]` expands to, because the attribute
/// runs before this macro is expanded and would not rewrite `async fn`s generated by it.
macro_rules! forward {
    ($($method:ident($input:ty) -> $output:ty;)*) => {$(
        fn $method<'life0, 'async_trait>(
            &'life0 self,
            req: S3Request<$input>,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = S3Result<S3Response<$output>>> + Send + 'async_trait>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            self.inner.$method(req)
        }
    )*};
}

#[async_trait::async_trait]
impl S3 for Observed {
    forward! {
        create_bucket(CreateBucketInput) -> CreateBucketOutput;
        delete_bucket(DeleteBucketInput) -> DeleteBucketOutput;
        delete_objects(DeleteObjectsInput) -> DeleteObjectsOutput;
        get_bucket_location(GetBucketLocationInput) -> GetBucketLocationOutput;
        head_bucket(HeadBucketInput) -> HeadBucketOutput;
        list_buckets(ListBucketsInput) -> ListBucketsOutput;
        list_objects(ListObjectsInput) -> ListObjectsOutput;
        create_multipart_upload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput;
        upload_part(UploadPartInput) -> UploadPartOutput;
        upload_part_copy(UploadPartCopyInput) -> UploadPartCopyOutput;
        list_parts(ListPartsInput) -> ListPartsOutput;
        abort_multipart_upload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput;
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        self.gate("GetObject", &req.input.key).await;
        self.inner.get_object(req).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.gate("HeadObject", &req.input.key).await;
        self.inner.head_object(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.gate("DeleteObject", &req.input.key).await;
        self.inner.delete_object(req).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let prefix = req.input.prefix.clone().unwrap_or_default();
        self.gate("ListObjectsV2", &prefix).await;
        self.inner.list_objects_v2(req).await
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        self.gate("PutObject", &key).await;
        // s3s-fs checks If-None-Match / If-Match before streaming the body and renames the file
        // into place after: only under the key's lock is that check-then-write atomic.
        let resp = self
            .serialized(&bucket, &key, self.inner.put_object(req))
            .await?;
        if !key.ends_with('/') {
            self.notify(
                "ObjectCreated:Put",
                &bucket,
                &key,
                resp.output.e_tag.as_ref(),
            );
        }
        Ok(resp)
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let resp = self.inner.complete_multipart_upload(req).await?;
        self.notify(
            "ObjectCreated:CompleteMultipartUpload",
            &bucket,
            &key,
            resp.output.e_tag.as_ref(),
        );
        Ok(resp)
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let resp = self.inner.copy_object(req).await?;
        let etag = resp
            .output
            .copy_object_result
            .as_ref()
            .and_then(|r| r.e_tag.as_ref());
        self.notify("ObjectCreated:Copy", &bucket, &key, etag);
        Ok(resp)
    }
}
