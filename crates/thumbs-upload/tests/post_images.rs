//! thumbs-upload driven by real API Gateway REST proxy events (infra/events, from
//! `sam local generate-event apigateway aws-proxy`) parsed by lambda_http's own deserialisation,
//! against the embedded S3 server over HTTP with the real aws-sdk-s3 client.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::{Body, Response};
use thumbs_core::config::Config;
use thumbs_store::Store;
use thumbs_store::event::ObjectCreated;
use thumbs_store::local_server::LocalS3;
use thumbs_upload::Upload;
use tokio::sync::mpsc::UnboundedReceiver;

const BUCKET: &str = "thumbs-test";
const JPEG: &[u8] = include_bytes!("../../thumbs-core/tests/fixtures/coffee.jpg");
const PNG: &[u8] = include_bytes!("../../thumbs-core/tests/fixtures/chelsea.png");
const SVG: &[u8] = include_bytes!("../../thumbs-core/tests/fixtures/drawing.svg");
const BOMB: &[u8] = include_bytes!("../../thumbs-core/tests/fixtures/bomb-30000x30000.png");
const EVENT: &str = include_str!("../../../infra/events/apigw-post-images.json");

struct Stack {
    _dir: tempfile::TempDir,
    s3: LocalS3,
    store: Store,
    upload: Upload,
    created: UnboundedReceiver<ObjectCreated>,
}

async fn stack(config: Config) -> Stack {
    let dir = tempfile::tempdir().unwrap();
    let (tx, created) = tokio::sync::mpsc::unbounded_channel();
    let s3 = LocalS3::start_with_hook(dir.path(), 0, tx).await.unwrap();
    s3.create_bucket(BUCKET).unwrap();
    let store = Store::connect(&s3.store_config(BUCKET)).await;
    let upload = Upload::new(config, store.clone());
    Stack {
        _dir: dir,
        s3,
        store,
        upload,
        created,
    }
}

/// The SAM-generated event with method, path, headers and body substituted, as API Gateway
/// would send it: binary bodies base64-encoded with `isBase64Encoded: true` (docs/architecture.md, rule 1).
fn event(
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Option<&[u8]>,
    binary: bool,
) -> lambda_http::Request {
    let mut e: serde_json::Value = serde_json::from_str(EVENT).unwrap();
    e["httpMethod"] = method.into();
    e["requestContext"]["httpMethod"] = method.into();
    e["path"] = path.into();
    e["requestContext"]["path"] = format!("/prod{path}").into();
    e["resource"] = path.into();
    e["pathParameters"] = serde_json::Value::Null;
    if let Some(ct) = content_type {
        e["headers"]["Content-Type"] = ct.into();
        e["multiValueHeaders"]["Content-Type"] = serde_json::json!([ct]);
    }
    e["body"] = match body {
        Some(bytes) if binary => STANDARD.encode(bytes).into(),
        Some(bytes) => String::from_utf8(bytes.to_vec()).unwrap().into(),
        None => serde_json::Value::Null,
    };
    e["isBase64Encoded"] = binary.into();
    lambda_http::request::from_str(&e.to_string()).unwrap()
}

fn json(resp: &Response<Body>) -> serde_json::Value {
    serde_json::from_slice(resp.body().as_ref()).unwrap_or(serde_json::Value::Null)
}

fn header<'a>(resp: &'a Response<Body>, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

