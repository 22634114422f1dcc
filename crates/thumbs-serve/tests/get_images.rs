//! thumbs-serve driven by SAM-generated API Gateway REST proxy events (infra/events) parsed by
//! lambda_http, against the embedded S3 server over HTTP with the real aws-sdk-s3 client.

#[path = "../../thumbs-local/tests/support/local_bucket.rs"]
mod local_bucket;

use lambda_http::{Body, Response};
use local_bucket::{LocalBucket, local_bucket};
use thumbs_core::config::Config;
use thumbs_core::id::ImageId;
use thumbs_resize::Resize;
use thumbs_serve::Serve;
use thumbs_store::Store;
use thumbs_store::event::ObjectCreated;
use thumbs_store::local_server::LocalS3;
use tokio::sync::mpsc::UnboundedReceiver;

const BUCKET: &str = "thumbs-test";
const JPEG: &[u8] = include_bytes!("../../thumbs-core/tests/fixtures/coffee.jpg");
const SVG: &[u8] = include_bytes!("../../thumbs-core/tests/fixtures/drawing.svg");
const EVENT: &str = include_str!("../../../infra/events/apigw-post-images.json");

struct Stack {
    _dir: tempfile::TempDir,
    _s3: LocalS3,
    store: Store,
    serve: Serve,
    resize: Resize,
    created: UnboundedReceiver<ObjectCreated>,
}

async fn stack() -> Stack {
    let LocalBucket {
        dir,
        s3,
        store,
        created,
    } = local_bucket(BUCKET).await;
    let serve = Serve::new(Config::default(), store.clone());
    let resize = Resize::new(Config::default(), store.clone());
    Stack {
        _dir: dir,
        _s3: s3,
        store,
        serve,
        resize,
        created,
    }
}

/// The SAM event as a GET/HEAD through resource `/images/{id}/{file}` (or a proxy resource).
fn event(
    method: &str,
    path: &str,
    params: serde_json::Value,
    headers: &[(&str, &str)],
) -> lambda_http::Request {
    let mut e: serde_json::Value = serde_json::from_str(EVENT).unwrap();
    e["httpMethod"] = method.into();
    e["requestContext"]["httpMethod"] = method.into();
    e["path"] = path.into();
    e["requestContext"]["path"] = format!("/prod{path}").into();
    e["pathParameters"] = params;
    e["body"] = serde_json::Value::Null;
    e["isBase64Encoded"] = false.into();
    for (name, value) in headers {
        e["headers"][*name] = (*value).into();
        e["multiValueHeaders"][*name] = serde_json::json!([value]);
    }
    lambda_http::request::from_str(&e.to_string()).unwrap()
}

fn get(path: &str) -> lambda_http::Request {
    event("GET", path, serde_json::Value::Null, &[])
}

fn json(resp: &Response<Body>) -> serde_json::Value {
    serde_json::from_slice(resp.body().as_ref()).unwrap_or(serde_json::Value::Null)
}

fn header<'a>(resp: &'a Response<Body>, name: &str) -> Option<&'a str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

fn drain(rx: &mut UnboundedReceiver<ObjectCreated>) -> Vec<String> {
    std::iter::from_fn(|| rx.try_recv().ok())
        .map(|c| c.key)
        .collect()
}

async fn original(s: &mut Stack, bytes: &[u8]) -> ImageId {
    let id = ImageId::for_content(bytes);
    s.store
        .put(&format!("originals/{id}"), bytes.to_vec(), "image/jpeg")
        .await
        .unwrap();
    drain(&mut s.created);
    id
}

async fn resized(s: &mut Stack, bytes: &[u8]) -> ImageId {
    let id = original(s, bytes).await;
    let record = ObjectCreated {
        event_name: "ObjectCreated:Put",
        bucket: BUCKET.into(),
        key: format!("originals/{id}"),
        size: 0,
        etag: String::new(),
    };
    s.resize
        .handle(record.to_s3_event("us-east-1"))
        .await
        .unwrap();
    drain(&mut s.created);
    id
}

