//! The local stack: embedded S3 + API Gateway emulator + S3 event delivery, wired from the
//! template, and `thumbs-local` (no subcommand) running it until Ctrl-C.
//!
//! [`start`] is the library entry point (integration tests use it with port 0); [`run`] is the
//! command: it prints the URLs, the API key and a curl example, and stops cleanly on Ctrl-C or
//! SIGTERM. Data lives under the data folder (`s3/` for objects, `api-key`, `failure-queue/`), so
//! a restart keeps it.
//!
//! Nothing acknowledged is lost across a restart, whatever ended the last run (Ctrl-C, SIGTERM,
//! kill -9): on AWS, S3 delivers event notifications at least once and Lambda keeps
//! async invocations in its own queue
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html>,
//! <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html>); here the events live in
//! memory, so on start [`start`] re-delivers `ObjectCreated` for every original that has no
//! manifest, no error record and no tombstone, after redriving the failure queue
//! ([`Notifications::redrive`]). An object is only ever visible complete: s3s-fs writes each one
//! to a temporary file and renames it into place, and answers the PUT after the rename.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use thumbs_store::event::ObjectCreated;
use thumbs_store::layout::{self, OriginalKey};
use thumbs_store::local_server::LocalS3;
use thumbs_store::{Store, StoreError};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::addresses::{Addresses, ReadyFile};
use crate::cli::ServeArgs;
use crate::gateway::{FunctionEntry, Gateway, INTEGRATION_TIMEOUT};
use crate::handlers::{self, Built};
use crate::s3_events::{FailureQueue, Notifications, RetryPolicy, Subscription};
use crate::template::{Template, TemplateError, TemplateSource};

/// Environment variable with the API key to use instead of the generated one.
pub const API_KEY_ENV: &str = "THUMBS_API_KEY";
/// File in the data folder that keeps the generated API key across restarts.
const API_KEY_FILE: &str = "api-key";
/// Folder in the data folder holding the failure queue (the resize's on-failure destination).
pub const FAILURE_QUEUE_DIR: &str = "failure-queue";

/// How to start the stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// API port on 127.0.0.1 (`0` = any free port).
    pub port: u16,
    /// Embedded S3 port on 127.0.0.1 (`0` = any free port).
    pub s3_port: u16,
    pub data_dir: PathBuf,
    pub template: TemplateSource,
    /// Template parameter values replacing their defaults.
    pub parameters: BTreeMap<String, String>,
    /// Fill the API key into the upload page served to loopback clients.
    pub page_key: bool,
    /// The key writes need; `None` = the one saved in the data folder, else a new one (saved).
    pub api_key: Option<String>,
    /// API Gateway's integration timeout (29 s; shorter in tests).
    pub integration_timeout: Duration,
    /// Lambda's async retry delays for S3 events.
    pub retry: RetryPolicy,
}

impl StackOptions {
    pub fn new(data_dir: impl Into<PathBuf>, template: impl Into<PathBuf>) -> StackOptions {
        StackOptions {
            port: 3000,
            s3_port: crate::cli::DEFAULT_S3_PORT,
            data_dir: data_dir.into(),
            template: TemplateSource::File(template.into()),
            parameters: BTreeMap::new(),
            page_key: false,
            api_key: None,
            integration_timeout: INTEGRATION_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }
}

/// The stack could not start.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("embedded S3: {0}")]
    S3(#[from] thumbs_store::local_server::LocalS3Error),
    #[error("data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("binding the API on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("function {function}: {message}")]
    Function { function: String, message: String },
}

/// A running stack. [`RunningStack::shutdown`] stops it and waits; dropping it stops it too.
pub struct RunningStack {
    /// `http://127.0.0.1:<port>` (the API and the page; also served under `/<stage>/`).
    pub api_url: String,
    /// `http://127.0.0.1:<port>` of the embedded S3 server.
    pub s3_url: String,
    /// The bucket the handlers use.
    pub bucket: String,
    /// The `x-api-key` writes need (when the template requires one).
    pub api_key: String,
    /// Whether any route has `ApiKeyRequired`.
    pub api_key_required: bool,
    /// Whether the upload page served to loopback clients has the key filled in.
    pub page_key: bool,
    pub data_dir: PathBuf,
    /// Originals left unfinished by the last run whose `ObjectCreated` was re-delivered on start.
    pub requeued: usize,
    /// Failure-queue messages redriven on start.
    pub redriven: usize,
    /// The resize's on-failure destination.
    pub failure_queue: FailureQueue,
    /// Which template the stack was built from ([`TemplateSource::describe`]).
    pub template: String,
    stop: watch::Sender<bool>,
    gateway_task: JoinHandle<()>,
    events_task: JoinHandle<()>,
    s3: Option<LocalS3>,
}

impl RunningStack {
    /// Stops accepting requests, lets in-flight requests and event deliveries finish (bounded),
    /// then stops the S3 server.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        let gateway = &mut self.gateway_task;
        if tokio::time::timeout(Duration::from_secs(10), gateway)
            .await
            .is_err()
        {
            self.gateway_task.abort();
        }
        // Deliveries in flight finish (with their retries, bounded), then S3 stops.
        let events = &mut self.events_task;
        if tokio::time::timeout(Duration::from_secs(10), events)
            .await
            .is_err()
        {
            self.events_task.abort();
        }
        drop(self.s3.take());
    }
}

