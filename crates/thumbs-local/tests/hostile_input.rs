//! Hostile input through the real local stack over HTTP: every bad body, id and size
//! gets a clear 4xx JSON error with the contract's status, the server keeps serving, nothing is
//! half-written (no `originals/` object for a rejected upload) and bombs answer fast without
//! allocating their claimed pixels.
//!
//! Inputs are generated here from the core fixtures (no binary blobs checked in); see
//! `tests/fixtures/hostile/README.md`.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{Reply, fixture, post_image, send, stack};

/// Every object key under the data folder's bucket(s) (s3s-fs keeps one file per key).
pub fn object_keys(data_dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(&data_dir.join("s3"), &data_dir.join("s3"), &mut out);
    out.sort();
    out
}

fn originals(data_dir: &Path) -> Vec<String> {
    object_keys(data_dir)
        .into_iter()
        .filter(|key| key.contains("originals/"))
        .collect()
}

/// Peak resident set of this process (the stack runs in-process), in kB.
fn vm_hwm_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A PNG whose IHDR claims `width`×`height` (valid CRC), then a tiny IDAT and IEND.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // zlib stream of a few zero bytes: a decoder that trusted IHDR would now allocate 2.7 GB.
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A baseline JPEG header (SOI, DQT, SOF0) claiming `width`×`height`, then junk and EOI.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
    out.extend_from_slice(&[1u8; 64]);
    out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]);
    out.extend_from_slice(&[0u8; 64]);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A GIF89a with a 65535×65535 logical screen and one 65535×65535 image of almost no data.
fn gif_bomb() -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0, 0]);
    out.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    out.extend_from_slice(&[0x2C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0]);
    out.extend_from_slice(&[2, 2, 0x4C, 0x01, 0]);
    out.push(0x3B);
    out
}