#[tokio::test]
async fn thumbnail_is_binary_jpeg_with_etag_and_immutable_caching() {
    let mut s = stack().await;
    let id = resized(&mut s, JPEG).await;
    let params = serde_json::json!({ "id": id.as_str(), "file": "256.jpg" });
    let resp = s
        .serve
        .handle(event("GET", &format!("/images/{id}/256.jpg"), params, &[]))
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "content-type"), Some("image/jpeg"));
    assert_eq!(
        header(&resp, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let etag = header(&resp, "etag").unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.len() > 2, "{etag}");
    // Body::Binary is what makes lambda_http answer with isBase64Encoded: true.
    let Body::Binary(bytes) = resp.body() else {
        panic!("expected a binary body")
    };
    assert_eq!(&bytes[..2], b"\xff\xd8");
    assert_eq!(
        header(&resp, "content-length"),
        Some(bytes.len().to_string().as_str())
    );

    let cached = s
        .serve
        .handle(event(
            "GET",
            &format!("/images/{id}/256.jpg"),
            serde_json::Value::Null,
            &[("If-None-Match", &etag)],
        ))
        .await;
    assert_eq!(cached.status(), 304);
    assert!(cached.body().is_empty());
    assert_eq!(header(&cached, "etag"), Some(etag.as_str()));

    let head = s
        .serve
        .handle(event(
            "HEAD",
            &format!("/images/{id}/256.jpg"),
            serde_json::Value::Null,
            &[],
        ))
        .await;
    assert_eq!(head.status(), 200);
    assert!(head.body().is_empty());
    assert_eq!(
        header(&head, "content-length"),
        Some(bytes.len().to_string().as_str())
    );
    assert_eq!(header(&head, "etag"), Some(etag.as_str()));
}

#[tokio::test]
async fn thumbnail_renders_on_demand_when_only_the_original_exists() {
    let mut s = stack().await;
    let id = original(&mut s, JPEG).await;
    let resp = s.serve.handle(get(&format!("/images/{id}/128.jpg"))).await;
    assert_eq!(
        resp.status(),
        200,
        "{}",
        String::from_utf8_lossy(resp.body().as_ref())
    );
    let Body::Binary(bytes) = resp.body() else {
        panic!("expected a binary body")
    };
    assert_eq!(&bytes[..2], b"\xff\xd8");
    // Just that size is written, and the next GET is served from S3 with the same ETag.
    assert_eq!(drain(&mut s.created), [format!("thumbnails/{id}/128.jpg")]);
    let etag = header(&resp, "etag").unwrap().to_owned();
    let again = s.serve.handle(get(&format!("/images/{id}/128.jpg"))).await;
    assert_eq!(header(&again, "etag"), Some(etag.as_str()));
    assert_eq!(again.body().as_ref(), bytes.as_slice());
}

