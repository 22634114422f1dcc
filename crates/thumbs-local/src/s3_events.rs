//! S3 event notifications, delivered the way S3 and Lambda deliver them (platform rule 5).
//!
//! The embedded S3 server reports every created object ([`ObjectCreated`]); each one that a
//! template `S3` event's filter selects (event name, key prefix/suffix) becomes an S3 event JSON
//! (key URL-encoded, space as `+`, as in real records) and is invoked ASYNCHRONOUSLY: the upload
//! that caused it does not wait. On error Lambda retries an async invocation twice, with a delay
//! (about 1 and 2 minutes on AWS; [`RetryPolicy`] here, seconds by default). When notifications
//! are configured, S3 first sends an `s3:TestEvent`, and so does [`Notifications::send_test_event`].
//!
//! An event that used up its retries goes, as on AWS, to the function's on-failure destination:
//! here a [`FailureQueue`], one file per message in the data folder, holding the same invocation
//! record Lambda sends to an SQS destination
//! (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>). It is
//! drained the way `scripts/redrive` drains the SQS queue on AWS: each record's
//! `requestPayload` (the S3 event) is invoked asynchronously again, with fresh retries, and the
//! message is deleted once handed over ([`Notifications::redrive`]); thumbs-local does that on
//! start. Lambda's async invocation and retries:
//! <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html>.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use thumbs_store::event::ObjectCreated;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::functions::EventFunction;
use crate::template::{LOCAL_REGION, S3Trigger};

/// The account id in local ARNs (LocalStack and SAM use the same placeholder).
const LOCAL_ACCOUNT: &str = "000000000000";

/// Lambda's async retry behaviour: `delays.len()` retries, waiting each delay before one.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub delays: Vec<Duration>,
}

impl Default for RetryPolicy {
    /// Two retries (Lambda's default `MaximumRetryAttempts`), 1 s then 2 s.
    fn default() -> RetryPolicy {
        RetryPolicy {
            delays: vec![Duration::from_secs(1), Duration::from_secs(2)],
        }
    }
}

/// One S3 event source: a function and its filter.
#[derive(Clone)]
pub struct Subscription {
    pub function_name: String,
    pub function: Arc<dyn EventFunction>,
    pub trigger: S3Trigger,
}

/// The on-failure destination: an SQS-like queue kept as one JSON file per message in a folder
/// (written to a temporary name, then renamed, so a crash never leaves half a message).
#[derive(Debug, Clone)]
pub struct FailureQueue {
    dir: PathBuf,
}

/// One message of the [`FailureQueue`]: the file and Lambda's invocation record in it.
#[derive(Debug, Clone)]
pub struct FailedEvent {
    pub path: PathBuf,
    pub record: Value,
}

impl FailedEvent {
    /// The function the event was for: the name in `functionArn`
    /// (`arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]`).
    pub fn function_name(&self) -> Option<&str> {
        let arn = self.record["requestContext"]["functionArn"].as_str()?;
        let (_, rest) = arn.split_once(":function:")?;
        rest.split(':').next().filter(|name| !name.is_empty())
    }

    /// The object keys (decoded) the failed S3 event was about.
    pub fn object_keys(&self) -> Vec<String> {
        self.record["requestPayload"]["Records"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["s3"]["object"]["key"].as_str())
            .filter_map(|raw| thumbs_store::event::decode_key(raw).ok())
            .collect()
    }
}

static MESSAGE_COUNTER: AtomicU64 = AtomicU64::new(0);

