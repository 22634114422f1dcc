//! An image's life over real HTTP against the real stack (`stack::start`: API Gateway emulator,
//! the three functions, the embedded S3 and its event delivery), `docs/lifecycle.md`:
//!
//! - a DELETE placed at each point of a running resize (before the decode, between sizes, just
//!   before the manifest, between the manifest and the resize's last look at the tombstone) and
//!   at random moments sticks: no route serves the image after the 204, and once the resize
//!   has ended none of its content is left in the bucket;
//! - the on-demand render obeys the same rule;
//! - identical concurrent uploads: one 201, the rest 200;
//! - a presigned URL writes once;
//! - one size cap: cap − 1 and cap bytes end `ready`, cap + 1 is refused at `POST /uploads`.
//!
//! Points inside the resize are reached with [`local_server::hold`]: the embedded S3 parks the
//! resize's request for one key until the test has done its DELETE, then lets it go.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{Reply, fixture, options, post_image, repo_template, send, stack};
use serde_json::{Value, json};
use thumbs_core::id::ImageId;
use thumbs_local::stack::{RunningStack, start};
use thumbs_store::local_server::{self, LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY};
use thumbs_store::{Store, StoreConfig};

const SIZES: [u32; 3] = [128, 256, 512];
/// How long a test waits for something that takes milliseconds.
const PATIENCE: Duration = Duration::from_secs(10);

/// A second S3 client on the stack's bucket: what the test lists the bucket with.
async fn bucket(stack: &RunningStack) -> Store {
    Store::connect(&StoreConfig {
        bucket: stack.bucket.clone(),
        endpoint_url: Some(stack.s3_url.clone()),
        force_path_style: true,
        credentials: Some((LOCAL_ACCESS_KEY.to_owned(), LOCAL_SECRET_KEY.to_owned())),
        session_token: None,
        region: "us-east-1".to_owned(),
    })
    .await
}

fn s3_addr(stack: &RunningStack) -> SocketAddr {
    stack.s3_url.trim_start_matches("http://").parse().unwrap()
}

/// Every content object of `id` (original, thumbnails, manifest, error record): what must be
/// gone once a deleted image's in-flight work has ended. The tombstone is not content.
async fn content(store: &Store, id: &str) -> Vec<String> {
    let mut keys = store.list(&format!("originals/{id}")).await.unwrap();
    keys.extend(store.list(&format!("thumbnails/{id}/")).await.unwrap());
    keys
}

