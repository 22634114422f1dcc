//! The whole local stack in-process on ephemeral ports, driven like curl drives it: the real
//! template.yaml, the real handlers, the embedded S3, S3 events to the resize function.

mod common;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{BROWSER_IMG_ACCEPT, Reply, fixture, options, post_image, repo_template, send, stack};
use serde_json::{Value, json};
use thumbs_local::stack::{RunningStack, start};

/// Polls `GET /images/{id}` until `ready` (bounded); returns the status JSON and the time it took.
async fn wait_ready(stack: &RunningStack, id: &str) -> (Value, Duration) {
    let started = Instant::now();
    loop {
        let reply = send("GET", &format!("{}/images/{id}", stack.api_url), &[], b"").await;
        if reply.status == 200 {
            let status = reply.json();
            match status["status"].as_str() {
                Some("ready") => return (status, started.elapsed()),
                Some("failed") => panic!("image {id} failed: {status}"),
                _ => {}
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "image {id} not ready after 60 s: {}",
            reply.text()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn created_id(reply: &Reply) -> String {
    assert!(
        matches!(reply.status, 200 | 201),
        "upload: {} {}",
        reply.status,
        reply.text()
    );
    reply.json()["id"]
        .as_str()
        .expect("id in the upload response")
        .to_owned()
}

/// JPEG bytes and their displayed size.
fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(
        &bytes[..2],
        &[0xFF, 0xD8],
        "JPEG SOI, got {:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
    );
    let info = thumbs_core::probe(bytes, &thumbs_core::config::Config::default().limits)
        .expect("a decodable JPEG");
    (info.width, info.height)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_raw_jpeg_then_thumbnails_are_served_to_browsers_and_curl() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let photo = fixture("coffee.jpg");
    let source =
        thumbs_core::probe(&photo, &thumbs_core::config::Config::default().limits).unwrap();

    let started = Instant::now();
    let reply = post_image(&stack, "image/jpeg", &photo).await;
    let upload_time = started.elapsed();
    let id = created_id(&reply);
    assert_eq!(
        reply.header("location"),
        Some(format!("/images/{id}").as_str())
    );
    let (status, ready_time) = wait_ready(&stack, &id).await;
    eprintln!(
        "measured: POST /images {upload_time:?}, then ready after {ready_time:?} (total {:?})",
        started.elapsed()
    );
    assert_eq!(status["status"], "ready");

    for accept in [BROWSER_IMG_ACCEPT, "*/*"] {
        let started = Instant::now();
        let reply = send(
            "GET",
            &format!("{}/images/{id}/256.jpg", stack.api_url),
            &[("Accept", accept)],
            b"",
        )
        .await;
        eprintln!(
            "measured: GET 256.jpg (Accept {accept}) {:?}",
            started.elapsed()
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.header("content-type"), Some("image/jpeg"));
        let (width, height) = jpeg_size(&reply.body);
        assert_eq!(width.max(height), 256.min(source.width.max(source.height)));
    }
    let get = send(
        "GET",
        &format!("{}/images/{id}/256.jpg", stack.api_url),
        &[],
        b"",
    )
    .await;
    let head = send(
        "HEAD",
        &format!("{}/images/{id}/256.jpg", stack.api_url),
        &[],
        b"",
    )
    .await;
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string().as_str())
    );
    assert_eq!(head.header("etag"), get.header("etag"));
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_body_form_uploads_the_same_image() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let photo = fixture("rocket.jpg");
    let encoded = BASE64.encode(&photo);

    let raw = created_id(&post_image(&stack, "image/jpeg", &photo).await);
    let base64_text = created_id(&post_image(&stack, "text/plain", encoded.as_bytes()).await);
    let data_url = format!("data:image/jpeg;base64,{encoded}");
    let data = created_id(&post_image(&stack, "text/plain", data_url.as_bytes()).await);
    let json_body = json!({ "data": data_url }).to_string();
    let json = created_id(&post_image(&stack, "application/json", json_body.as_bytes()).await);
    let boundary = "thumbs-test-boundary";
    let mut multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rocket.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    multipart.extend_from_slice(&photo);
    multipart.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let multipart = created_id(
        &post_image(
            &stack,
            &format!("multipart/form-data; boundary={boundary}"),
            &multipart,
        )
        .await,
    );

    for other in [&base64_text, &data, &json, &multipart] {
        assert_eq!(other, &raw, "content-addressed: same bytes, same id");
    }
    let (status, _) = wait_ready(&stack, &raw).await;
    assert_eq!(status["status"], "ready");
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_put_to_the_embedded_s3_starts_the_resize() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let photo = fixture("coffee.png");
    let request = json!({ "content_type": "image/png", "bytes": photo.len() }).to_string();
    let reply = send(
        "POST",
        &format!("{}/uploads", stack.api_url),
        &[
            ("Content-Type", "application/json"),
            ("x-api-key", &stack.api_key),
        ],
        request.as_bytes(),
    )
    .await;
    assert!(
        matches!(reply.status, 200 | 201),
        "{} {}",
        reply.status,
        reply.text()
    );
    let presigned = reply.json();
    let url = presigned["url"].as_str().unwrap();
    assert!(
        url.starts_with(&stack.s3_url),
        "presigned URL {url} points at the embedded S3"
    );
    let headers: Vec<(String, String)> = match &presigned["headers"] {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect(),
        Value::Array(list) => list
            .iter()
            .filter_map(|pair| {
                let pair = pair.as_array()?;
                Some((
                    pair.first()?.as_str()?.to_owned(),
                    pair.get(1)?.as_str()?.to_owned(),
                ))
            })
            .collect(),
        _ => Vec::new(),
    };
    let header_refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let method = presigned["method"].as_str().unwrap_or("PUT");
    let started = Instant::now();
    let put = send(method, url, &header_refs, &photo).await;
    assert_eq!(put.status, 200, "PUT to the presigned URL: {}", put.text());
    let id = presigned["id"].as_str().unwrap();
    let (_, ready) = wait_ready(&stack, id).await;
    eprintln!(
        "measured: presigned PUT → ready {ready:?} (total {:?})",
        started.elapsed()
    );
    let thumb = send(
        "GET",
        &format!("{}/images/{id}/128.jpg", stack.api_url),
        &[],
        b"",
    )
    .await;
    let (width, height) = jpeg_size(&thumb.body);
    assert_eq!(width.max(height), 128);
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_need_the_api_key_and_unknown_routes_answer_like_the_template_says() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    assert!(stack.api_key_required);
    let reply = send(
        "POST",
        &format!("{}/images", stack.api_url),
        &[("Content-Type", "image/jpeg")],
        b"xx",
    )
    .await;
    assert_eq!(reply.status, 403);
    let reply = send("GET", &format!("{}/nope", stack.api_url), &[], b"").await;
    // template.yaml maps MISSING_AUTHENTICATION_TOKEN to 404 with the contract's error shape.
    assert_eq!(reply.status, 404, "{}", reply.text());
    assert_eq!(reply.json()["error"]["code"], "not_found");
    let page = send(
        "GET",
        &format!("{}/", stack.api_url),
        &[("Accept", common::BROWSER_PAGE_ACCEPT)],
        b"",
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_images_and_the_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let first = stack(dir.path()).await;
    let key = first.api_key.clone();
    let id = created_id(&post_image(&first, "image/jpeg", &fixture("coffee.jpg")).await);
    wait_ready(&first, &id).await;
    first.shutdown().await;

    let second = stack(dir.path()).await;
    assert_eq!(
        second.api_key, key,
        "the generated key is kept in the data folder"
    );
    let (status, _) = wait_ready(&second, &id).await;
    assert_eq!(status["status"], "ready");
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbnail_with_jpeg_only_binary_media_types_is_base64_text_like_aws() {
    let dir = tempfile::tempdir().unwrap();
    let template = std::fs::read_to_string(repo_template()).unwrap();
    let jpeg_only = template.replace("- \"*~1*\"", "- \"image~1jpeg\"");
    assert_ne!(jpeg_only, template, "template.yaml still declares \"*~1*\"");
    let path = dir.path().join("template.yaml");
    std::fs::write(&path, jpeg_only).unwrap();
    let stack = start(options(&dir.path().join("data"), path))
        .await
        .unwrap();

    let id = created_id(&post_image(&stack, "image/jpeg", &fixture("coffee.jpg")).await);
    wait_ready(&stack, &id).await;
    let url = format!("{}/images/{id}/128.jpg", stack.api_url);
    let curl = send("GET", &url, &[("Accept", "*/*")], b"").await;
    assert_eq!(curl.status, 200);
    assert_ne!(&curl.body[..2], &[0xFF, 0xD8]);
    let decoded = BASE64
        .decode(curl.text().trim())
        .expect("the client gets the base64 text");
    jpeg_size(&decoded);
    let browser = send("GET", &url, &[("Accept", BROWSER_IMG_ACCEPT)], b"").await;
    assert!(
        BASE64.decode(browser.text().trim()).is_ok(),
        "image/avif first: no match either"
    );
    let exact = send("GET", &url, &[("Accept", "image/jpeg")], b"").await;
    jpeg_size(&exact.body);
    stack.shutdown().await;
}