impl FailureQueue {
    /// The queue in `dir` (created on the first message).
    pub fn new(dir: impl Into<PathBuf>) -> FailureQueue {
        FailureQueue { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one invocation record; returns the message's file.
    pub fn send(&self, record: &Value) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let n = MESSAGE_COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{now:024}-{}-{n}.json", std::process::id());
        let path = self.dir.join(&name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let bytes = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }

    /// Every message, oldest first. Unreadable or non-JSON files are skipped (and logged), not
    /// deleted: an operator can look at them.
    pub fn messages(&self) -> Vec<FailedEvent> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.extension().is_some_and(|ext| ext == "json")
                    && !path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        paths.sort();
        paths
            .into_iter()
            .filter_map(|path| {
                let parsed = std::fs::read(&path)
                    .map_err(|err| err.to_string())
                    .and_then(|bytes| {
                        serde_json::from_slice::<Value>(&bytes).map_err(|err| err.to_string())
                    });
                match parsed {
                    Ok(record) => Some(FailedEvent { path, record }),
                    Err(err) => {
                        tracing::warn!(path = %path.display(), %err, "unreadable message in the failure queue; left in place");
                        None
                    }
                }
            })
            .collect()
    }

    /// How many messages wait.
    pub fn len(&self) -> usize {
        self.messages().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The record Lambda sends to an on-failure destination after an async invocation's last retry
/// (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>).
fn invocation_record(
    function_name: &str,
    event: &Value,
    attempts: usize,
    error: &FunctionFailure,
) -> Value {
    let timestamp = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut id = [0u8; 16];
    let _ = getrandom::fill(&mut id);
    let request_id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    json!({
        "version": "1.0",
        "timestamp": timestamp,
        "requestContext": {
            "requestId": request_id,
            "functionArn": format!("arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{function_name}"),
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": {
            "errorType": error.error_type,
            "errorMessage": error.message,
        },
    })
}

/// Why the last attempt failed.
struct FunctionFailure {
    error_type: String,
    message: String,
}

/// The bucket's notification configuration.
#[derive(Clone)]
pub struct Notifications {
    bucket: String,
    subscriptions: Vec<Subscription>,
    retry: RetryPolicy,
    failure_queue: Option<FailureQueue>,
}

impl Notifications {
    pub fn new(
        bucket: impl Into<String>,
        subscriptions: Vec<Subscription>,
        retry: RetryPolicy,
    ) -> Notifications {
        Notifications {
            bucket: bucket.into(),
            subscriptions,
            retry,
            failure_queue: None,
        }
    }

    /// Sends events that exhaust their retries to `queue` (else they are only logged).
    pub fn with_failure_queue(mut self, queue: FailureQueue) -> Notifications {
        self.failure_queue = Some(queue);
        self
    }

    pub fn failure_queue(&self) -> Option<&FailureQueue> {
        self.failure_queue.as_ref()
    }

    /// Re-sends `events` (re-delivered ObjectCreated, e.g. for originals left unfinished by a
    /// crash) as S3 would: the same filter, the same event shape, the same retries.
    pub fn redeliver(&self, objects: &[ObjectCreated], deliveries: &mut JoinSet<()>) {
        for object in objects {
            self.dispatch(object, deliveries);
        }
    }

    /// Drains the failure queue as `scripts/redrive` drains the SQS queue: each message's
    /// `requestPayload` is invoked asynchronously again (with Lambda's retries, and back into
    /// the queue if they are used up), then the message is deleted. A message for a function
    /// with no subscription here stays. Returns how many were redriven.
    pub fn redrive(&self, deliveries: &mut JoinSet<()>) -> usize {
        let Some(queue) = &self.failure_queue else {
            return 0;
        };
        let mut redriven = 0;
        for message in queue.messages() {
            let Some(subscription) = message
                .function_name()
                .and_then(|name| self.subscriptions.iter().find(|s| s.function_name == name))
            else {
                tracing::warn!(path = %message.path.display(), "failure-queue message for no known function; left in place");
                continue;
            };
            let payload = message.record["requestPayload"].clone();
            let label = format!("redrive {}", message.object_keys().join(", "));
            deliveries.spawn(deliver(
                subscription.clone(),
                payload,
                label,
                self.retry.clone(),
                self.failure_queue.clone(),
            ));
            if let Err(err) = std::fs::remove_file(&message.path) {
                tracing::warn!(path = %message.path.display(), %err, "could not delete a redriven message");
            }
            redriven += 1;
        }
        redriven
    }

    pub fn is_empty(&self) -> bool {
        self.subscriptions.is_empty()
    }

    /// Delivers events for everything received on `created` until the channel closes; waits for
    /// deliveries in flight (with their retries) before returning.
    pub async fn run(self, created: UnboundedReceiver<ObjectCreated>) {
        let (_keep, never) = watch::channel(false);
        self.run_until(created, never).await;
    }

    /// Like [`Notifications::run`], and stops taking new objects once `stop` turns true.
    pub async fn run_until(
        self,
        created: UnboundedReceiver<ObjectCreated>,
        stop: watch::Receiver<bool>,
    ) {
        self.run_from(JoinSet::new(), created, stop).await;
    }

    /// Like [`Notifications::run_until`], with deliveries already started (a redrive, the
    /// re-queue on start) counted as in flight.
    pub async fn run_from(
        self,
        mut deliveries: JoinSet<()>,
        mut created: UnboundedReceiver<ObjectCreated>,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            let object = tokio::select! {
                object = created.recv() => object,
                _ = crate::gateway::stopped(&mut stop) => None,
            };
            let Some(object) = object else { break };
            self.dispatch(&object, &mut deliveries);
            while deliveries.try_join_next().is_some() {}
        }
        while deliveries.join_next().await.is_some() {}
    }

    /// Starts the deliveries one created object causes.
    pub fn dispatch(&self, object: &ObjectCreated, deliveries: &mut JoinSet<()>) {
        if object.bucket != self.bucket {
            return;
        }
        for subscription in &self.subscriptions {
            if !subscription.trigger.matches(object.event_name, &object.key) {
                tracing::debug!(key = %object.key, function = %subscription.function_name, "object outside the S3 event filter; no event");
                continue;
            }
            let event = match serde_json::to_value(object.to_s3_event(LOCAL_REGION)) {
                Ok(event) => event,
                Err(err) => {
                    tracing::error!(%err, "serialising the S3 event failed");
                    continue;
                }
            };
            let label = format!("s3:{} {}", object.event_name, object.key);
            deliveries.spawn(deliver(
                subscription.clone(),
                event,
                label,
                self.retry.clone(),
                self.failure_queue.clone(),
            ));
        }
    }

    /// The `s3:TestEvent` S3 sends when notifications are configured; handlers must ignore it.
    pub async fn send_test_event(&self) {
        let mut deliveries = JoinSet::new();
        for subscription in &self.subscriptions {
            let event = json!({
                "Service": "Amazon S3",
                "Event": "s3:TestEvent",
                "Time": time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                "Bucket": self.bucket,
                "RequestId": "THUMBSLOCALTEST0",
                "HostId": "thumbs-local",
            });
            // S3 sends the test event once; a handler that fails on it is worth a loud log but
            // not Lambda's retries, which would only repeat the same complaint.
            deliveries.spawn(deliver(
                subscription.clone(),
                event,
                "s3:TestEvent".to_owned(),
                RetryPolicy { delays: vec![] },
                None,
            ));
        }
        while deliveries.join_next().await.is_some() {}
    }
}

async fn deliver(
    subscription: Subscription,
    event: Value,
    label: String,
    retry: RetryPolicy,
    failure_queue: Option<FailureQueue>,
) {
    let attempts = retry.delays.len() + 1;
    for attempt in 1..=attempts {
        let function = Arc::clone(&subscription.function);
        let payload = event.clone();
        // A panic is a crashed invocation, retried like any error.
        let result = tokio::spawn(async move { function.invoke(payload).await }).await;
        let failure = match result {
            Ok(Ok(())) => {
                tracing::info!(function = %subscription.function_name, event = %label, attempt, "async invocation succeeded");
                return;
            }
            Ok(Err(err)) => FunctionFailure {
                error_type: err.error_type.clone(),
                message: err.message.clone(),
            },
            Err(join) => FunctionFailure {
                error_type: "Runtime.ExitError".to_owned(),
                message: format!("the function crashed: {join}"),
            },
        };
        let error = format!("{}: {}", failure.error_type, failure.message);
        match retry.delays.get(attempt - 1) {
            Some(delay) => {
                tracing::warn!(function = %subscription.function_name, event = %label, attempt, %error, retry_in_ms = delay.as_millis() as u64, "async invocation failed; Lambda retries");
                tokio::time::sleep(*delay).await;
            }
            None => match &failure_queue {
                Some(queue) => {
                    let record =
                        invocation_record(&subscription.function_name, &event, attempts, &failure);
                    match queue.send(&record) {
                        Ok(path) => {
                            tracing::error!(function = %subscription.function_name, event = %label, attempts, %error, message = %path.display(), "async invocation failed after Lambda's retries; event sent to the failure queue")
                        }
                        Err(err) => {
                            tracing::error!(function = %subscription.function_name, event = %label, attempts, %error, queue_error = %err, "async invocation failed after Lambda's retries, and the failure queue could not take it")
                        }
                    }
                }
                None => {
                    tracing::error!(function = %subscription.function_name, event = %label, attempts, %error, "async invocation failed after Lambda's retries; no failure queue, event dropped");
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::functions::{BoxFuture, FunctionError};

    struct Flaky {
        calls: AtomicUsize,
        fail_first: usize,
        keys: std::sync::Mutex<Vec<String>>,
    }

    impl EventFunction for Flaky {
        fn invoke(&self, event: Value) -> BoxFuture<'_, Result<(), FunctionError>> {
            Box::pin(async move {
                let call = self.calls.fetch_add(1, Ordering::SeqCst);
                let event: aws_lambda_events::event::s3::S3Event = serde_json::from_value(event)
                    .map_err(|e| FunctionError::new("Unmarshal", e.to_string()))?;
                self.keys
                    .lock()
                    .unwrap()
                    .push(event.records[0].s3.object.key.clone().unwrap_or_default());
                if call < self.fail_first {
                    Err(FunctionError::new("Transient", "try again"))
                } else {
                    Ok(())
                }
            })
        }
    }

    fn setup(fail_first: usize) -> (Arc<Flaky>, Notifications) {
        let flaky = Arc::new(Flaky {
            calls: AtomicUsize::new(0),
            fail_first,
            keys: Default::default(),
        });
        let trigger = S3Trigger {
            name: "Created".into(),
            events: vec!["s3:ObjectCreated:*".into()],
            prefix: Some("originals/".into()),
            suffix: None,
        };
        let subscription = Subscription {
            function_name: "Resize".into(),
            function: flaky.clone(),
            trigger,
        };
        let retry = RetryPolicy {
            delays: vec![Duration::from_millis(1), Duration::from_millis(1)],
        };
        (
            flaky,
            Notifications::new("bucket", vec![subscription], retry),
        )
    }

    fn created(key: &str) -> ObjectCreated {
        ObjectCreated {
            event_name: "ObjectCreated:Put",
            bucket: "bucket".into(),
            key: key.into(),
            size: 3,
            etag: "abc".into(),
        }
    }

    #[tokio::test]
    async fn failed_invocations_are_retried_twice() {
        let (flaky, notifications) = setup(5);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tx.send(created("originals/a")).unwrap();
        drop(tx);
        notifications.run(rx).await;
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn exhausted_events_go_to_the_failure_queue_and_redrive_delivers_them() {
        let dir = tempfile::tempdir().unwrap();
        let queue = FailureQueue::new(dir.path().join("failure-queue"));
        let (flaky, notifications) = setup(usize::MAX);
        let notifications = notifications.with_failure_queue(queue.clone());
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tx.send(created("originals/my photo")).unwrap();
        drop(tx);
        notifications.run(rx).await;
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);

        // Lambda's invocation record, with the S3 event as it was delivered.
        let messages = queue.messages();
        assert_eq!(messages.len(), 1, "one message: {messages:?}");
        let record = &messages[0].record;
        assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
        assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(record["responsePayload"]["errorType"], "Transient");
        assert_eq!(
            record["requestPayload"]["Records"][0]["s3"]["object"]["key"],
            "originals/my+photo"
        );
        assert_eq!(messages[0].function_name(), Some("Resize"));
        let qualified = FailedEvent {
            path: PathBuf::new(),
            record: json!({ "requestContext": { "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:thumbs-Resize-1AB:$LATEST" } }),
        };
        assert_eq!(qualified.function_name(), Some("thumbs-Resize-1AB"));
        assert_eq!(messages[0].object_keys(), vec!["originals/my photo"]);
        // No temporary files left next to it.
        assert_eq!(std::fs::read_dir(queue.dir()).unwrap().count(), 1);

        // The redrive (as after a restart): same event, delivered, message deleted.
        let (healthy, notifications) = setup(0);
        let notifications = notifications.with_failure_queue(queue.clone());
        let mut deliveries = JoinSet::new();
        assert_eq!(notifications.redrive(&mut deliveries), 1);
        while deliveries.join_next().await.is_some() {}
        assert_eq!(healthy.calls.load(Ordering::SeqCst), 1);
        assert_eq!(healthy.keys.lock().unwrap()[0], "originals/my+photo");
        assert!(queue.is_empty());
    }

    #[tokio::test]
    async fn a_redrive_that_fails_again_goes_back_to_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let queue = FailureQueue::new(dir.path());
        let (_, notifications) = setup(usize::MAX);
        let notifications = notifications.with_failure_queue(queue.clone());
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tx.send(created("originals/a")).unwrap();
        drop(tx);
        notifications.clone().run(rx).await;
        let first = queue.messages();
        assert_eq!(first.len(), 1);

        let mut deliveries = JoinSet::new();
        assert_eq!(notifications.redrive(&mut deliveries), 1);
        while deliveries.join_next().await.is_some() {}
        let second = queue.messages();
        assert_eq!(second.len(), 1, "back in the queue, not lost");
        assert_ne!(second[0].path, first[0].path, "a new message");
        assert_eq!(second[0].object_keys(), vec!["originals/a"]);
    }

    #[tokio::test]
    async fn unreadable_messages_and_unknown_functions_stay_in_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let queue = FailureQueue::new(dir.path());
        std::fs::write(dir.path().join("0-broken.json"), b"{not json").unwrap();
        queue
            .send(&json!({
                "requestContext": { "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:Other" },
                "requestPayload": { "Records": [] }
            }))
            .unwrap();
        let (flaky, notifications) = setup(0);
        let notifications = notifications.with_failure_queue(queue.clone());
        let mut deliveries = JoinSet::new();
        assert_eq!(notifications.redrive(&mut deliveries), 0);
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[tokio::test]
    async fn keys_arrive_url_encoded_and_filter_applies() {
        let (flaky, notifications) = setup(1);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tx.send(created("originals/my photo.jpg")).unwrap();
        tx.send(created("thumbnails/x/128.jpg")).unwrap();
        drop(tx);
        notifications.run(rx).await;
        assert_eq!(
            flaky.calls.load(Ordering::SeqCst),
            2,
            "one failure, one retry; thumbnails/ filtered out"
        );
        assert_eq!(flaky.keys.lock().unwrap()[0], "originals/my+photo.jpg");
    }
}
