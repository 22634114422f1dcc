//! S3 event notifications, delivered the way S3 and Lambda deliver them (platform rule 5).
//!
//! The embedded S3 server reports every created object ([`ObjectCreated`]); each one that a
//! template `S3` event's filter selects (event name, key prefix/suffix) becomes an S3 event JSON
//! (key URL-encoded, space as `+`, as in real records) and is invoked ASYNCHRONOUSLY: the upload
//! that caused it does not wait. On error Lambda retries an async invocation twice, with a delay
//! (about 1 and 2 minutes on AWS; [`RetryPolicy`] here, seconds by default); the last failure is
//! logged (on AWS it would go to the on-failure destination). When notifications are configured,
//! S3 first sends an `s3:TestEvent`, and so does [`Notifications::send_test_event`].

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use thumbs_store::event::ObjectCreated;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::functions::EventFunction;
use crate::template::{LOCAL_REGION, S3Trigger};

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

/// The bucket's notification configuration.
#[derive(Clone)]
pub struct Notifications {
    bucket: String,
    subscriptions: Vec<Subscription>,
    retry: RetryPolicy,
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
        }
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
        mut created: UnboundedReceiver<ObjectCreated>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut deliveries = JoinSet::new();
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
            ));
        }
        while deliveries.join_next().await.is_some() {}
    }
}

async fn deliver(subscription: Subscription, event: Value, label: String, retry: RetryPolicy) {
    let attempts = retry.delays.len() + 1;
    for attempt in 1..=attempts {
        let function = Arc::clone(&subscription.function);
        let payload = event.clone();
        // A panic is a crashed invocation, retried like any error.
        let result = tokio::spawn(async move { function.invoke(payload).await }).await;
        let error = match result {
            Ok(Ok(())) => {
                tracing::info!(function = %subscription.function_name, event = %label, attempt, "async invocation succeeded");
                return;
            }
            Ok(Err(err)) => err.to_string(),
            Err(join) => format!("the function crashed: {join}"),
        };
        match retry.delays.get(attempt - 1) {
            Some(delay) => {
                tracing::warn!(function = %subscription.function_name, event = %label, attempt, %error, retry_in_ms = delay.as_millis() as u64, "async invocation failed; Lambda retries");
                tokio::time::sleep(*delay).await;
            }
            None => {
                tracing::error!(function = %subscription.function_name, event = %label, attempts, %error, "async invocation failed after Lambda's retries; on AWS the event would go to the on-failure destination");
            }
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
