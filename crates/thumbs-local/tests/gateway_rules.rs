//! The API Gateway emulator against test functions (no S3, no thumbs handlers): every platform
//! rule and limit it implements, seen from the client side over real HTTP.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{BROWSER_IMG_ACCEPT, BROWSER_PAGE_ACCEPT, send};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use thumbs_local::functions::{FunctionError, HttpFunction, JsonFn, LambdaHttpFunction};
use thumbs_local::gateway::{FunctionEntry, Gateway};
use thumbs_local::template::Template;
use tokio::sync::watch;

const KEY: &str = "test-key-123";
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0xFF, 0xD9,
];

struct Running {
    url: String,
    _stop: watch::Sender<bool>,
}

fn template(name: &str) -> Template {
    Template::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/templates")
            .join(name),
    )
    .unwrap()
}

fn entry(function: Arc<dyn HttpFunction>) -> FunctionEntry {
    FunctionEntry {
        function,
        timeout: None,
    }
}

/// A lambda_http handler returning a JPEG, as thumbs-serve does.
fn jpeg_function() -> Arc<dyn HttpFunction> {
    LambdaHttpFunction::new(|_request: Request| async move {
        // Content-Length of the binary, as thumbs-serve sets it: must not survive when the client
        // gets the (longer) base64 text.
        Response::builder()
            .header("content-type", "image/jpeg")
            .header("content-length", JPEG.len().to_string())
            .body(Body::from(JPEG.to_vec()))
            .unwrap()
    })
}

/// Answers with what it received (the event, as JSON).
fn echo_function() -> Arc<dyn HttpFunction> {
    Arc::new(JsonFn(|event: Value| async move {
        Ok(json!({
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": event.to_string(),
            "isBase64Encoded": false,
        }))
    }))
}

async fn start(
    template_name: &str,
    timeout: Duration,
    mut functions: HashMap<String, FunctionEntry>,
) -> Running {
    let template = template(template_name);
    functions
        .entry("Echo".into())
        .or_insert_with(|| entry(echo_function()));
    functions
        .entry("Jpeg".into())
        .or_insert_with(|| entry(jpeg_function()));
    let gateway =
        Gateway::new(&template, functions, Some(KEY.to_owned())).with_integration_timeout(timeout);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stop_rx) = watch::channel(false);
    tokio::spawn(Arc::new(gateway).serve(listener, stop_rx));
    Running { url, _stop: stop }
}

async fn start_default() -> Running {
    start("gateway.yaml", Duration::from_secs(29), HashMap::new()).await
}