impl Drop for RunningStack {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.gateway_task.abort();
        self.events_task.abort();
    }
}

/// Starts the stack from the current tokio runtime.
pub async fn start(options: StackOptions) -> Result<RunningStack, StackError> {
    let template = options.template.load(&options.parameters)?;
    let data_dir = &options.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|source| StackError::DataDir {
        path: data_dir.clone(),
        source,
    })?;
    let api_key = match options.api_key.clone() {
        Some(key) => key,
        None => load_or_create_api_key(data_dir)?,
    };

    let (created_tx, created_rx) = tokio::sync::mpsc::unbounded_channel();
    let s3 = LocalS3::start_with_hook(data_dir.join("s3"), options.s3_port, created_tx).await?;
    let bucket = bucket_name(&template);
    s3.create_bucket(&bucket)
        .map_err(|source| StackError::DataDir {
            path: s3.root().join(&bucket),
            source,
        })?;
    let store_config = s3.store_config(&bucket);

    let mut http_functions = HashMap::new();
    let mut subscriptions = Vec::new();
    for function in &template.functions {
        // The function's environment as Lambda would see it, BUCKET_NAME pointing at the local bucket.
        let mut environment = function.environment.clone();
        environment.insert("BUCKET_NAME".to_owned(), bucket.clone());
        let built = handlers::build(function, &environment, &store_config)
            .await
            .map_err(|message| StackError::Function {
                function: function.logical_id.clone(),
                message,
            })?;
        match built {
            Some(Built::Http(handler)) => {
                let handler = if options.page_key {
                    crate::page_key::fill_in(function, handler, &api_key)
                } else {
                    handler
                };
                let timeout = function.timeout_secs.map(Duration::from_secs);
                http_functions.insert(
                    function.logical_id.clone(),
                    FunctionEntry {
                        function: handler,
                        timeout,
                    },
                );
            }
            Some(Built::Event(handler)) => {
                for trigger in &function.s3_events {
                    subscriptions.push(Subscription {
                        function_name: function.logical_id.clone(),
                        function: Arc::clone(&handler),
                        trigger: trigger.clone(),
                    });
                }
            }
            None => {
                tracing::warn!(function = %function.logical_id, binary = ?function.binary, "no local handler for this function; its routes answer 502")
            }
        }
    }

    let gateway = Gateway::new(&template, http_functions, Some(api_key.clone()))
        .with_integration_timeout(options.integration_timeout);
    let api_key_required = gateway.routes().iter().any(|route| route.api_key_required);
    let listener = TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|source| StackError::Bind {
            port: options.port,
            source,
        })?;
    let api_addr: SocketAddr = listener.local_addr().map_err(|source| StackError::Bind {
        port: options.port,
        source,
    })?;

    // Before the API takes requests: what the last run left behind goes first.
    let failure_queue = FailureQueue::new(data_dir.join(FAILURE_QUEUE_DIR));
    let notifications = Notifications::new(bucket.clone(), subscriptions, options.retry.clone())
        .with_failure_queue(failure_queue.clone());
    let mut deliveries = JoinSet::new();
    let (mut redriven, mut requeued) = (0, 0);
    if !notifications.is_empty() {
        notifications.send_test_event().await;
        let redriven_keys: HashSet<String> = failure_queue
            .messages()
            .iter()
            .flat_map(|message| message.object_keys())
            .collect();
        redriven = notifications.redrive(&mut deliveries);
        let store = Store::connect(&store_config).await;
        match unfinished_originals(&store, &bucket, &redriven_keys).await {
            Ok(unfinished) => {
                notifications.redeliver(&unfinished, &mut deliveries);
                requeued = unfinished.len();
            }
            Err(err) => {
                tracing::error!(%err, "listing unfinished originals failed; none re-queued")
            }
        }
        if redriven + requeued > 0 {
            tracing::info!(
                requeued,
                redriven,
                "re-delivered events the last run left unfinished"
            );
        }
    }

    let (stop, stop_rx) = watch::channel(false);
    let gateway_task = tokio::spawn(Arc::new(gateway).serve(listener, stop_rx));
    let events_task =
        tokio::spawn(notifications.run_from(deliveries, created_rx, stop.subscribe()));

    Ok(RunningStack {
        api_url: format!("http://{api_addr}"),
        s3_url: s3.endpoint_url(),
        bucket,
        api_key,
        api_key_required,
        page_key: options.page_key,
        data_dir: options.data_dir.clone(),
        requeued,
        redriven,
        failure_queue,
        template: options.template.describe(),
        stop,
        gateway_task,
        events_task,
        s3: Some(s3),
    })
}