fn multipart(boundary: &str, filename: &str, content_type: &str, data: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

struct Case {
    name: &'static str,
    content_type: String,
    body: Vec<u8>,
    expect: &'static [u16],
}

fn case(name: &'static str, content_type: &str, body: Vec<u8>, expect: &'static [u16]) -> Case {
    Case {
        name,
        content_type: content_type.to_owned(),
        body,
        expect,
    }
}

/// The contract's error shape: `{"error": {"code": "...", "message": "..."}}`.
fn assert_json_error(what: &str, reply: &Reply) {
    let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap_or_else(|err| {
        panic!(
            "{what}: {} body is not JSON ({err}): {}",
            reply.status,
            reply.text()
        )
    });
    assert!(
        body["error"]["code"].is_string() && body["error"]["message"].is_string(),
        "{what}: {} error shape: {body}",
        reply.status
    );
}

fn hostile_bodies() -> Vec<Case> {
    let jpeg = fixture("coffee.jpg");
    let png = fixture("coffee.png");
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#.to_vec();
    let svg_external = br#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100"><image href="file:///etc/passwd" xlink:href="file:///etc/passwd" width="100" height="100"/><text>&xxe;</text></svg>"#.to_vec();
    let mut random = vec![0u8; 64 * 1024];
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for byte in &mut random {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    // GIF header whose width bytes open a JS comment: valid JS and a GIF signature.
    let gif_js = b"GIF89a/*\x00\x00\x80\x00\x00*/=1;alert(document.domain);//\x3b".to_vec();
    let mut jpeg_zip = jpeg.clone();
    jpeg_zip
        .extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x08\x00evil.jsPK\x05\x06\x00\x00\x00\x00");
    let mut html_png = b"\x89PNG\r\n\x1a\n".to_vec();
    html_png.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let mut bad_utf8 = b"iVBORw0KGgo".to_vec();
    bad_utf8.extend_from_slice(&[0xFF, 0xFE, 0xC3, 0x28, 0xA0, 0xA1]);
    let data_html = format!(
        "data:text/html;base64,{}",
        BASE64.encode("<script>alert(1)</script>")
    );
    vec![
        case("zero bytes, image/jpeg", "image/jpeg", Vec::new(), &[400]),
        case("zero bytes, no type", "", Vec::new(), &[400]),
        case(
            "PNG signature only",
            "image/png",
            png[..8].to_vec(),
            &[415, 422],
        ),
        case(
            "JPEG SOI only",
            "image/jpeg",
            jpeg[..2].to_vec(),
            &[415, 422],
        ),
        case(
            "JPEG cut inside its header",
            "image/jpeg",
            jpeg[..20].to_vec(),
            &[422],
        ),
        case(
            "random bytes",
            "application/octet-stream",
            random.clone(),
            &[415],
        ),
        case("random bytes as image/png", "image/png", random, &[415]),
        case(
            "PNG IHDR 30000x30000",
            "image/png",
            png_claiming(30000, 30000),
            &[422],
        ),
        case(
            "JPEG SOF 65500x65500",
            "image/jpeg",
            jpeg_claiming(65500, 65500),
            &[422],
        ),
        case("GIF 65535x65535 canvas", "image/gif", gif_bomb(), &[422]),
        case("SVG", "image/svg+xml", svg.clone(), &[415]),
        case(
            "SVG with file:// references",
            "image/svg+xml",
            svg_external.clone(),
            &[415],
        ),
        case(
            "SVG sent as image/png",
            "image/png",
            svg_external.clone(),
            &[415],
        ),
        case(
            "text named .png (multipart)",
            "multipart/form-data; boundary=XyZ",
            multipart("XyZ", "photo.png", "image/png", b"hello, I am text\n"),
            &[415],
        ),
        case(
            "SVG in multipart",
            "multipart/form-data; boundary=XyZ",
            multipart("XyZ", "x.svg", "image/svg+xml", &svg_external),
            &[415],
        ),
        case("GIF/JS polyglot", "image/gif", gif_js, &[415, 422]),
        case(
            "HTML after a PNG signature",
            "image/png",
            html_png,
            &[415, 422],
        ),
        case(
            "base64 that is not",
            "text/plain",
            b"this is not base64 at all!!!".to_vec(),
            &[400],
        ),
        case(
            "base64 of text",
            "text/plain",
            BASE64.encode("just some text").into_bytes(),
            &[415],
        ),
        case(
            "invalid UTF-8 in a text body",
            "text/plain",
            bad_utf8,
            &[400],
        ),
        case(
            "data: URL with text/html",
            "text/plain",
            data_html.clone().into_bytes(),
            &[400, 415],
        ),
        case(
            "JSON data: URL with text/html",
            "application/json",
            serde_json::json!({ "data": data_html })
                .to_string()
                .into_bytes(),
            &[400, 415],
        ),
        case(
            "JSON without data",
            "application/json",
            br#"{"image": 1}"#.to_vec(),
            &[400],
        ),
        case(
            "JSON data not a string",
            "application/json",
            br#"{"data": 5}"#.to_vec(),
            &[400],
        ),
        case(
            "broken JSON",
            "application/json",
            br#"{"data": "#.to_vec(),
            &[400],
        ),
        case(
            "multipart, wrong boundary",
            "multipart/form-data; boundary=other",
            multipart("XyZ", "a.jpg", "image/jpeg", &jpeg),
            &[400],
        ),
        case(
            "multipart, missing boundary",
            "multipart/form-data",
            multipart("XyZ", "a.jpg", "image/jpeg", &jpeg),
            &[400],
        ),
        case(
            "multipart, no file part",
            "multipart/form-data; boundary=XyZ",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--XyZ--\r\n"
                .to_vec(),
            &[400],
        ),
        case(
            "5 MB over the payload limit",
            "application/octet-stream",
            vec![0xFF; 5_000_000],
            &[413],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_get_clear_4xx_json_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let hwm_before = vm_hwm_kb();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for case in hostile_bodies() {
        let started = Instant::now();
        let reply = post_image(&stack, &case.content_type, &case.body).await;
        let took = started.elapsed();
        let code = serde_json::from_slice::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
            .unwrap_or_default();
        report.push(format!(
            "{:>4} {code:<22} {took:>10.1?}  {}",
            reply.status, case.name
        ));
        if !case.expect.contains(&reply.status) {
            failures.push(format!(
                "{}: expected {:?}, got {} {}",
                case.name,
                case.expect,
                reply.status,
                reply.text()
            ));
            continue;
        }
        assert_json_error(case.name, &reply);
        assert!(
            took < Duration::from_secs(5),
            "{}: took {took:?} (a bomb must be refused from its header)",
            case.name
        );
    }
    eprintln!(
        "hostile bodies (status, code, time, input):\n{}",
        report.join("\n")
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if let (Some(before), Some(after)) = (hwm_before, vm_hwm_kb()) {
        eprintln!("measured: VmHWM {before} kB → {after} kB");
        assert!(
            after.saturating_sub(before) < 100 * 1024,
            "peak memory grew by {} kB",
            after - before
        );
    }
    assert_eq!(
        originals(dir.path()),
        Vec::<String>::new(),
        "rejected uploads left originals"
    );

    // The server keeps serving: a good upload afterwards works.
    let reply = post_image(&stack, "image/jpeg", &fixture("coffee.jpg")).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    stack.shutdown().await;
}

/// Truncated files whose header is intact pass the header probe (POST /images does not decode
/// pixels: one decode per original, in the resize function), so they are accepted; the resize then
/// either renders what is there or records `failed`. Either way every read is a clean answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_files_end_ready_or_failed_and_reads_stay_clean() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let jpeg = fixture("coffee.jpg");
    let png = fixture("coffee.png");
    let cases = [
        (
            "truncated JPEG",
            "image/jpeg",
            jpeg[..jpeg.len() / 3].to_vec(),
        ),
        ("JPEG header only", "image/jpeg", jpeg[..300].to_vec()),
        ("truncated PNG", "image/png", png[..png.len() / 2].to_vec()),
    ];
    let mut report = Vec::new();
    for (name, content_type, body) in cases {
        let reply = post_image(&stack, content_type, &body).await;
        if reply.status == 422 {
            assert_json_error(name, &reply);
            report.push(format!("{name}: 422 at upload"));
            continue;
        }
        assert_eq!(reply.status, 201, "{name}: {}", reply.text());
        let id = reply.json()["id"].as_str().unwrap().to_owned();
        let started = Instant::now();
        let status = loop {
            let reply = send("GET", &format!("{}/images/{id}", stack.api_url), &[], b"").await;
            assert_eq!(reply.status, 200, "{name}: {}", reply.text());
            let status = reply.json();
            if status["status"] != "processing" {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{name}: still processing"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        let thumb = send(
            "GET",
            &format!("{}/images/{id}/128.jpg", stack.api_url),
            &[],
            b"",
        )
        .await;
        match thumb.status {
            200 => assert_eq!(thumb.header("content-type"), Some("image/jpeg")),
            400..=499 => assert_json_error(name, &thumb),
            other => panic!("{name}: thumbnail answered {other}: {}", thumb.text()),
        }
        report.push(format!(
            "{name}: 201, then {} ({}), thumbnail {}",
            status["status"], status, thumb.status
        ));
    }
    eprintln!("{}", report.join("\n"));
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jpeg_with_a_trailing_zip_is_an_image_and_its_thumbnails_drop_the_zip() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let mut polyglot = fixture("coffee.jpg");
    polyglot.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x08\x00evil.jsPK\x05\x06\x00\x00");
    let reply = post_image(&stack, "image/jpeg", &polyglot).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let thumb = send(
        "GET",
        &format!("{}/images/{id}/128.jpg", stack.api_url),
        &[],
        b"",
    )
    .await;
    assert_eq!(thumb.status, 200);
    assert_eq!(thumb.header("content-type"), Some("image/jpeg"));
    assert!(!thumb.body.windows(4).any(|w| w == b"PK\x03\x04"));
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_ids_and_sizes_get_4xx_json_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let reply = post_image(&stack, "image/jpeg", &fixture("coffee.jpg")).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    let upper = id.to_uppercase();
    let short = &id[..31];
    let long = format!("{id}0");
    // (path, statuses allowed): 400 = the handler validated it; 403/404 = no route matched
    // (API Gateway's answer, mapped by the template's GatewayResponses).
    let cases: Vec<(String, &[u16])> = vec![
        ("/images/../x".into(), &[400, 403, 404]),
        ("/images/%2e%2e".into(), &[400]),
        ("/images/%2e%2e/256.jpg".into(), &[400]),
        ("/images/..%2f..%2fetc".into(), &[400, 403, 404]),
        (
            "/images/..%2f..%2fetc%2fpasswd/256.jpg".into(),
            &[400, 403, 404],
        ),
        (format!("/images/{upper}"), &[400]),
        (format!("/images/{upper}/256.jpg"), &[400]),
        (format!("/images/{short}"), &[400]),
        (format!("/images/{long}"), &[400]),
        (format!("/images/{long}/128.jpg"), &[400]),
        (format!("/images/{id}%00"), &[400]),
        (format!("/images/{id}/99999.jpg"), &[400]),
        (format!("/images/{id}/-1.jpg"), &[400]),
        (format!("/images/{id}/0.jpg"), &[400]),
        (format!("/images/{id}/256.png"), &[400, 404]),
        (format!("/images/{id}/256.jpg.jpg"), &[400, 404]),
        (format!("/images/{id}/%00.jpg"), &[400]),
        (format!("/images/{id}/256%00.jpg"), &[400]),
        ("/images/%ff%fe".into(), &[400]),
        ("/images/%".into(), &[400]),
        ("/images/%zz/256.jpg".into(), &[400]),
        (format!("/images/{id}%2f256.jpg"), &[400]),
        // The decoded `{file}` holds slashes: the handler sees more segments than its routes.
        (
            format!("/images/{id}/256.jpg%2f..%2f..%2foriginals"),
            &[400, 404],
        ),
        (
            format!("/images/{id}/%2e%2e%2f%2e%2e%2foriginals%2f{id}"),
            &[400, 404],
        ),
        (format!("/images/{id}/256.JPG"), &[400]),
        // Aliases of 256.jpg (the size is parsed as a number): harmless, the same thumbnail.
        (format!("/images/{id}/+256.jpg"), &[400, 200]),
        (format!("/images/{id}/0256.jpg"), &[400, 200]),
        (format!("/images/{id}/256.0.jpg"), &[400]),
        (format!("/images/{id}/1e3.jpg"), &[400]),
        ("/images/00000000000000000000000000000000".into(), &[404]),
        (
            "/images/00000000000000000000000000000000/256.jpg".into(),
            &[404],
        ),
    ];
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for (path, expect) in &cases {
        for method in ["GET", "HEAD"] {
            let reply = send(method, &format!("{}{path}", stack.api_url), &[], b"").await;
            report.push(format!("{method:<6} {:>4} {path}", reply.status));
            // template.yaml routes HEAD only for thumbnails; elsewhere no route matches (404).
            let head_no_route =
                method == "HEAD" && reply.status == 404 && path.matches('/').count() == 2;
            if !expect.contains(&reply.status) && !head_no_route {
                failures.push(format!(
                    "{method} {path}: expected {expect:?}, got {} {}",
                    reply.status,
                    reply.text()
                ));
            } else if method == "GET" && reply.status >= 400 {
                assert_json_error(path, &reply);
            }
        }
    }
    for path in [
        "/images/%2e%2e",
        &format!("/images/{upper}"),
        "/images/..%2f..%2fetc",
    ] {
        let reply = send(
            "DELETE",
            &format!("{}{path}", stack.api_url),
            &[("x-api-key", &stack.api_key)],
            b"",
        )
        .await;
        report.push(format!("DELETE {:>4} {path}", reply.status));
        if ![400, 403, 404].contains(&reply.status) {
            failures.push(format!(
                "DELETE {path}: got {} {}",
                reply.status,
                reply.text()
            ));
        } else {
            assert_json_error(path, &reply);
        }
    }
    eprintln!("hostile paths:\n{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Still serving, and the good image is untouched.
    let reply = send(
        "GET",
        &format!("{}/images/{id}/128.jpg", stack.api_url),
        &[],
        b"",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    stack.shutdown().await;
}

/// Sends raw bytes, half-closes, and returns the status line's code if one came back in time.
async fn raw_exchange(api_url: &str, request: &[u8]) -> Option<u16> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = api_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let _ = stream.write_all(request).await;
    let _ = stream.shutdown().await;
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut reply)).await;
    let text = String::from_utf8_lossy(&reply);
    text.strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_http_never_gets_a_5xx_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let key = &stack.api_key;
    let big_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200_000)
    );
    let mut bad_type = format!(
        "POST /images HTTP/1.1\r\nHost: x\r\nx-api-key: {key}\r\nContent-Length: 4\r\nContent-Type: image/"
    )
    .into_bytes();
    bad_type.extend_from_slice(b"\xff\xfe\r\n\r\nabcd");
    let requests: Vec<(&str, Vec<u8>)> = vec![
        ("binary garbage", b"\x00\x01\x02\x03\r\n\r\n".to_vec()),
        ("no request line", b"\r\n\r\n".to_vec()),
        ("HTTP/0.9", b"GET /\r\n".to_vec()),
        ("unknown version", b"GET / HTTP/7.0\r\nHost: x\r\n\r\n".to_vec()),
        ("200 kB header", big_header.into_bytes()),
        (
            "body shorter than Content-Length",
            format!("POST /images HTTP/1.1\r\nHost: x\r\nx-api-key: {key}\r\nContent-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\nshort").into_bytes(),
        ),
        (
            "negative Content-Length",
            format!("POST /images HTTP/1.1\r\nHost: x\r\nx-api-key: {key}\r\nContent-Length: -1\r\n\r\n").into_bytes(),
        ),
        (
            "two Content-Lengths",
            format!("POST /images HTTP/1.1\r\nHost: x\r\nx-api-key: {key}\r\nContent-Length: 2\r\nContent-Length: 4\r\n\r\nabcd").into_bytes(),
        ),
        (
            "bad chunk size",
            format!("POST /images HTTP/1.1\r\nHost: x\r\nx-api-key: {key}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n").into_bytes(),
        ),
        ("Content-Type with invalid UTF-8", bad_type),
        ("raw space in the path", b"GET /images/a b HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("raw UTF-8 in the path", "GET /images/é/256.jpg HTTP/1.1\r\nHost: x\r\n\r\n".as_bytes().to_vec()),
        ("absolute-form target", b"GET http://evil.example/images HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
        ("CONNECT", b"CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n".to_vec()),
        ("TRACE", b"TRACE / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec()),
    ];
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for (name, request) in &requests {
        let status = raw_exchange(&stack.api_url, request).await;
        report.push(format!("{status:?} {name}"));
        if status.is_some_and(|s| s >= 500) {
            failures.push(format!("{name}: {status:?}"));
        }
    }
    eprintln!("malformed HTTP (status, request):\n{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(originals(dir.path()), Vec::<String>::new());
    let reply = post_image(&stack, "image/jpeg", &fixture("coffee.jpg")).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_presign_requests_get_4xx_json() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let cases: &[(&str, &str, &[u16])] = &[
        (
            "SVG",
            r#"{"content_type":"image/svg+xml","bytes":100}"#,
            &[415],
        ),
        (
            "HTML",
            r#"{"content_type":"text/html","bytes":100}"#,
            &[415],
        ),
        (
            "type with parameters",
            r#"{"content_type":"image/png; charset=x","bytes":100}"#,
            &[415],
        ),
        (
            "zero bytes",
            r#"{"content_type":"image/png","bytes":0}"#,
            &[400],
        ),
        (
            "negative bytes",
            r#"{"content_type":"image/png","bytes":-1}"#,
            &[400],
        ),
        (
            "fractional bytes",
            r#"{"content_type":"image/png","bytes":1.5}"#,
            &[400],
        ),
        (
            "bytes as text",
            r#"{"content_type":"image/png","bytes":"100"}"#,
            &[400],
        ),
        (
            "over u64",
            r#"{"content_type":"image/png","bytes":99999999999999999999999}"#,
            &[400],
        ),
        (
            "1 TB",
            r#"{"content_type":"image/png","bytes":1000000000000}"#,
            &[413],
        ),
        ("no type", r#"{"bytes":100}"#, &[400]),
        ("not JSON", "content_type=image/png&bytes=100", &[400]),
        ("JSON array", "[]", &[400]),
        ("empty", "", &[400]),
    ];
    let mut failures = Vec::new();
    for (name, body, expect) in cases {
        let reply = send(
            "POST",
            &format!("{}/uploads", stack.api_url),
            &[
                ("Content-Type", "application/json"),
                ("x-api-key", &stack.api_key),
            ],
            body.as_bytes(),
        )
        .await;
        eprintln!("{:>4} POST /uploads {name}", reply.status);
        if !expect.contains(&reply.status) {
            failures.push(format!(
                "{name}: expected {expect:?}, got {} {}",
                reply.status,
                reply.text()
            ));
        } else {
            assert_json_error(name, &reply);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    stack.shutdown().await;
}