#[tokio::test]
async fn binary_request_body_reaches_the_function_base64_encoded() {
    let api = start_default().await;
    let reply = send(
        "POST",
        &format!("{}/echo", api.url),
        &[("Content-Type", "image/jpeg")],
        JPEG,
    )
    .await;
    assert_eq!(reply.status, 200);
    let event: Value = serde_json::from_str(&reply.json().to_string()).unwrap();
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(
        BASE64.decode(event["body"].as_str().unwrap()).unwrap(),
        JPEG
    );
    assert_eq!(event["resource"], "/echo");
    assert_eq!(event["requestContext"]["stage"], "Prod");
    assert_eq!(event["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
    assert!(event["requestContext"]["requestId"].as_str().unwrap().len() == 36);
}

#[tokio::test]
async fn path_parameters_and_query_reach_the_function() {
    let api = start_default().await;
    let reply = send(
        "GET",
        &format!("{}/echo/abc/256.jpg?a=1&a=2", api.url),
        &[],
        b"",
    )
    .await;
    let event = reply.json();
    assert_eq!(event["resource"], "/echo/{id}/{file}");
    assert_eq!(
        event["pathParameters"],
        json!({"id": "abc", "file": "256.jpg"})
    );
    assert_eq!(
        event["multiValueQueryStringParameters"]["a"],
        json!(["1", "2"])
    );
    assert_eq!(event["queryStringParameters"]["a"], "2");
    let reply = send("DELETE", &format!("{}/files/a/b/c", api.url), &[], b"").await;
    assert_eq!(reply.json()["pathParameters"]["proxy"], "a/b/c");
}

#[tokio::test]
async fn stage_prefix_is_served_too() {
    let api = start_default().await;
    let reply = send("GET", &format!("{}/Prod/echo/a/b", api.url), &[], b"").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["path"], "/echo/a/b");
}

#[tokio::test]
async fn curl_accept_star_gets_jpeg_bytes() {
    let api = start_default().await;
    let reply = send(
        "GET",
        &format!("{}/jpeg", api.url),
        &[("Accept", "*/*")],
        b"",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, JPEG);
    assert_eq!(reply.header("content-type"), Some("image/jpeg"));
}

#[tokio::test]
async fn browser_img_accept_gets_jpeg_bytes_with_star_star_binary_type() {
    let api = start_default().await;
    let reply = send(
        "GET",
        &format!("{}/jpeg", api.url),
        &[("Accept", BROWSER_IMG_ACCEPT)],
        b"",
    )
    .await;
    assert_eq!(reply.body, JPEG);
}

#[tokio::test]
async fn accept_text_html_gets_base64_text_like_aws() {
    let api = start("jpeg-only.yaml", Duration::from_secs(29), HashMap::new()).await;
    let url = format!("{}/jpeg", api.url);
    for accept in [BROWSER_PAGE_ACCEPT, BROWSER_IMG_ACCEPT, "*/*"] {
        let reply = send("GET", &url, &[("Accept", accept)], b"").await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.text(),
            BASE64.encode(JPEG),
            "Accept {accept}: base64 text, as AWS sends it"
        );
    }
    let reply = send("GET", &url, &[("Accept", "image/jpeg")], b"").await;
    assert_eq!(
        reply.body, JPEG,
        "first Accept type image/jpeg matches the entry"
    );
}

#[tokio::test]
async fn unknown_path_is_403_missing_authentication_token() {
    let api = start_default().await;
    for (method, path) in [("GET", "/nope"), ("PUT", "/echo"), ("GET", "/echo")] {
        let reply = send(method, &format!("{}{path}", api.url), &[], b"").await;
        assert_eq!(reply.status, 403, "{method} {path}");
        assert_eq!(
            reply.json(),
            json!({"message": "Missing Authentication Token"})
        );
        assert_eq!(
            reply.header("x-amzn-ErrorType"),
            Some("MissingAuthenticationTokenException")
        );
    }
}

#[tokio::test]
async fn api_key_required_route_needs_the_right_key() {
    let api = start_default().await;
    let url = format!("{}/writes", api.url);
    let reply = send("POST", &url, &[], b"{}").await;
    assert_eq!(
        (reply.status, reply.json()),
        (403, json!({"message": "Forbidden"}))
    );
    let reply = send("POST", &url, &[("x-api-key", "wrong")], b"{}").await;
    assert_eq!(reply.status, 403);
    let reply = send("POST", &url, &[("x-api-key", KEY)], b"{}").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["requestContext"]["identity"]["apiKey"], KEY);
}

#[tokio::test]
async fn cors_preflight_is_answered_by_the_gateway() {
    let api = start_default().await;
    let reply = send(
        "OPTIONS",
        &format!("{}/writes", api.url),
        &[
            ("Origin", "https://example.com"),
            ("Access-Control-Request-Method", "POST"),
        ],
        b"",
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://example.com")
    );
    assert_eq!(
        reply.header("access-control-allow-methods"),
        Some("POST,OPTIONS")
    );
    assert_eq!(
        reply.header("access-control-allow-headers"),
        Some("Content-Type,X-Api-Key")
    );
    assert_eq!(reply.header("access-control-max-age"), Some("600"));
}