/// The `ObjectCreated` S3 would deliver for every `originals/{id}` that has neither a manifest,
/// nor an error record, nor a tombstone, and is not in `skip` (keys already being redriven).
/// Keys under `originals/` that are not image ids are left alone: nothing would ever mark them
/// finished.
async fn unfinished_originals(
    store: &Store,
    bucket: &str,
    skip: &HashSet<String>,
) -> Result<Vec<ObjectCreated>, StoreError> {
    let originals = store.list(layout::ORIGINALS_PREFIX).await?;
    if originals.is_empty() {
        return Ok(Vec::new());
    }
    let finished: HashSet<String> = store
        .list(layout::THUMBNAILS_PREFIX)
        .await?
        .into_iter()
        .chain(store.list(layout::TOMBSTONES_PREFIX).await?)
        .collect();
    let mut unfinished = Vec::new();
    for key in originals {
        let Some(id) = OriginalKey::parse_id(&key) else {
            continue;
        };
        if skip.contains(&key)
            || finished.contains(&layout::manifest_key(&id))
            || finished.contains(&layout::error_key(&id))
            || finished.contains(&layout::tombstone_key(&id))
        {
            continue;
        }
        // Gone since the listing (deleted): nothing to deliver.
        let Some(meta) = store.head(&key).await? else {
            continue;
        };
        unfinished.push(ObjectCreated {
            event_name: "ObjectCreated:Put",
            bucket: bucket.to_owned(),
            key,
            size: meta.size,
            etag: meta.etag.unwrap_or_default().trim_matches('"').to_owned(),
        });
    }
    Ok(unfinished)
}

/// The bucket the template's functions are told about (`BUCKET_NAME`), resolved the way the
/// template would resolve it for a stack named `thumbs-local`; `thumbs-local` if none.
pub(crate) fn bucket_name(template: &Template) -> String {
    template
        .functions
        .iter()
        .find_map(|f| f.environment.get("BUCKET_NAME"))
        .filter(|name| is_valid_bucket_name(name))
        .cloned()
        .unwrap_or_else(|| "thumbs-local".to_owned())
}

fn is_valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

/// The saved key, or a new random one saved for next time (mode 0600 on Unix).
fn load_or_create_api_key(data_dir: &Path) -> Result<String, StackError> {
    let path = data_dir.join(API_KEY_FILE);
    let io = |source| StackError::DataDir {
        path: path.clone(),
        source,
    };
    if let Ok(saved) = std::fs::read_to_string(&path) {
        let saved = saved.trim();
        if !saved.is_empty() {
            return Ok(saved.to_owned());
        }
    }
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|err| io(std::io::Error::other(err.to_string())))?;
    let key: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&path, format!("{key}\n")).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    }
    Ok(key)
}

