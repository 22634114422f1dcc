//! Security properties of the whole local stack, checked over real HTTP: no EXIF/GPS
//! in thumbnails, the API key check, presigned PUTs bound to their type, size and a short
//! lifetime, and no user-supplied names in object keys.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Reply, fixture, send, stack};
use serde_json::{Value, json};
use thumbs_local::stack::RunningStack;

/// Every object key in the embedded S3's data folder.
fn object_keys(data_dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().into_owned());
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
        .filter(|k| k.contains("originals/"))
        .collect()
}

fn is_hex_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

async fn wait_ready(stack: &RunningStack, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let reply = send("GET", &format!("{}/images/{id}", stack.api_url), &[], b"").await;
        if reply.status == 200 && reply.json()["status"] == "ready" {
            return reply.json();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{id} not ready: {}",
            reply.text()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// `coffee.jpg` with an APP1 Exif segment (big-endian TIFF) whose IFD0 points at a GPS IFD:
/// GPSLatitudeRef "N", GPSLatitude 48/1 51/1 2964/100 — a photo's location.
fn jpeg_with_gps() -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\x00\x2a\x00\x00\x00\x08");
    // IFD0: one entry, GPSInfo (0x8825) LONG → offset of the GPS IFD (26).
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&[0x88, 0x25, 0x00, 0x04, 0, 0, 0, 1, 0, 0, 0, 26]);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(tiff.len(), 26);
    // GPS IFD: GPSLatitudeRef ASCII "N\0"; GPSLatitude RATIONAL×3 at offset 56.
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&[0x00, 0x01, 0x00, 0x02, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0x00, 0x02, 0x00, 0x05, 0, 0, 0, 3, 0, 0, 0, 56]);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(tiff.len(), 56);
    for (num, den) in [(48u32, 1u32), (51, 1), (2964, 100)] {
        tiff.extend_from_slice(&num.to_be_bytes());
        tiff.extend_from_slice(&den.to_be_bytes());
    }
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((2 + 6 + tiff.len()) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\x00\x00");
    app1.extend_from_slice(&tiff);

    let photo = fixture("coffee.jpg");
    // After SOI and, when present, the JFIF APP0 segment.
    let mut at = 2;
    if photo[2..4] == [0xFF, 0xE0] {
        at = 4 + usize::from(u16::from_be_bytes([photo[4], photo[5]]));
    }
    let mut out = photo[..at].to_vec();
    out.extend_from_slice(&app1);
    out.extend_from_slice(&photo[at..]);
    out
}

