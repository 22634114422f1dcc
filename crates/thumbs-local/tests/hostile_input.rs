//! Hostile input through the real local stack over HTTP: every bad body, id and size
//! gets a clear 4xx JSON error with the contract's status, the server keeps serving, nothing is
//! half-written (no `originals/` object for a rejected upload) and bombs answer fast without
//! allocating their claimed pixels.
//!
//! Inputs are generated here from the core fixtures (no binary blobs checked in); see
//! `tests/fixtures/hostile/README.md`.

#[path = "hostile_input/bodies.rs"]
mod bodies;
mod common;

use std::time::{Duration, Instant};

use bodies::hostile_bodies;
use common::{Reply, fixture, object_keys, originals, post_image, send, stack};

/// Peak resident set of this process (the stack runs in-process), in kB. Linux always reports
/// it; a test that measures memory fails rather than skip the measurement.
fn vm_hwm_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/self/status:\n{status}"))
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
    let (before, after) = (hwm_before, vm_hwm_kb());
    eprintln!("measured: VmHWM {before} kB → {after} kB");
    assert!(
        after.saturating_sub(before) < 100 * 1024,
        "peak memory grew by {} kB",
        after - before
    );
    assert_eq!(
        originals(dir.path()),
        Vec::<String>::new(),
        "rejected uploads left originals"
    );

    // The server keeps serving: a good upload afterwards works, and the same look at the
    // bucket sees its original (the control for "nothing is stored" above).
    let reply = post_image(&stack, "image/jpeg", &fixture("coffee.jpg")).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(
        originals(dir.path()).len(),
        1,
        "{:?}",
        object_keys(dir.path())
    );
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
    assert_eq!(
        originals(dir.path()).len(),
        1,
        "the control: a stored original is seen"
    );
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
