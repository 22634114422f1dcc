//! The on-failure destination of S3 event deliveries: Lambda's invocation record for an event
//! that used up its retries, kept in an SQS-like queue of one file per message
//! (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};

use crate::template::LOCAL_REGION;

/// The account id in local ARNs (LocalStack and SAM use the same placeholder).
const LOCAL_ACCOUNT: &str = "000000000000";

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
pub(super) fn invocation_record(
    function_name: &str,
    event: &Value,
    attempts: usize,
    error: &FunctionFailure,
) -> Value {
    let timestamp = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let request_id = uuid::Uuid::new_v4().to_string();
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
pub(super) struct FunctionFailure {
    pub(super) error_type: String,
    pub(super) message: String,
}
