//! The negotiated thumbnail URL over the whole local stack (the real template, the API Gateway
//! emulator, the embedded S3), for every row of `infra/accept-cases.json` — the table the CDN's
//! Accept function is tested on under node — with AVIF off (the template's default) and on.
//! thumbs-local has no CDN in front: the origin's rule is the same rule, so the same table must
//! hold here, and every answer must carry `Vary: Accept` and the ETag of its format.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{fixture, options, post_image, repo_template, send};
use thumbs_local::stack::{RunningStack, start};

async fn stack_with(dir: &std::path::Path, avif: bool) -> RunningStack {
    let mut options = options(dir, repo_template());
    options
        .parameters
        .insert("AvifEnabled".into(), avif.to_string());
    start(options).await.expect("stack starts")
}

async fn upload_ready(stack: &RunningStack) -> String {
    let reply = post_image(stack, "image/jpeg", &fixture("rocket.jpg")).await;
    assert!(matches!(reply.status, 200 | 201), "{}", reply.text());
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    loop {
        let status = send("GET", &format!("{}/images/{id}", stack.api_url), &[], b"").await;
        if status.json()["status"] == "ready" {
            return id;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{}",
            status.text()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn cases() -> Vec<serde_json::Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/accept-cases.json");
    let table: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    table["cases"].as_array().unwrap().clone()
}

async fn check_table(avif: bool) {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack_with(dir.path(), avif).await;
    let id = upload_ready(&stack).await;
    let url = format!("{}/images/{id}/128", stack.api_url);
    let column = if avif { "avif" } else { "no_avif" };
    let mut etags: BTreeMap<String, String> = BTreeMap::new();
    let cases = cases();
    assert!(cases.len() > 20);
    for case in &cases {
        let want = case[column].as_str().unwrap();
        let headers: Vec<(&str, &str)> = case["accept"]
            .as_str()
            .map(|accept| ("Accept", accept))
            .into_iter()
            .collect();
        let reply = send("GET", &url, &headers, b"").await;
        let client = case["client"].as_str().unwrap();
        assert_eq!(reply.status, 200, "{client}: {}", reply.text());
        assert_eq!(
            reply.header("content-type"),
            Some(format!("image/{want}").as_str()),
            "{client} (Accept {:?}), AVIF {avif}",
            case["accept"]
        );
        assert_eq!(reply.header("vary"), Some("Accept"), "{client}");
        // API Gateway turns the function's base64 back into bytes only when the FIRST type of
        // the request's Accept matches a binary media type (docs/architecture.md, rule 2): an
        // empty Accept, or one whose first entry is empty or has no subtype, gets the base64
        // text, as on AWS (behind the CDN, Accept is always one of the canonical values).
        // (Which one the emulator's own rule decides; here: the bytes if they are an image,
        // else the base64 of one.)
        let is_image = |b: &[u8]| {
            b.starts_with(b"\xff\xd8\xff")
                || b.starts_with(b"RIFF")
                || b.get(4..12) == Some(&b"ftypavif"[..])
        };
        let body = if is_image(&reply.body) {
            reply.body.clone()
        } else {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(&reply.body)
                .unwrap_or_else(|_| panic!("{client}: neither an image nor base64"))
        };
        let magic_ok = match want {
            "jpeg" => body.starts_with(b"\xff\xd8\xff"),
            "webp" => body.starts_with(b"RIFF") && &body[8..12] == b"WEBP",
            _ => &body[4..12] == b"ftypavif",
        };
        assert!(
            magic_ok,
            "{client}: body is not {want}: {:?}",
            String::from_utf8_lossy(&reply.body[..reply.body.len().min(60)])
        );
        let etag = reply.header("etag").unwrap().to_owned();
        if let Some(seen) = etags.insert(want.to_owned(), etag.clone()) {
            assert_eq!(seen, etag, "{want}: one ETag per format");
        }
    }
    let distinct: std::collections::BTreeSet<_> = etags.values().collect();
    assert_eq!(
        distinct.len(),
        etags.len(),
        "ETags differ per format: {etags:?}"
    );
    assert_eq!(etags.len(), if avif { 3 } else { 2 }, "{etags:?}");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negotiated_url_follows_the_shared_accept_table_with_avif_off() {
    check_table(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negotiated_url_follows_the_shared_accept_table_with_avif_on() {
    check_table(true).await;
}