/// The marker segments before the scan data (SOS), as (marker, payload).
fn header_segments(jpeg: &[u8]) -> Vec<(u8, Vec<u8>)> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "JPEG SOI");
    let mut out = Vec::new();
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        out.push((marker, jpeg[at + 4..at + 2 + len].to_vec()));
        if marker == 0xDA {
            break;
        }
        at += 2 + len;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbnails_of_a_photo_with_gps_exif_carry_no_exif_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let photo = jpeg_with_gps();
    assert!(
        header_segments(&photo)
            .iter()
            .any(|(m, p)| *m == 0xE1 && p.starts_with(b"Exif"))
    );
    let reply = send(
        "POST",
        &format!("{}/images", stack.api_url),
        &[
            ("Content-Type", "image/jpeg"),
            ("x-api-key", &stack.api_key),
        ],
        &photo,
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let id = reply.json()["id"].as_str().unwrap().to_owned();
    wait_ready(&stack, &id).await;
    for size in [128, 256, 512] {
        let thumb = send(
            "GET",
            &format!("{}/images/{id}/{size}.jpg", stack.api_url),
            &[],
            b"",
        )
        .await;
        assert_eq!(thumb.status, 200);
        let segments = header_segments(&thumb.body);
        assert!(
            segments.iter().all(|(m, _)| !(0xE1..=0xEF).contains(m)),
            "{size}.jpg has APP1..APP15 segments: {:x?}",
            segments.iter().map(|(m, _)| m).collect::<Vec<_>>()
        );
        for needle in [&b"Exif"[..], b"MM\x00\x2a", b"II\x2a\x00", b"GPS"] {
            assert!(
                !thumb.body.windows(needle.len()).any(|w| w == needle),
                "{size}.jpg contains {needle:?}"
            );
        }
    }
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_api_keys_of_any_length_are_403_json_and_the_right_one_works() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let key = stack.api_key.clone();
    let mut same_length = key.clone().into_bytes();
    same_length[0] = if same_length[0] == b'a' { b'b' } else { b'a' };
    let same_length = String::from_utf8(same_length).unwrap();
    let last_char_off = format!(
        "{}{}",
        &key[..key.len() - 1],
        if key.ends_with('x') { 'y' } else { 'x' }
    );
    let wrong = [
        same_length,
        last_char_off,
        key[..key.len() - 1].to_owned(),
        format!("{key}x"),
        key.to_uppercase(),
        "x".to_owned(),
        "x".repeat(4096),
    ];
    let photo = fixture("coffee.png");
    for given in &wrong {
        if *given == key {
            continue;
        }
        let reply = send(
            "POST",
            &format!("{}/images", stack.api_url),
            &[("Content-Type", "image/png"), ("x-api-key", given)],
            &photo,
        )
        .await;
        assert_eq!(
            reply.status,
            403,
            "key of {} chars: {}",
            given.len(),
            reply.text()
        );
        assert!(
            reply.json()["error"]["code"].is_string(),
            "{}",
            reply.text()
        );
    }
    assert_eq!(originals(dir.path()), Vec::<String>::new());
    let reply = send(
        "POST",
        &format!("{}/images", stack.api_url),
        &[("Content-Type", "image/png"), ("x-api-key", &key)],
        &photo,
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    stack.shutdown().await;
}

/// `2026-11-25T09:07:08.538290928Z` → seconds since the epoch (UTC only, as the API writes it).
fn rfc3339_utc_seconds(text: &str) -> i64 {
    assert!(text.ends_with('Z'), "UTC timestamp: {text}");
    let num = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
    let (year, month, day) = (num(0..4), num(5..7), num(8..10));
    let (hour, minute, second) = (num(11..13), num(14..16), num(17..19));
    let date = time::Date::from_calendar_date(
        year as i32,
        time::Month::try_from(month as u8).unwrap(),
        day as u8,
    )
    .unwrap();
    let at = date
        .with_hms(hour as u8, minute as u8, second as u8)
        .unwrap()
        .assume_utc();
    at.unix_timestamp()
}

async fn presign(stack: &RunningStack, content_type: &str, bytes: usize) -> Value {
    let request = json!({ "content_type": content_type, "bytes": bytes }).to_string();
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
    assert!(matches!(reply.status, 200 | 201), "{}", reply.text());
    reply.json()
}

fn headers_of(presigned: &Value) -> Vec<(String, String)> {
    presigned["headers"]
        .as_object()
        .expect("headers object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

async fn put(url: &str, headers: &[(String, String)], body: &[u8]) -> Reply {
    let refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    send("PUT", url, &refs, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_puts_are_short_lived_and_bound_to_their_type_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let photo = fixture("coffee.png");
    let presigned = presign(&stack, "image/png", photo.len()).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let expires_at = rfc3339_utc_seconds(presigned["expires_at"].as_str().unwrap());
    assert!(
        expires_at > now && expires_at <= now + 15 * 60 + 5,
        "expires_at {} is not within 15 minutes",
        presigned["expires_at"]
    );
    let url = presigned["url"].as_str().unwrap();
    let expires_param: u64 = url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("X-Amz-Expires="))
        .expect("X-Amz-Expires in the URL")
        .parse()
        .unwrap();
    assert!(expires_param <= 900, "X-Amz-Expires={expires_param}");
    let id = presigned["id"].as_str().unwrap();
    assert!(is_hex_id(id));
    let headers = headers_of(&presigned);

    // Another Content-Type than the one signed: S3 refuses the signature.
    let mut as_jpeg = headers.clone();
    for (name, value) in &mut as_jpeg {
        if name.eq_ignore_ascii_case("content-type") {
            *value = "image/jpeg".into();
        }
    }
    let reply = put(url, &as_jpeg, &photo).await;
    assert_eq!(reply.status, 403, "other Content-Type: {}", reply.text());
    // HTML with the signed headers except its type: also refused.
    let mut as_html = headers.clone();
    for (name, value) in &mut as_html {
        if name.eq_ignore_ascii_case("content-type") {
            *value = "text/html".into();
        }
    }
    let reply = put(url, &as_html, &photo).await;
    assert_eq!(reply.status, 403, "text/html: {}", reply.text());

    // More bytes than declared (the client sends its real Content-Length): refused.
    let mut bigger = photo.clone();
    bigger.extend_from_slice(&[0u8; 1000]);
    let without_length: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("content-length"))
        .cloned()
        .collect();
    let reply = put(url, &without_length, &bigger).await;
    assert!(
        (400..500).contains(&reply.status),
        "more bytes than declared: {} {}",
        reply.text(),
        reply.status
    );
    // Fewer bytes than declared: refused too.
    let reply = put(url, &without_length, &photo[..photo.len() / 2]).await;
    assert!(
        (400..500).contains(&reply.status),
        "fewer bytes: {}",
        reply.status
    );
    assert_eq!(
        originals(dir.path()),
        Vec::<String>::new(),
        "nothing stored"
    );

    // Exactly as signed: accepted, under originals/{id}.
    let reply = put(url, &headers, &photo).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let stored = originals(dir.path());
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0].ends_with(&format!("originals/{id}")),
        "{stored:?}"
    );
    stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_keys_never_contain_user_supplied_names() {
    let dir = tempfile::tempdir().unwrap();
    let stack = stack(dir.path()).await;
    let photo = fixture("coffee.jpg");
    for filename in [
        "../../evil.jpg",
        "..\\..\\evil.jpg",
        "/etc/passwd",
        "originals/x",
    ] {
        let mut body = format!(
            "--B0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&photo);
        body.extend_from_slice(b"\r\n--B0und--\r\n");
        let reply = send(
            "POST",
            &format!("{}/images", stack.api_url),
            &[
                ("Content-Type", "multipart/form-data; boundary=B0und"),
                ("x-api-key", &stack.api_key),
            ],
            &body,
        )
        .await;
        assert!(matches!(reply.status, 200 | 201), "{}", reply.text());
        assert!(is_hex_id(reply.json()["id"].as_str().unwrap()));
    }
    let id = thumbs_core::id::ImageId::for_content(&photo).to_string();
    wait_ready(&stack, &id).await;
    let keys = object_keys(dir.path());
    for key in &keys {
        assert!(!key.contains("evil") && !key.contains("passwd"), "{keys:?}");
        let in_bucket = key.split_once('/').map(|(_, k)| k).unwrap_or(key);
        let ok = in_bucket == format!("originals/{id}")
            || in_bucket.starts_with(&format!("thumbnails/{id}/"))
            || !in_bucket.contains('/'); // s3s-fs bookkeeping files at the bucket root
        assert!(ok, "unexpected key {key} in {keys:?}");
    }
    assert!(!dir.path().parent().unwrap().join("evil.jpg").exists());
    stack.shutdown().await;
}