#[tokio::test]
async fn body_over_10_mb_is_413_with_the_template_gateway_response() {
    let api = start_default().await;
    let body = vec![b'a'; 10 * 1024 * 1024 + 1];
    let reply = send(
        "POST",
        &format!("{}/echo", api.url),
        &[("Content-Type", "text/plain")],
        &body,
    )
    .await;
    assert_eq!(reply.status, 413);
    assert_eq!(
        reply.json(),
        json!({"error": {"code": "too_large", "message": "Request Too Long"}})
    );
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://example.com")
    );
}

#[tokio::test]
async fn event_over_the_6_mb_lambda_limit_is_413() {
    let api = start_default().await;
    // 5 MB of binary is ~6.7 MB of base64 in the event.
    let body = vec![0u8; 5 * 1024 * 1024];
    let reply = send(
        "POST",
        &format!("{}/echo", api.url),
        &[("Content-Type", "application/octet-stream")],
        &body,
    )
    .await;
    assert_eq!(reply.status, 413);
}

#[tokio::test]
async fn response_over_6_mb_is_502_internal_server_error() {
    let big: Arc<dyn HttpFunction> = Arc::new(JsonFn(|_event: Value| async move {
        Ok(json!({"statusCode": 200, "body": "x".repeat(7 * 1024 * 1024)}))
    }));
    let api = start(
        "gateway.yaml",
        Duration::from_secs(29),
        HashMap::from([("Broken".to_owned(), entry(big))]),
    )
    .await;
    let reply = send("GET", &format!("{}/broken", api.url), &[], b"").await;
    assert_eq!(
        (reply.status, reply.json()),
        (502, json!({"message": "Internal server error"}))
    );
}

#[tokio::test]
async fn function_error_and_malformed_response_are_502() {
    let failing: Arc<dyn HttpFunction> = Arc::new(JsonFn(|_event: Value| async move {
        Err(FunctionError::new("Boom", "it broke"))
    }));
    let api = start(
        "gateway.yaml",
        Duration::from_secs(29),
        HashMap::from([("Broken".to_owned(), entry(failing))]),
    )
    .await;
    let reply = send("GET", &format!("{}/broken", api.url), &[], b"").await;
    assert_eq!(
        (reply.status, reply.json()),
        (502, json!({"message": "Internal server error"}))
    );

    let malformed: Arc<dyn HttpFunction> =
        Arc::new(JsonFn(
            |_event: Value| async move { Ok(json!({"hello": 1})) },
        ));
    let api = start(
        "gateway.yaml",
        Duration::from_secs(29),
        HashMap::from([("Broken".to_owned(), entry(malformed))]),
    )
    .await;
    let reply = send("GET", &format!("{}/broken", api.url), &[], b"").await;
    assert_eq!(reply.status, 502);
}

#[tokio::test]
async fn slow_function_is_504_endpoint_request_timed_out() {
    let slow: Arc<dyn HttpFunction> = Arc::new(JsonFn(|_event: Value| async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(json!({"statusCode": 200}))
    }));
    let api = start(
        "gateway.yaml",
        Duration::from_millis(200),
        HashMap::from([("Slow".to_owned(), entry(slow))]),
    )
    .await;
    let reply = send("GET", &format!("{}/slow", api.url), &[], b"").await;
    assert_eq!(
        (reply.status, reply.json()),
        (504, json!({"message": "Endpoint request timed out"}))
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_json_default_content_type() {
    let bare: Arc<dyn HttpFunction> = Arc::new(JsonFn(|_event: Value| async move {
        Ok(json!({"statusCode": 204, "body": null}))
    }));
    let api = start(
        "gateway.yaml",
        Duration::from_secs(29),
        HashMap::from([("Broken".to_owned(), entry(bare))]),
    )
    .await;
    let reply = send("GET", &format!("{}/broken", api.url), &[], b"").await;
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("x-amzn-RequestId").map(str::len), Some(36));
    let reply = send("GET", &format!("{}/nope", api.url), &[], b"").await;
    assert!(reply.header("x-amzn-RequestId").is_some());
}
