//! Nothing acknowledged is lost: the real `thumbs-local` binary, killed (SIGKILL, SIGTERM) in the
//! middle of a burst of concurrent uploads, restarted on the same data folder; every upload that
//! was answered 2xx must reach `ready`, and the banner must say how many originals it re-queued.
//! And an S3 event that used up Lambda's retries lands in the local failure queue, from which the
//! next start redrives it to `ready`.
//!
//! Loopback only; the binary is the one cargo built for this test run.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{repo_template, send};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

const API_KEY: &str = "restart-test-key";
/// Concurrent uploads per burst.
const BURST: usize = 60;

/// One run of the binary, with what its banner said.
struct Stack {
    child: Child,
    api_url: String,
    bucket: String,
    /// The banner's recovery line.
    recovery: String,
}

impl Stack {
    fn start(data_dir: &Path) -> Stack {
        let mut child = Command::new(env!("CARGO_BIN_EXE_thumbs-local"))
            .arg("--port")
            .arg("0")
            .arg("--s3-port")
            .arg("0")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--template")
            .arg(repo_template())
            .env("THUMBS_API_KEY", API_KEY)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn thumbs-local");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut api_url, mut bucket, mut recovery) = (None, None, None);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    panic!("no complete banner within 30 s (api {api_url:?})");
                }
            };
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["API", url, ..] if url.starts_with("http://") => api_url = Some(url.to_string()),
                ["embedded", "S3", _, "bucket", name, ..] => bucket = Some(name.to_string()),
                ["recovery", ..] => recovery = Some(line.trim().to_owned()),
                ["Ctrl-C", ..] => break,
                _ => {}
            }
        }
        Stack {
            child,
            api_url: api_url.expect("API line in the banner"),
            bucket: bucket.expect("embedded S3 line in the banner"),
            recovery: recovery.expect("recovery line in the banner"),
        }
    }

    /// The numbers of the recovery line: (re-queued, redriven).
    fn recovered(&self) -> (usize, usize) {
        let numbers: Vec<usize> = self
            .recovery
            .split_whitespace()
            .filter_map(|word| word.parse().ok())
            .collect();
        assert_eq!(numbers.len(), 2, "recovery line: {}", self.recovery);
        (numbers[0], numbers[1])
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name}");
    }

    /// Waits (bounded) for the process to end; its exit status.
    fn wait(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("thumbs-local still running {within:?} after the signal");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A 24-bit BMP of `w`×`h` whose pixels depend on `seed`: distinct bytes, a distinct image id.
fn bmp(seed: u32, w: u32, h: u32) -> Vec<u8> {
    let row = (w * 3).div_ceil(4) * 4;
    let pixels = row * h;
    let mut out = Vec::with_capacity(54 + pixels as usize);
    out.extend_from_slice(b"BM");
    out.extend_from_slice(&(54 + pixels).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&54u32.to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&(w as i32).to_le_bytes());
    out.extend_from_slice(&(h as i32).to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&24u16.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&pixels.to_le_bytes());
    out.extend_from_slice(&2835u32.to_le_bytes());
    out.extend_from_slice(&2835u32.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    for y in 0..h {
        for x in 0..w {
            out.push((x * 255 / w) as u8);
            out.push((y * 255 / h) as u8);
            out.push((seed.wrapping_mul(37) % 251) as u8 ^ ((x ^ y) as u8 & 0x0F));
        }
        out.extend(std::iter::repeat_n(0, (row - w * 3) as usize));
    }
    out
}

/// `POST /images`; `Ok((status, id))`, or `Err` when the connection failed or was cut (the
/// process was killed): such an upload was never acknowledged.
async fn try_post(api_url: &str, body: &[u8]) -> Result<(u16, String), String> {
    let authority = api_url.strip_prefix("http://").expect("http URL");
    let mut stream = TcpStream::connect(authority)
        .await
        .map_err(|e| e.to_string())?;
    let head = format!(
        "POST /images HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nx-api-key: {API_KEY}\r\n\
         Content-Type: image/bmp\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    stream.write_all(body).await.map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw))
        .await
        .map_err(|_| "no answer within 30 s".to_owned())?
        .map_err(|e| e.to_string())?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("cut before the response head")?;
    let status: u16 = std::str::from_utf8(&raw[..split])
        .ok()
        .and_then(|head| head.split(' ').nth(1)?.parse().ok())
        .ok_or("no status line")?;
    let body: serde_json::Value =
        serde_json::from_slice(&raw[split + 4..]).map_err(|e| format!("body: {e}"))?;
    let id = body["id"].as_str().unwrap_or_default().to_owned();
    Ok((status, id))
}

/// The status of `GET /images/{id}`, polled until it is no longer `processing` (bounded).
async fn final_status(api_url: &str, id: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let reply = send("GET", &format!("{api_url}/images/{id}"), &[], b"").await;
        let status = if reply.status == 200 {
            reply.json()["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        } else {
            format!("HTTP {}", reply.status)
        };
        if status != "processing" || Instant::now() > deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Originals in the bucket folder with neither manifest nor error record: what a restart must
/// re-queue.
fn unfinished_on_disk(data_dir: &Path, bucket: &str) -> usize {
    let root = data_dir.join("s3").join(bucket);
    let Ok(entries) = std::fs::read_dir(root.join("originals")) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter(|e| {
            let id = e.file_name().to_string_lossy().into_owned();
            let done = root.join("thumbnails").join(&id);
            !done.join("manifest.json").is_file() && !done.join("error.json").is_file()
        })
        .count()
}

/// Fires the burst; once `kill_after` uploads are answered, sends `signal` to the process.
/// Returns the ids answered 2xx and how many were not acknowledged.
async fn burst_and_kill(
    stack: &Stack,
    seed: u32,
    kill_after: usize,
    signal: &str,
) -> (Vec<String>, usize) {
    let mut uploads = JoinSet::new();
    for i in 0..BURST {
        let url = stack.api_url.clone();
        let body = bmp(seed + i as u32, 200, 150);
        uploads.spawn(async move { try_post(&url, &body).await });
    }
    let mut acknowledged = Vec::new();
    let mut not_acknowledged = 0;
    let mut answered = 0;
    let mut signalled = false;
    while let Some(result) = uploads.join_next().await {
        match result.expect("upload task") {
            Ok((status, id)) if (200..300).contains(&status) => {
                assert_eq!(id.len(), 32, "an id in the {status} answer");
                acknowledged.push(id);
            }
            Ok((status, _)) => {
                assert!(
                    status >= 500,
                    "only the shutdown may refuse an upload, got {status}"
                );
                not_acknowledged += 1;
            }
            Err(_) => not_acknowledged += 1,
        }
        answered += 1;
        if answered == kill_after && !signalled {
            stack.signal(signal);
            signalled = true;
        }
    }
    assert!(signalled, "the process was signalled mid-burst");
    (acknowledged, not_acknowledged)
}

async fn kill_restart_all_ready(signal: &str, seed: u32) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir: PathBuf = dir.path().join("data");
    let mut first = Stack::start(&data_dir);
    assert_eq!(
        first.recovered(),
        (0, 0),
        "a fresh data folder has nothing to recover"
    );

    let started = Instant::now();
    let (acknowledged, lost_requests) = burst_and_kill(&first, seed, BURST / 4, signal).await;
    let status = first.wait(Duration::from_secs(30));
    if signal == "TERM" {
        assert!(status.success(), "SIGTERM is a clean stop: {status:?}");
    }
    let unfinished = unfinished_on_disk(&data_dir, &first.bucket);
    drop(first);

    let second = Stack::start(&data_dir);
    let (requeued, redriven) = second.recovered();
    assert_eq!(
        requeued, unfinished,
        "the banner counts the originals left without manifest ({})",
        second.recovery
    );
    assert_eq!(redriven, 0);
    let restarted = Instant::now();
    let mut not_ready = Vec::new();
    for id in &acknowledged {
        let status = final_status(&second.api_url, id, Duration::from_secs(20)).await;
        if status != "ready" {
            not_ready.push(format!("{id}: {status}"));
        }
    }
    eprintln!(
        "SIG{signal}: {} of {BURST} acknowledged, {lost_requests} not; {unfinished} unfinished at the kill, \
         {requeued} re-queued; all acknowledged checked {:?} after the restart ({:?} in all); not ready: {}",
        acknowledged.len(),
        restarted.elapsed(),
        started.elapsed(),
        not_ready.len()
    );
    assert!(
        acknowledged.len() >= BURST / 4,
        "at least the uploads answered before the signal: {}",
        acknowledged.len()
    );
    assert!(
        not_ready.is_empty(),
        "acknowledged but not ready: {not_ready:?}"
    );
    assert!(
        unfinished_on_disk(&data_dir, &second.bucket) == 0,
        "every original on disk is finished after the restart"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_burst_loses_no_acknowledged_upload() {
    kill_restart_all_ready("KILL", 1_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_burst_stops_cleanly_and_loses_no_acknowledged_upload() {
    kill_restart_all_ready("TERM", 2_000).await;
}

/// The resize cannot write anything under `thumbnails/` (a plain file sits where that folder
/// goes), so the event uses up Lambda's retries and lands in the failure queue. With the obstacle
/// gone, the next start redrives the queue and the image becomes `ready`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_event_lands_in_the_failure_queue_and_the_redrive_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let queue_dir = data_dir.join("failure-queue");
    let mut first = Stack::start(&data_dir);
    let obstacle = data_dir.join("s3").join(&first.bucket).join("thumbnails");
    std::fs::write(&obstacle, b"not a folder").unwrap();

    let (status, id) = try_post(&first.api_url, &bmp(7, 120, 90))
        .await
        .expect("upload");
    assert_eq!(status, 201);

    // Three attempts (1 s and 2 s apart, plus the S3 client's own retries), then the queue.
    let deadline = Instant::now() + Duration::from_secs(40);
    let messages = loop {
        let messages: Vec<PathBuf> = std::fs::read_dir(&queue_dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect()
            })
            .unwrap_or_default();
        if !messages.is_empty() {
            break messages;
        }
        assert!(
            Instant::now() < deadline,
            "no failure-queue message within 40 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let failed_at = Instant::now();
    assert_eq!(messages.len(), 1);
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&messages[0]).unwrap()).unwrap();
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(
        record["requestPayload"]["Records"][0]["s3"]["object"]["key"],
        format!("originals/{id}")
    );

    first.signal("TERM");
    assert!(first.wait(Duration::from_secs(30)).success());
    drop(first);
    std::fs::remove_file(&obstacle).unwrap();

    let second = Stack::start(&data_dir);
    assert_eq!(
        second.recovered(),
        (0, 1),
        "redriven from the queue, not also re-queued: {}",
        second.recovery
    );
    let status = final_status(&second.api_url, &id, Duration::from_secs(20)).await;
    assert_eq!(status, "ready");
    let left = std::fs::read_dir(&queue_dir).unwrap().count();
    assert_eq!(left, 0, "the redriven message is deleted");
    eprintln!(
        "failure queue: message after the retries, redriven and ready {:?} after it",
        failed_at.elapsed()
    );
}

/// What the start re-queues, exactly: originals with neither manifest, nor error record, nor
/// tombstone, whose names are image ids. The bucket is written on disk before the start, the way
/// a previous run leaves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_requeues_only_unfinished_originals() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("s3/thumbs-local-000000000000-images");
    let put = |key: &str, bytes: &[u8]| {
        let path = bucket.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    let unfinished = bmp(11, 64, 48);
    let unfinished_id = thumbs_core::id::ImageId::for_content(&unfinished).to_string();
    put(&format!("originals/{unfinished_id}"), &unfinished);
    let deleted = bmp(12, 64, 48);
    let deleted_id = thumbs_core::id::ImageId::for_content(&deleted).to_string();
    put(&format!("originals/{deleted_id}"), &deleted);
    put(&format!("tombstones/{deleted_id}"), b"{}");
    let failed = bmp(13, 64, 48);
    let failed_id = thumbs_core::id::ImageId::for_content(&failed).to_string();
    put(&format!("originals/{failed_id}"), &failed);
    put(
        &format!("thumbnails/{failed_id}/error.json"),
        br#"{"code":"unsupported_media_type","reason":"test"}"#,
    );
    put("originals/not-an-id.jpg", &bmp(14, 8, 8));

    let stack = common::stack(dir.path()).await;
    assert_eq!((stack.requeued, stack.redriven), (1, 0));
    let status = final_status(&stack.api_url, &unfinished_id, Duration::from_secs(20)).await;
    assert_eq!(status, "ready");
    // Nothing was delivered for the others: the tombstoned original got no manifest.
    assert!(
        !bucket
            .join(format!("thumbnails/{deleted_id}/manifest.json"))
            .exists()
    );
    assert!(
        !bucket
            .join(format!("thumbnails/{failed_id}/manifest.json"))
            .exists()
    );
    stack.shutdown().await;
}