/// `coffee.jpg` with a JPEG comment carrying `tag` right after SOI: another content id, the same
/// picture (and the same decode work).
fn distinct_jpeg(tag: &str) -> Vec<u8> {
    let base = fixture("coffee.jpg");
    let mut out = base[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&((tag.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(&base[2..]);
    out
}

/// `coffee.jpg` padded with JPEG comments to exactly `len` bytes.
fn jpeg_of_len(len: usize) -> Vec<u8> {
    let base = fixture("coffee.jpg");
    let mut pad = len.checked_sub(base.len()).expect("longer than coffee.jpg");
    let mut out = base[..2].to_vec();
    while pad > 0 {
        // A segment is 4 bytes of marker and length plus up to 65533 bytes of text.
        let mut text = pad.min(65_533 + 4) - 4;
        if pad - (text + 4) > 0 && pad - (text + 4) < 4 {
            text -= 4; // leave room for one more whole segment
        }
        out.extend_from_slice(&[0xFF, 0xFE]);
        out.extend_from_slice(&((text + 2) as u16).to_be_bytes());
        out.extend(std::iter::repeat_n(b'.', text));
        pad -= text + 4;
    }
    out.extend_from_slice(&base[2..]);
    assert_eq!(out.len(), len);
    out
}

async fn get(stack: &RunningStack, path: &str) -> Reply {
    send("GET", &format!("{}{path}", stack.api_url), &[], b"").await
}

async fn delete(stack: &RunningStack, id: &str) -> Reply {
    send(
        "DELETE",
        &format!("{}/images/{id}", stack.api_url),
        &[("x-api-key", &stack.api_key)],
        b"",
    )
    .await
}

/// What a client sees of a deleted image: `GET /images/{id}` and every thumbnail URL (GET and
/// HEAD). Returns the routes that served something.
async fn resurrections(stack: &RunningStack, id: &str) -> Vec<String> {
    let mut served = Vec::new();
    let status = get(stack, &format!("/images/{id}")).await;
    if status.status != 404 {
        served.push(format!(
            "GET /images/{id}: {} {}",
            status.status,
            status.text()
        ));
    }
    for size in SIZES {
        let path = format!("/images/{id}/{size}.jpg");
        for method in ["GET", "HEAD"] {
            let reply = send(method, &format!("{}{path}", stack.api_url), &[], b"").await;
            if reply.status != 404 {
                served.push(format!("{method} {path}: {}", reply.status));
            }
        }
    }
    served
}

async fn wait_status(stack: &RunningStack, id: &str, want: &str) -> Value {
    let started = Instant::now();
    loop {
        let reply = get(stack, &format!("/images/{id}")).await;
        if reply.status == 200 && reply.json()["status"] == want {
            return reply.json();
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{id} never {want}: {} {}",
            reply.status,
            reply.text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// After a DELETE's 204: polls until the in-flight work has removed everything (then watches a
/// little longer, so a late write would be seen), checking at every step that nothing is served.
/// Returns (resurrections seen, content objects left).
async fn settle_after_delete(stack: &RunningStack, store: &Store, id: &str) -> (usize, usize) {
    let started = Instant::now();
    let mut served = 0;
    let mut quiet_since: Option<Instant> = None;
    loop {
        let seen = resurrections(stack, id).await;
        if !seen.is_empty() {
            eprintln!("RESURRECTION of {id}: {seen:?}");
            served += 1;
        }
        let left = content(store, id).await;
        if left.is_empty() {
            let since = *quiet_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_millis(250) {
                return (served, 0);
            }
        } else {
            quiet_since = None;
        }
        if started.elapsed() > Duration::from_secs(5) {
            eprintln!("LEFT OVER for {id}: {left:?}");
            return (served, left.len());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The points of a resize a DELETE is placed at: the S3 request of the resize that is parked
/// while the test deletes.
const POINTS: [(&str, &str, &str); 5] = [
    // Before the decode: the resize's read of the original.
    ("before the decode", "GetObject", "originals/{id}"),
    // Decoded, nothing written yet.
    (
        "before the first size",
        "PutObject",
        "thumbnails/{id}/128.jpg",
    ),
    // One size written, the next one on its way.
    ("between sizes", "PutObject", "thumbnails/{id}/256.jpg"),
    // Every size written and the look at the tombstone before the manifest done: the manifest
    // write is in flight.
    (
        "just before the manifest",
        "PutObject",
        "thumbnails/{id}/manifest.json",
    ),
    // The manifest written (the image reads `ready`), the resize's last look at the tombstone
    // in flight: reached by parking the manifest write, then the next tombstone HEAD.
    ("after the manifest", "HeadObject", "tombstones/{id}"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delete_at_any_point_of_a_running_resize_sticks() {
    const ROUNDS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let store = bucket(&stack).await;
    let addr = s3_addr(&stack);
    let started = Instant::now();
    let (mut races, mut served, mut left) = (0, 0, 0);
    for (name, operation, key) in POINTS {
        for round in 0..ROUNDS {
            let photo = distinct_jpeg(&format!("{name} {round}"));
            let id = ImageId::for_content(&photo).to_string();
            let key = key.replace("{id}", &id);
            let manifest = format!("thumbnails/{id}/manifest.json");
            let first = if operation == "HeadObject" {
                local_server::hold(addr, "PutObject", &manifest)
            } else {
                local_server::hold(addr, operation, &key)
            };
            let reply = post_image(&stack, "image/jpeg", &photo).await;
            assert_eq!(reply.status, 201, "{}", reply.text());
            assert!(
                first.reached(PATIENCE).await,
                "{name}: the resize never got to {operation} {key}"
            );
            let hold = if operation == "HeadObject" {
                // Parked on the manifest write: its next request is the last tombstone look.
                let last_look = local_server::hold(addr, operation, &key);
                first.release();
                assert!(last_look.reached(PATIENCE).await, "{name}: no last look");
                let status = get(&stack, &format!("/images/{id}")).await;
                assert_eq!(
                    status.json()["status"],
                    "ready",
                    "{name}: {}",
                    status.text()
                );
                last_look
            } else {
                first
            };
            // Positive control: the same listing that must end empty sees the image now.
            let before = content(&store, &id).await;
            assert!(
                before.contains(&format!("originals/{id}")),
                "{name}: {before:?}"
            );
            if name == "between sizes" {
                assert!(
                    before.contains(&format!("thumbnails/{id}/128.jpg")),
                    "{before:?}"
                );
            }
            if name == "after the manifest" {
                assert!(before.contains(&manifest), "{before:?}");
            }
            let reply = delete(&stack, &id).await;
            assert_eq!(reply.status, 204, "{name}: {}", reply.text());
            // With the resize still parked: gone already.
            let seen = resurrections(&stack, &id).await;
            assert!(seen.is_empty(), "{name}: served after the 204: {seen:?}");
            hold.release();
            let (s, l) = settle_after_delete(&stack, &store, &id).await;
            served += s;
            left += l;
            races += 1;
        }
    }
    eprintln!(
        "delete-during-resize: {races} races at {} points, {served} resurrections, {left} objects left, {:.1} s",
        POINTS.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!((served, left), (0, 0));
    stack.shutdown().await;
}

/// Random moments: upload, wait 0–40 ms, DELETE — no holds, the timing the held-out harness
/// uses. Counts resurrections and leftovers over every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deletes_at_random_moments_stick() {
    const ROUNDS: usize = 24;
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let store = bucket(&stack).await;
    let started = Instant::now();
    let (mut served, mut left, mut ready_before_delete) = (0, 0, 0);
    let mut seed = 0x9e37_79b9_u32;
    for round in 0..ROUNDS {
        let photo = distinct_jpeg(&format!("random {round}"));
        let reply = post_image(&stack, "image/jpeg", &photo).await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        let id = reply.json()["id"].as_str().unwrap().to_owned();
        // xorshift: a spread of delays, the same on every run.
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        tokio::time::sleep(Duration::from_millis(u64::from(seed % 41))).await;
        if store
            .head(&format!("thumbnails/{id}/manifest.json"))
            .await
            .unwrap()
            .is_some()
        {
            ready_before_delete += 1;
        }
        let reply = delete(&stack, &id).await;
        assert_eq!(reply.status, 204, "{}", reply.text());
        let (s, l) = settle_after_delete(&stack, &store, &id).await;
        served += s;
        left += l;
    }
    eprintln!(
        "delete-at-random: {ROUNDS} races ({ready_before_delete} already ready at the DELETE), \
         {served} resurrections, {left} objects left, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!((served, left), (0, 0));
    stack.shutdown().await;
}

/// The on-demand render is a writer like the resize: a DELETE while it renders leaves no
/// thumbnail behind, and the render itself answers 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delete_during_an_on_demand_render_sticks() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let store = bucket(&stack).await;
    let addr = s3_addr(&stack);
    let (mut served, mut left) = (0, 0);
    for round in 0..3 {
        let photo = distinct_jpeg(&format!("on demand {round}"));
        let id = ImageId::for_content(&photo).to_string();
        // Keep the resize parked on its read of the original, so only the render writes.
        let resize = local_server::hold(addr, "GetObject", &format!("originals/{id}"));
        let render = local_server::hold(addr, "PutObject", &format!("thumbnails/{id}/128.jpg"));
        let reply = post_image(&stack, "image/jpeg", &photo).await;
        assert_eq!(reply.status, 201, "{}", reply.text());
        assert!(resize.reached(PATIENCE).await);
        let url = format!("{}/images/{id}/128.jpg", stack.api_url);
        let request = tokio::spawn(async move { send("GET", &url, &[], b"").await });
        assert!(render.reached(PATIENCE).await, "the render never wrote");
        let reply = delete(&stack, &id).await;
        assert_eq!(reply.status, 204, "{}", reply.text());
        render.release();
        let rendered = request.await.unwrap();
        assert_eq!(rendered.status, 404, "the render served a deleted image");
        assert_eq!(rendered.json()["error"]["code"], "deleted");
        resize.release();
        let (s, l) = settle_after_delete(&stack, &store, &id).await;
        served += s;
        left += l;
    }
    assert_eq!((served, left), (0, 0));
    stack.shutdown().await;
}

/// A deleted id stays deleted: the same bytes uploaded again are a new image with a new id,
/// and the old id's status and thumbnails stay 404. A second DELETE of it is 404 `deleted`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_bytes_after_a_delete_are_a_new_image() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let photo = distinct_jpeg("second life");
    let first = post_image(&stack, "image/jpeg", &photo).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let old = first.json()["id"].as_str().unwrap().to_owned();
    wait_status(&stack, &old, "ready").await;
    assert_eq!(delete(&stack, &old).await.status, 204);
    let again = delete(&stack, &old).await;
    assert_eq!(again.status, 404);
    assert_eq!(again.json()["error"]["code"], "deleted");

    let second = post_image(&stack, "image/jpeg", &photo).await;
    assert_eq!(second.status, 201, "{}", second.text());
    let new = second.json()["id"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    wait_status(&stack, &new, "ready").await;
    // And that new life is content-addressed too: the same bytes once more are 200, same id.
    let third = post_image(&stack, "image/jpeg", &photo).await;
    assert_eq!(third.status, 200, "{}", third.text());
    assert_eq!(third.json()["id"], new.as_str());
    assert_eq!(third.json()["status"], "ready");
    let seen = resurrections(&stack, &old).await;
    assert!(seen.is_empty(), "{seen:?}");
    stack.shutdown().await;
}

/// Ten identical uploads at once: one writes the original (201), nine find it (200), one S3
/// event, one resize.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn identical_concurrent_uploads_make_one_image() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let store = bucket(&stack).await;
    let addr = s3_addr(&stack);
    for round in 0..3 {
        let photo = distinct_jpeg(&format!("concurrent {round}"));
        let id = ImageId::for_content(&photo).to_string();
        // Park the first manifest write: a second resize (a second event) would write its own
        // manifest meanwhile, and the listing below would see it.
        let manifest = format!("thumbnails/{id}/manifest.json");
        let first_resize = local_server::hold(addr, "PutObject", &manifest);
        let api_url = stack.api_url.clone();
        let key = stack.api_key.clone();
        let uploads: Vec<_> = (0..10)
            .map(|_| {
                let (photo, url, key) = (photo.clone(), format!("{api_url}/images"), key.clone());
                tokio::spawn(async move {
                    send(
                        "POST",
                        &url,
                        &[("x-api-key", &key), ("Content-Type", "image/jpeg")],
                        &photo,
                    )
                    .await
                })
            })
            .collect();
        let mut statuses = Vec::new();
        for upload in uploads {
            let reply = upload.await.unwrap();
            assert_eq!(reply.json()["id"], id.as_str(), "{}", reply.text());
            statuses.push(reply.status);
        }
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
        assert!(first_resize.reached(PATIENCE).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            store.head(&manifest).await.unwrap().is_none(),
            "a second resize ran"
        );
        first_resize.release();
        wait_status(&stack, &id, "ready").await;
    }
    stack.shutdown().await;
}

async fn presign(stack: &RunningStack, content_type: &str, bytes: usize) -> Reply {
    let request = json!({ "content_type": content_type, "bytes": bytes }).to_string();
    send(
        "POST",
        &format!("{}/uploads", stack.api_url),
        &[
            ("Content-Type", "application/json"),
            ("x-api-key", &stack.api_key),
        ],
        request.as_bytes(),
    )
    .await
}

/// PUTs `body` to a presigned upload with the headers the answer lists (Content-Length is the
/// body's own, as any client sends it).
async fn put_presigned(presigned: &Value, body: &[u8], skip: &str) -> Reply {
    let headers: Vec<(String, String)> = presigned["headers"]
        .as_object()
        .expect("headers object")
        .iter()
        .filter(|(name, _)| {
            !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case(skip)
        })
        .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
        .collect();
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    send("PUT", presigned["url"].as_str().unwrap(), &refs, body).await
}

/// One presigned URL, one object: the answer says to send `If-None-Match: *`, S3 refuses the
/// PUT without it (it is signed) and refuses a second PUT with it (412), so the image the
/// manifest describes is the one in `originals/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_presigned_url_writes_once() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let store = bucket(&stack).await;
    let photo = distinct_jpeg("presigned first");
    let reply = presign(&stack, "image/jpeg", photo.len()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let presigned = reply.json();
    assert_eq!(presigned["headers"]["If-None-Match"], "*", "{presigned}");
    let id = presigned["id"].as_str().unwrap().to_owned();

    let unconditional = put_presigned(&presigned, &photo, "if-none-match").await;
    assert_eq!(unconditional.status, 403, "{}", unconditional.text());
    let first = put_presigned(&presigned, &photo, "").await;
    assert_eq!(first.status, 200, "{}", first.text());
    wait_status(&stack, &id, "ready").await;

    // Other bytes of the signed length, same URL, still within its 15 minutes.
    let other = distinct_jpeg("presigned other");
    let mut other = other[..photo.len().min(other.len())].to_vec();
    other.resize(photo.len(), 0);
    let second = put_presigned(&presigned, &other, "").await;
    assert_eq!(second.status, 412, "{}", second.text());
    assert!(
        second.text().contains("PreconditionFailed"),
        "{}",
        second.text()
    );
    let stored = store.get(&format!("originals/{id}")).await.unwrap();
    assert_eq!(&stored.bytes[..], &photo[..], "the original was replaced");
    stack.shutdown().await;
}

/// The stack with `MaxInputBytes` (the one cap) set to `cap` in a copy of the repository's
/// template.
async fn stack_with_cap(data_dir: &Path, cap: usize) -> RunningStack {
    let template = std::fs::read_to_string(repo_template()).unwrap();
    let (head, tail) = template
        .split_once("  MaxInputBytes:\n")
        .expect("a MaxInputBytes parameter");
    let (block, rest) = tail.split_once("    Description:").unwrap();
    let block = block
        .lines()
        .map(|line| {
            if line.trim_start().starts_with("Default:") {
                format!("    Default: {cap}")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = data_dir.join("template.yaml");
    std::fs::write(
        &path,
        format!("{head}  MaxInputBytes:\n{block}\n    Description:{rest}"),
    )
    .unwrap();
    start(options(&data_dir.join("data"), path))
        .await
        .expect("stack starts")
}

/// cap − 1 and cap bytes through presigned PUTs end `ready`; cap + 1 is refused at
/// `POST /uploads` with 413 JSON — never accepted and then failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_cap_for_presigned_uploads_and_the_resize() {
    let dir = tempfile::tempdir().unwrap();
    let cap = fixture("coffee.jpg").len() + 20_000;
    let stack = stack_with_cap(dir.path(), cap).await;
    for len in [cap - 1, cap] {
        let photo = jpeg_of_len(len);
        let reply = presign(&stack, "image/jpeg", len).await;
        assert_eq!(reply.status, 200, "{len}: {}", reply.text());
        let presigned = reply.json();
        let put = put_presigned(&presigned, &photo, "").await;
        assert_eq!(put.status, 200, "{len}: {}", put.text());
        let status = wait_status(&stack, presigned["id"].as_str().unwrap(), "ready").await;
        assert_eq!(status["original"]["bytes"], len, "{status}");
    }
    let reply = presign(&stack, "image/jpeg", cap + 1).await;
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(reply.json()["error"]["code"], "too_large");
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&cap.to_string()),
        "{}",
        reply.text()
    );
    stack.shutdown().await;
}

/// With the repository's template as it is: POST /uploads presigns exactly up to the resize's
/// default input cap (50,000,000 bytes) and refuses one byte more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_presign_cap_is_the_default_input_cap() {
    let cap = thumbs_core::config::Config::default()
        .limits
        .max_input_bytes;
    assert_eq!(cap, 50_000_000);
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let at_cap = presign(&stack, "image/png", cap).await;
    assert_eq!(at_cap.status, 200, "{}", at_cap.text());
    assert_eq!(at_cap.json()["headers"]["Content-Length"], cap.to_string());
    let over = presign(&stack, "image/png", cap + 1).await;
    assert_eq!(over.status, 413, "{}", over.text());
    assert_eq!(over.json()["error"]["code"], "too_large");
    stack.shutdown().await;
}