/// Logging, then a multi-threaded tokio runtime that runs `command` to its exit code: the
/// start of every long-running subcommand.
pub(crate) fn run_on_runtime(command: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    init_tracing();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(command),
        Err(err) => {
            eprintln!("error: starting the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `thumbs-local` / `thumbs-local serve`: runs the stack until Ctrl-C.
pub fn run(args: ServeArgs) -> ExitCode {
    run_on_runtime(async move {
        let stack = match start(options_from_args(&args)).await {
            Ok(stack) => stack,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        };
        print_banner(&stack);
        let ready = match announce(&stack, args.ready_file.as_deref()) {
            Ok(ready) => ready,
            Err(err) => {
                eprintln!("error: {err}");
                stack.shutdown().await;
                return ExitCode::FAILURE;
            }
        };
        let signal = stop_signal().await;
        eprintln!(
            "{signal}: stopping (in-flight requests and resizes get up to 10 s each; a second signal stops at once)..."
        );
        drop(ready);
        tokio::select! {
            () = stack.shutdown() => {
                eprintln!("stopped; data kept in {}", args.data_dir.display());
            }
            signal = stop_signal() => {
                eprintln!("{signal} again: stopped at once; unfinished images are re-queued on the next start");
            }
        }
        ExitCode::SUCCESS
    })
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM; says which.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "Ctrl-C",
                _ = term.recv() => "SIGTERM",
            };
        }
    }
    if let Err(err) = tokio::signal::ctrl_c().await {
        eprintln!("error: waiting for Ctrl-C: {err}");
    }
    "Ctrl-C"
}

/// The command line's stack options (`THUMBS_API_KEY` chooses the key).
fn options_from_args(args: &ServeArgs) -> StackOptions {
    let mut options = StackOptions::new(&args.data_dir, PathBuf::new());
    options.template = args.template.source();
    options.parameters = args.template.overrides();
    options.port = args.port;
    options.s3_port = args.s3_port;
    options.page_key = !args.no_page_key;
    options.api_key = std::env::var(API_KEY_ENV)
        .ok()
        .filter(|key| !key.trim().is_empty());
    options
}

impl RunningStack {
    /// What the banner and the ready file tell: every address and credential a client needs.
    pub fn addresses(&self) -> Addresses {
        Addresses::of_stack(self)
    }
}

/// Writes the ready file, if asked for; the returned guard removes it again.
fn announce(stack: &RunningStack, path: Option<&Path>) -> Result<Option<ReadyFile>, String> {
    path.map(|path| ReadyFile::write(path, &stack.addresses()))
        .transpose()
        .map_err(|err| format!("ready file: {err}"))
}

fn print_banner(stack: &RunningStack) {
    let a = stack.addresses();
    let api = &stack.api_url;
    println!();
    println!("thumbs local stack");
    println!("  upload page   {api}/");
    println!("  API           {api}  (also under {api}/Prod/)");
    println!(
        "  recovery      {} unfinished originals re-queued, {} failed events redriven from {}",
        stack.requeued,
        stack.redriven,
        stack.failure_queue.dir().display()
    );
    if stack.api_key_required {
        let from_env = std::env::var(API_KEY_ENV).is_ok_and(|key| !key.trim().is_empty());
        let origin = if from_env {
            format!("from {API_KEY_ENV}")
        } else {
            format!(
                "kept in {}; {API_KEY_ENV} overrides",
                stack.data_dir.join(API_KEY_FILE).display()
            )
        };
        println!(
            "  API key       {}  (x-api-key for writes; {origin})",
            stack.api_key
        );
        if stack.page_key {
            println!(
                "                the upload page has it filled in when opened from this machine \
                 (--no-page-key: it asks, as on AWS)"
            );
        }
    }
    println!(
        "  embedded S3   {}  bucket {}  region {}",
        a.s3_endpoint, a.bucket, a.region
    );
    println!(
        "                AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={}  (path-style)",
        a.access_key_id, a.secret_access_key
    );
    println!("  data          {}", stack.data_dir.display());
    println!("  template      {}", stack.template);
    println!();
    println!("try:");
    if stack.api_key_required {
        println!("  export {API_KEY_ENV}={}", stack.api_key);
    }
    let key = if stack.api_key_required {
        format!(" -H \"x-api-key: ${API_KEY_ENV}\"")
    } else {
        String::new()
    };
    println!("  curl -sS{key} -H 'Content-Type: image/jpeg' --data-binary @photo.jpg {api}/images");
    println!("  curl -sS {api}/images/<id>");
    println!("  curl -sS -o thumb.jpg {api}/images/<id>/256.jpg");
    println!(
        "  AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={} aws --region {} --endpoint-url {} s3 ls s3://{}/ --recursive",
        a.access_key_id, a.secret_access_key, a.region, a.s3_endpoint, a.bucket
    );
    println!();
    println!("Ctrl-C stops; data is kept.");
}

pub(crate) fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