#[tokio::test]
async fn bad_size_unknown_id_and_invalid_id() {
    let mut s = stack().await;
    let id = original(&mut s, JPEG).await;
    let resp = s.serve.handle(get(&format!("/images/{id}/300.jpg"))).await;
    assert_eq!(resp.status(), 400);
    let message = json(&resp)["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("128, 256, 512"), "{message}");
    assert_eq!(json(&resp)["error"]["code"], "invalid_size");

    let unknown = ImageId::random();
    let resp = s
        .serve
        .handle(get(&format!("/images/{unknown}/256.jpg")))
        .await;
    assert_eq!(
        (resp.status().as_u16(), json(&resp)["error"]["code"].clone()),
        (404, "not_found".into())
    );
    let resp = s.serve.handle(get(&format!("/images/{unknown}"))).await;
    assert_eq!(resp.status(), 404);
    let resp = s.serve.handle(get("/images/not-an-id/256.jpg")).await;
    assert_eq!(
        (resp.status().as_u16(), json(&resp)["error"]["code"].clone()),
        (400, "invalid_id".into())
    );
}

#[tokio::test]
async fn status_goes_processing_then_ready_or_failed() {
    let mut s = stack().await;
    let id = original(&mut s, JPEG).await;
    let resp = s.serve.handle(get(&format!("/images/{id}"))).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(json(&resp)["status"], "processing");
    assert_eq!(json(&resp)["sizes"], serde_json::json!([]));

    let id = resized(&mut s, JPEG).await;
    let params = serde_json::json!({ "id": id.as_str() });
    let resp = s
        .serve
        .handle(event("GET", &format!("/images/{id}"), params, &[]))
        .await;
    assert_eq!(json(&resp)["status"], "ready", "{}", json(&resp));
    assert_eq!(json(&resp)["sizes"], serde_json::json!([128, 256, 512]));

    let bad = resized(&mut s, SVG).await;
    let resp = s.serve.handle(get(&format!("/images/{bad}"))).await;
    assert_eq!(json(&resp)["status"], "failed");
    assert!(
        json(&resp)["reason"]
            .as_str()
            .unwrap()
            .contains("not a supported image")
    );
}

/// `processing` is bounded: past the bound an original without manifest or error record says
/// `failed`/`stalled`; a late resize (a redrive) still makes it `ready`.
#[tokio::test]
async fn status_processing_is_bounded_then_says_stalled() {
    let mut s = stack().await;
    let serve = s
        .serve
        .clone()
        .with_processing_timeout(std::time::Duration::from_secs(3));
    let id = original(&mut s, JPEG).await;
    // Last-Modified has whole seconds, so an upload late in a second already looks up to 1 s
    // old: a 3 s bound leaves a loaded machine 2 s to ask (with 1 s, a debug build under load
    // sometimes saw `stalled` here).
    let resp = serve.handle(get(&format!("/images/{id}"))).await;
    assert_eq!(json(&resp)["status"], "processing", "{}", json(&resp));

    // And 4.2 s later it is past the bound whatever the rounding.
    tokio::time::sleep(std::time::Duration::from_millis(4200)).await;
    let resp = serve.handle(get(&format!("/images/{id}"))).await;
    assert_eq!(resp.status(), 200);
    let body = json(&resp);
    assert_eq!(body["status"], "failed", "{body}");
    assert_eq!(body["code"], "stalled");
    assert!(body["reason"].as_str().unwrap().contains("redrive"));
    assert_eq!(body["thumbnails"].as_object().map(|t| t.len()), Some(3));
    // The default bound (300 s) still says processing for the same object.
    let resp = s.serve.handle(get(&format!("/images/{id}"))).await;
    assert_eq!(json(&resp)["status"], "processing");

    // The redriven resize finishes: ready.
    let id = resized(&mut s, JPEG).await;
    let resp = serve.handle(get(&format!("/images/{id}"))).await;
    assert_eq!(json(&resp)["status"], "ready", "{}", json(&resp));
}

#[test]
fn processing_timeout_comes_from_the_environment() {
    use std::time::Duration;
    let env = |value: &'static str| move |_: &str| Some(value.to_owned());
    assert_eq!(
        Serve::processing_timeout_from(|_| None),
        Ok(thumbs_serve::DEFAULT_PROCESSING_TIMEOUT)
    );
    assert_eq!(
        Serve::processing_timeout_from(env(" 90 ")),
        Ok(Duration::from_secs(90))
    );
    for bad in ["0", "-5", "soon", ""] {
        let err = Serve::processing_timeout_from(env(bad)).unwrap_err();
        assert!(err.contains("PROCESSING_TIMEOUT_SECONDS"), "{err}");
    }
}

#[tokio::test]
async fn root_serves_the_upload_page() {
    let s = stack().await;
    let resp = s.serve.handle(get("/")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        String::from_utf8_lossy(resp.body().as_ref())
            .to_ascii_lowercase()
            .contains("<html")
    );
}

#[test]
fn one_config_holds_the_core_settings_and_the_processing_bound() {
    let config = thumbs_serve::ServeConfig::from_lookup(|name| match name {
        "THUMB_SIZES" => Some("128,256".to_owned()),
        "PROCESSING_TIMEOUT_SECONDS" => Some("7".to_owned()),
        _ => None,
    })
    .unwrap();
    assert_eq!(config.processing_timeout, std::time::Duration::from_secs(7));
    assert_eq!(config.core.sizes.len(), 2);
    let defaults = thumbs_serve::ServeConfig::from_lookup(|_| None).unwrap();
    assert_eq!(
        defaults.processing_timeout,
        thumbs_serve::DEFAULT_PROCESSING_TIMEOUT
    );
    let err = thumbs_serve::ServeConfig::from_lookup(|name| {
        (name == "PROCESSING_TIMEOUT_SECONDS").then(|| "0".to_owned())
    })
    .unwrap_err();
    assert!(err.contains("PROCESSING_TIMEOUT_SECONDS"), "{err}");
}

/// The Accept rows of the shared table (infra/accept-cases.json) for real browsers' `<img>`.
const CHROME: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
const SAFARI_14: &str = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";
const CURL: &str = "*/*";

fn serve_with_avif(s: &Stack, enabled: bool) -> Serve {
    let config = Config {
        avif_enabled: enabled,
        ..Config::default()
    };
    Serve::new(config, s.store.clone())
}

fn with_headers(path: &str, headers: &[(&str, &str)]) -> lambda_http::Request {
    event("GET", path, serde_json::Value::Null, headers)
}

fn body(resp: &Response<Body>) -> Vec<u8> {
    resp.body().as_ref().to_vec()
}

#[tokio::test]
async fn each_extension_is_its_format_with_its_own_etag() {
    let mut s = stack().await;
    let id = resized(&mut s, JPEG).await;
    let mut etags = Vec::new();
    for (ext, mime, magic) in [
        ("jpg", "image/jpeg", &b"\xff\xd8\xff"[..]),
        ("webp", "image/webp", &b"RIFF"[..]),
        ("avif", "image/avif", &b"\0\0\0"[..]),
    ] {
        // Browser Accept or not, the extension decides; no Vary on these URLs.
        let resp = s
            .serve
            .handle(with_headers(
                &format!("/images/{id}/256.{ext}"),
                &[("Accept", CHROME)],
            ))
            .await;
        assert_eq!(resp.status(), 200, "{ext}");
        assert_eq!(header(&resp, "content-type"), Some(mime));
        assert_eq!(header(&resp, "vary"), None, "{ext}");
        assert!(body(&resp).starts_with(magic), "{ext}");
        etags.push(header(&resp, "etag").unwrap().to_owned());
    }
    etags.sort();
    etags.dedup();
    assert_eq!(etags.len(), 3, "{etags:?}");
    // JPEG and WebP were made by the resize; the AVIF on its first request, then stored.
    let stored = s.store.list(&format!("thumbnails/{id}/")).await.unwrap();
    for ext in ["jpg", "webp", "avif"] {
        assert!(
            stored.contains(&format!("thumbnails/{id}/256.{ext}")),
            "{stored:?}"
        );
    }
    let manifest: serde_json::Value = s
        .store
        .get_json(&format!("thumbnails/{id}/manifest.json"))
        .await
        .unwrap()
        .unwrap();
    let formats: Vec<&str> = manifest["thumbnails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["jpeg", "webp", "jpeg", "webp", "jpeg", "webp"]);
}

#[tokio::test]
async fn negotiated_url_follows_accept_with_vary_and_per_format_etags() {
    let mut s = stack().await;
    let id = resized(&mut s, JPEG).await;
    let path = format!("/images/{id}/256");
    let off = serve_with_avif(&s, false);
    let on = serve_with_avif(&s, true);
    let cases: [(&Serve, Option<&str>, &str); 6] = [
        (&off, Some(CHROME), "image/webp"),
        (&on, Some(CHROME), "image/avif"),
        (&on, Some(SAFARI_14), "image/webp"),
        (&on, Some(CURL), "image/jpeg"),
        (&on, Some("image/*"), "image/jpeg"),
        (&on, Some(""), "image/jpeg"),
    ];
    let mut etag_of = std::collections::BTreeMap::new();
    for (serve, accept, mime) in cases {
        let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
        let resp = serve.handle(with_headers(&path, &headers)).await;
        assert_eq!(resp.status(), 200, "{accept:?}");
        assert_eq!(header(&resp, "content-type"), Some(mime), "{accept:?}");
        assert_eq!(header(&resp, "vary"), Some("Accept"), "{accept:?}");
        let etag = header(&resp, "etag").unwrap().to_owned();
        // The same bytes (and ETag) as the format's own URL.
        let ext = mime.strip_prefix("image/").unwrap().replace("jpeg", "jpg");
        let direct = serve.handle(get(&format!("/images/{id}/256.{ext}"))).await;
        assert_eq!(header(&direct, "etag"), Some(etag.as_str()));
        assert_eq!(body(&direct), body(&resp));
        etag_of.insert(mime, etag.clone());

        // 304 keeps Vary and the format's type.
        let mut cond: Vec<(&str, &str)> = headers.clone();
        cond.push(("If-None-Match", &etag));
        let not_modified = serve.handle(with_headers(&path, &cond)).await;
        assert_eq!(not_modified.status(), 304);
        assert_eq!(header(&not_modified, "vary"), Some("Accept"));
        assert_eq!(header(&not_modified, "content-type"), Some(mime));
    }
    assert_eq!(etag_of.len(), 3);
    let distinct: std::collections::BTreeSet<_> = etag_of.values().collect();
    assert_eq!(distinct.len(), 3, "{etag_of:?}");
}

#[tokio::test]
async fn the_cdn_format_header_decides_and_is_validated() {
    let mut s = stack().await;
    let id = resized(&mut s, JPEG).await;
    let path = format!("/images/{id}/128");
    let off = serve_with_avif(&s, false);
    let on = serve_with_avif(&s, true);
    // x-thumbs-format wins over Accept.
    let resp = on
        .handle(with_headers(
            &path,
            &[("x-thumbs-format", "jpeg"), ("Accept", CHROME)],
        ))
        .await;
    assert_eq!(header(&resp, "content-type"), Some("image/jpeg"));
    let resp = on
        .handle(with_headers(
            &path,
            &[("x-thumbs-format", "avif"), ("Accept", CURL)],
        ))
        .await;
    assert_eq!(header(&resp, "content-type"), Some("image/avif"));
    // AVIF only when enabled: WebP otherwise.
    let resp = off
        .handle(with_headers(&path, &[("x-thumbs-format", "avif")]))
        .await;
    assert_eq!(header(&resp, "content-type"), Some("image/webp"));
    for bad in ["png", "AVIF", "", "webp,avif"] {
        let resp = on
            .handle(with_headers(&path, &[("x-thumbs-format", bad)]))
            .await;
        assert_eq!(resp.status(), 400, "{bad:?}");
        assert_eq!(json(&resp)["error"]["code"], "invalid_format", "{bad:?}");
    }
    // Not thumbnail names: 400 naming the sizes.
    for bad in ["256.png", "256.jpeg", "256.", "0256", "256.webp.avif"] {
        let resp = on.handle(get(&format!("/images/{id}/{bad}"))).await;
        assert_eq!(resp.status(), 400, "{bad}");
        assert_eq!(json(&resp)["error"]["code"], "invalid_size", "{bad}");
    }
}

#[tokio::test]
async fn avif_render_of_a_deleted_image_leaves_nothing_and_status_lists_variants() {
    let mut s = stack().await;
    let id = resized(&mut s, JPEG).await;
    let status = json(&s.serve.handle(get(&format!("/images/{id}"))).await);
    assert_eq!(status["stored"]["512"], serde_json::json!(["jpeg", "webp"]));
    // The event's Host is the execute-api one: URLs carry the stage.
    assert_eq!(
        status["formats"]["512"]["negotiated"],
        format!("/prod/images/{id}/512")
    );
    assert_eq!(
        status["formats"]["512"]["avif"],
        format!("/prod/images/{id}/512.avif")
    );
    let resp = s.serve.handle(get(&format!("/images/{id}/512.avif"))).await;
    assert_eq!(resp.status(), 200);
    let status = json(&s.serve.handle(get(&format!("/images/{id}"))).await);
    assert_eq!(
        status["stored"]["512"],
        serde_json::json!(["jpeg", "webp", "avif"])
    );

    // A DELETE has written its tombstone but not yet removed anything: the original is still
    // there, yet no route serves the image and the AVIF render writes nothing.
    thumbs_store::lifecycle::mark_deleted(&s.store, &id)
        .await
        .unwrap();
    for file in ["256.avif", "256", "256.webp", "128.jpg"] {
        let resp = s.serve.handle(get(&format!("/images/{id}/{file}"))).await;
        assert_eq!(resp.status(), 404, "{file}");
        assert_eq!(json(&resp)["error"]["code"], "deleted", "{file}");
    }
    let left = s.store.list(&format!("thumbnails/{id}/")).await.unwrap();
    assert!(
        !left.contains(&format!("thumbnails/{id}/256.avif")),
        "{left:?}"
    );
    // The DELETE's removal takes every variant, the AVIF rendered before it included.
    thumbs_store::lifecycle::remove_content(&s.store, &id)
        .await
        .unwrap();
    drain(&mut s.created);
    assert_eq!(
        s.store.list(&format!("thumbnails/{id}/")).await.unwrap(),
        Vec::<String>::new()
    );
}