fn assert_error(resp: &Response<Body>, status: u16, code: &str) {
    let body = json(resp);
    assert_eq!(resp.status().as_u16(), status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(header(resp, "content-type"), Some("application/json"));
}

fn drain(rx: &mut UnboundedReceiver<ObjectCreated>) -> Vec<ObjectCreated> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

#[tokio::test]
async fn upload_raw_jpeg_returns_201_and_location() {
    let mut s = stack(Config::default()).await;
    let resp = s
        .upload
        .handle(event(
            "POST",
            "/images",
            Some("image/jpeg"),
            Some(JPEG),
            true,
        ))
        .await;
    let body = json(&resp);
    assert_eq!(resp.status(), 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(id, thumbs_core::id::ImageId::for_content(JPEG).to_string());
    // The SAM event's Host is the execute-api domain, whose URLs carry the stage.
    assert_eq!(
        header(&resp, "location"),
        Some(format!("/prod/images/{id}").as_str())
    );
    assert_eq!(body["status"], "processing");
    assert_eq!(body["original"]["format"], "jpeg");
    assert_eq!(body["original"]["bytes"], JPEG.len());
    assert!(body["original"]["width"].as_u64().unwrap() > 0);
    assert_eq!(
        body["thumbnails"]["256"],
        format!("/prod/images/{id}/256.jpg")
    );

    let meta = s
        .store
        .head(&format!("originals/{id}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (meta.size, meta.content_type.as_deref()),
        (JPEG.len() as u64, Some("image/jpeg"))
    );
    assert_eq!(drain(&mut s.created).len(), 1);
}

#[tokio::test]
async fn same_bytes_twice_returns_200_and_writes_nothing() {
    let mut s = stack(Config::default()).await;
    let first = s
        .upload
        .handle(event("POST", "/images", Some("image/png"), Some(PNG), true))
        .await;
    assert_eq!(first.status(), 201);
    assert_eq!(drain(&mut s.created).len(), 1);
    let again = s
        .upload
        .handle(event(
            "POST",
            "/images",
            Some("application/octet-stream"),
            Some(PNG),
            true,
        ))
        .await;
    assert_eq!(again.status(), 200, "{}", json(&again));
    assert_eq!(json(&again)["id"], json(&first)["id"]);
    assert!(
        drain(&mut s.created).is_empty(),
        "a duplicate upload must not write (nor re-trigger the resize)"
    );
}

#[tokio::test]
async fn every_text_body_form_is_accepted() {
    let s = stack(Config::default()).await;
    let b64 = STANDARD.encode(JPEG);
    let data_url = format!("data:image/jpeg;base64,{b64}");
    let json_body = serde_json::json!({ "data": data_url }).to_string();
    let json_plain = serde_json::json!({ "data": b64 }).to_string();
    let cases: [(Option<&str>, &str); 5] = [
        (Some("text/plain"), &b64),
        (None, &b64),
        (Some("text/plain"), &data_url),
        (Some("application/json"), &json_body),
        (Some("application/json; charset=utf-8"), &json_plain),
    ];
    for (i, (ct, body)) in cases.into_iter().enumerate() {
        let resp = s
            .upload
            .handle(event("POST", "/images", ct, Some(body.as_bytes()), false))
            .await;
        let expected = if i == 0 { 201 } else { 200 }; // same bytes every time
        assert_eq!(resp.status(), expected, "{ct:?}: {}", json(&resp));
        assert_eq!(json(&resp)["original"]["format"], "jpeg");
    }
}

#[tokio::test]
async fn multipart_form_data_file_part_is_accepted() {
    let s = stack(Config::default()).await;
    let mut body = Vec::new();
    body.extend_from_slice(b"------WebKitFormBoundary7MA4YWxk\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n");
    body.extend_from_slice(b"------WebKitFormBoundary7MA4YWxk\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cat.png\"\r\nContent-Type: image/png\r\n\r\n");
    body.extend_from_slice(PNG);
    body.extend_from_slice(b"\r\n------WebKitFormBoundary7MA4YWxk--\r\n");
    let ct = "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxk";
    let resp = s
        .upload
        .handle(event("POST", "/images", Some(ct), Some(&body), true))
        .await;
    assert_eq!(resp.status(), 201, "{}", json(&resp));
    assert_eq!(json(&resp)["original"]["format"], "png");
    assert_eq!(json(&resp)["original"]["bytes"], PNG.len());

    let no_boundary = s
        .upload
        .handle(event(
            "POST",
            "/images",
            Some("multipart/form-data"),
            Some(&body),
            true,
        ))
        .await;
    assert_error(&no_boundary, 400, "bad_encoding");
    let wrong = s
        .upload
        .handle(event(
            "POST",
            "/images",
            Some("multipart/form-data; boundary=nope"),
            Some(&body),
            true,
        ))
        .await;
    assert_error(&wrong, 400, "bad_encoding");
}

#[tokio::test]
async fn client_faults_get_the_right_status_and_nothing_is_written() {
    let mut s = stack(Config::default()).await;
    let garbage = s
        .upload
        .handle(event(
            "POST",
            "/images",
            Some("text/plain"),
            Some(b"this is %% not base64!"),
            false,
        ))
        .await;
    assert_error(&garbage, 400, "bad_encoding");
    let svg = s
        .upload
        .handle(event(
            "POST",
            "/images",
            Some("image/svg+xml"),
            Some(SVG),
            true,
        ))
        .await;
    assert_error(&svg, 415, "unsupported_format");
    let bomb = s
        .upload
        .handle(event(
            "POST",
            "/images",
            Some("image/png"),
            Some(BOMB),
            true,
        ))
        .await;
    assert_error(&bomb, 422, "too_many_pixels");
    let empty = s
        .upload
        .handle(event("POST", "/images", Some("image/png"), None, true))
        .await;
    assert_error(&empty, 400, "bad_encoding");
    assert!(drain(&mut s.created).is_empty());
    assert!(s.store.list("").await.unwrap().is_empty());
}

#[tokio::test]
async fn over_max_upload_bytes_is_413_pointing_to_uploads() {
    let config = Config {
        max_upload_bytes: 10_000,
        ..Config::default()
    };
    let s = stack(config).await;
    let resp = s
        .upload
        .handle(event(
            "POST",
            "/images",
            Some("image/jpeg"),
            Some(JPEG),
            true,
        ))
        .await;
    assert_error(&resp, 413, "too_large");
    assert!(
        json(&resp)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/uploads")
    );
    let b64 = STANDARD.encode(JPEG);
    let resp = s
        .upload
        .handle(event(
            "POST",
            "/images",
            Some("text/plain"),
            Some(b64.as_bytes()),
            false,
        ))
        .await;
    assert_error(&resp, 413, "too_large");
}

#[tokio::test]
async fn post_uploads_presigns_a_put_that_s3_accepts() {
    let mut s = stack(Config::default()).await;
    let req = serde_json::json!({ "content_type": "image/jpeg", "bytes": JPEG.len() }).to_string();
    let resp = s
        .upload
        .handle(event(
            "POST",
            "/uploads",
            Some("application/json"),
            Some(req.as_bytes()),
            false,
        ))
        .await;
    let body = json(&resp);
    assert_eq!(resp.status(), 200, "{body}");
    assert_eq!(body["method"], "PUT");
    assert_eq!(body["headers"]["Content-Type"], "image/jpeg");
    let id = body["id"].as_str().unwrap();
    thumbs_core::id::ImageId::parse(id).unwrap();
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));

    // Perform the PUT as a client would, over plain HTTP with the signed headers.
    let url = body["url"].as_str().unwrap();
    let path = &url[url.find("/thumbs-test/").unwrap()..];
    let mut raw = format!(
        "PUT {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        s.s3.addr()
    );
    for (name, value) in body["headers"].as_object().unwrap() {
        raw.push_str(&format!("{name}: {}\r\n", value.as_str().unwrap()));
    }
    raw.push_str("\r\n");
    let mut raw = raw.into_bytes();
    raw.extend_from_slice(JPEG);
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(s.s3.addr()).await.unwrap();
    conn.write_all(&raw).await.unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let created = drain(&mut s.created);
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].key, format!("originals/{id}"));
    // The URL writes once: the same PUT again is refused by the store, and nothing is created.
    assert_eq!(body["headers"]["If-None-Match"], "*");
    let mut conn = tokio::net::TcpStream::connect(s.s3.addr()).await.unwrap();
    conn.write_all(&raw).await.unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 412"), "{answer}");
    assert!(drain(&mut s.created).is_empty());

    let svg = serde_json::json!({ "content_type": "image/svg+xml", "bytes": 10 }).to_string();
    let resp = s
        .upload
        .handle(event(
            "POST",
            "/uploads",
            Some("application/json"),
            Some(svg.as_bytes()),
            false,
        ))
        .await;
    assert_error(&resp, 415, "unsupported_format");
    let huge =
        serde_json::json!({ "content_type": "image/png", "bytes": 51 * 1024 * 1024 }).to_string();
    let resp = s
        .upload
        .handle(event(
            "POST",
            "/uploads",
            Some("application/json"),
            Some(huge.as_bytes()),
            false,
        ))
        .await;
    assert_error(&resp, 413, "too_large");
    let bad = s
        .upload
        .handle(event(
            "POST",
            "/uploads",
            Some("application/json"),
            Some(b"{}"),
            false,
        ))
        .await;
    assert_error(&bad, 400, "bad_request");
}

#[tokio::test]
async fn delete_removes_original_and_thumbnails() {
    let s = stack(Config::default()).await;
    let resp = s
        .upload
        .handle(event(
            "POST",
            "/images",
            Some("image/jpeg"),
            Some(JPEG),
            true,
        ))
        .await;
    let id = json(&resp)["id"].as_str().unwrap().to_owned();
    s.store
        .put(
            &format!("thumbnails/{id}/128.jpg"),
            b"x".to_vec(),
            "image/jpeg",
        )
        .await
        .unwrap();
    s.store
        .put(
            &format!("thumbnails/{id}/manifest.json"),
            b"{}".to_vec(),
            "application/json",
        )
        .await
        .unwrap();

    let resp = s
        .upload
        .handle(event("DELETE", &format!("/images/{id}"), None, None, false))
        .await;
    assert_eq!(resp.status(), 204);
    // Only the tombstone is left: it keeps the id deleted.
    assert_eq!(
        s.store.list("").await.unwrap(),
        [format!("tombstones/{id}")]
    );
    let again = s
        .upload
        .handle(event("DELETE", &format!("/images/{id}"), None, None, false))
        .await;
    assert_error(&again, 404, "deleted");
    let never = s
        .upload
        .handle(event(
            "DELETE",
            &format!("/images/{}", "0".repeat(32)),
            None,
            None,
            false,
        ))
        .await;
    assert_error(&never, 404, "not_found");
    let invalid = s
        .upload
        .handle(event("DELETE", "/images/..%2F..%2Fetc", None, None, false))
        .await;
    assert_error(&invalid, 400, "invalid_id");
    let upper = s
        .upload
        .handle(event(
            "DELETE",
            &format!("/images/{}", id.to_uppercase()),
            None,
            None,
            false,
        ))
        .await;
    assert_error(&upper, 400, "invalid_id");
}

#[tokio::test]
async fn storage_down_is_503_with_retry_after() {
    let config = thumbs_store::local_server::unreachable_store_config(BUCKET);
    let upload = Upload::new(Config::default(), Store::connect(&config).await);
    let resp = upload
        .handle(event(
            "POST",
            "/images",
            Some("image/jpeg"),
            Some(JPEG),
            true,
        ))
        .await;
    assert_error(&resp, 503, "storage_unavailable");
    assert!(header(&resp, "retry-after").is_some());
}

#[tokio::test]
async fn unknown_routes_are_json_404_and_405() {
    let s = stack(Config::default()).await;
    assert_error(
        &s.upload
            .handle(event("POST", "/nope", None, None, false))
            .await,
        404,
        "not_found",
    );
    assert_error(
        &s.upload
            .handle(event("PUT", "/images", None, None, false))
            .await,
        405,
        "method_not_allowed",
    );
}
