//! The REST API (v1) Lambda proxy event, built as API Gateway builds it.
//!
//! Shape: AWS docs, "Input format of a Lambda function for proxy integration" (REST APIs), and
//! `sam local generate-event apigateway aws-proxy`. Points that matter:
//! - `headers` holds the LAST value of a repeated header, `multiValueHeaders` all of them;
//!   `queryStringParameters` likewise; both are `null` when empty, as are `pathParameters` and
//!   `stageVariables`.
//! - Body (platform rule 1): when `Content-Type` matches `binaryMediaTypes`, base64 with
//!   `isBase64Encoded: true`. Otherwise API Gateway passes the body as text, and a text payload is
//!   "a UTF-8-encoded JSON string" (AWS docs), so bytes that are not UTF-8 cannot survive: they
//!   are replaced (U+FFFD) here, and the gateway logs it. A request without `Content-Type` is
//!   treated as `application/json`, API Gateway's default for REST APIs.
//! - `path` is the resource path without the stage; `requestContext.path` includes it.
//! - Header names keep the client's casing (`User-Agent` stays `User-Agent`), as recorded against
//!   AWS in localstack/localstack's AWS-validated test
//!   `test_lambda_aws_proxy_integration_request_data_mapping`
//!   (tests/aws/services/apigateway/test_apigateway_lambda.py); API Gateway adds
//!   `X-Amzn-Trace-Id` (https://docs.aws.amazon.com/xray/latest/devguide/xray-services-apigateway.html).

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::HeaderMap;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::binary::BinaryMediaTypes;

/// API Gateway's default content type when a REST API request has none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// The parts of an HTTP request the event is made from.
#[derive(Debug, Clone)]
pub struct IncomingRequest<'a> {
    pub method: &'a str,
    /// Path without the stage, still percent-encoded as the client sent it.
    pub path: &'a str,
    /// Raw query string (without `?`), if any.
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    /// How the client spelled the header names (hyper lowercases them).
    pub header_case: &'a HeaderCase,
    /// `Root=...`, added to the event's headers as `X-Amzn-Trace-Id` when the client sent none.
    pub trace_id: Option<&'a str>,
    pub body: &'a [u8],
    pub source_ip: IpAddr,
}

/// Header names as the client wrote them, from the raw request head: lowercase → as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderCase(HashMap<String, String>);

impl HeaderCase {
    /// From the bytes of a request head (request line, header lines, blank line). Lines that are
    /// not `name: value` are skipped; the first spelling of a name wins.
    pub fn from_head(head: &[u8]) -> HeaderCase {
        let mut names = HashMap::new();
        for line in head.split(|&b| b == b'\n').skip(1) {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let Ok(name) = std::str::from_utf8(&line[..colon]) else {
                continue;
            };
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
                continue;
            }
            names
                .entry(name.to_ascii_lowercase())
                .or_insert_with(|| name.to_owned());
        }
        HeaderCase(names)
    }

    /// The client's spelling of a (lowercase) header name; the name itself if unknown.
    pub fn name<'a>(&'a self, lowercase: &'a str) -> &'a str {
        self.0.get(lowercase).map_or(lowercase, String::as_str)
    }
}

/// Where the request landed.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub resource: &'a str,
    pub path_parameters: &'a BTreeMap<String, String>,
    pub stage: &'a str,
    pub api_id: &'a str,
    pub request_id: &'a str,
    /// The key the client sent, when the route requires one (`requestContext.identity.apiKey`).
    pub api_key: Option<&'a str>,
}

/// How the body went into the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    Empty,
    Base64,
    Text,
    /// Text, but the bytes were not UTF-8 and invalid sequences were replaced.
    TextLossy,
}

/// Builds the event JSON. Returns it with how the body was encoded (for the access log).
pub fn build(
    request: &IncomingRequest<'_>,
    target: &Target<'_>,
    binary: &BinaryMediaTypes,
) -> (Value, BodyEncoding) {
    let mut headers = Map::new();
    let mut multi_headers: Map<String, Value> = Map::new();
    for (name, value) in request.headers {
        let name = request.header_case.name(name.as_str());
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(name.to_owned(), Value::String(value.clone()));
        let entry = multi_headers
            .entry(name.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = entry {
            values.push(Value::String(value));
        }
    }
    if let Some(trace) = request.trace_id
        && !request.headers.contains_key("x-amzn-trace-id")
    {
        headers.insert(
            "X-Amzn-Trace-Id".to_owned(),
            Value::String(trace.to_owned()),
        );
        multi_headers.insert("X-Amzn-Trace-Id".to_owned(), json!([trace]));
    }

    let mut query = Map::new();
    let mut multi_query: Map<String, Value> = Map::new();
    for pair in request
        .query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (decode(name), decode(value));
        query.insert(name.clone(), Value::String(value.clone()));
        let entry = multi_query
            .entry(name)
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = entry {
            values.push(Value::String(value));
        }
    }

    let content_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(DEFAULT_CONTENT_TYPE);
    let (body, encoding) = if request.body.is_empty() {
        (Value::Null, BodyEncoding::Empty)
    } else if binary.matches(content_type) {
        (
            Value::String(BASE64.encode(request.body)),
            BodyEncoding::Base64,
        )
    } else {
        match std::str::from_utf8(request.body) {
            Ok(text) => (Value::String(text.to_owned()), BodyEncoding::Text),
            Err(_) => (
                Value::String(String::from_utf8_lossy(request.body).into_owned()),
                BodyEncoding::TextLossy,
            ),
        }
    };

    let path = decode(request.path);
    let now = time::OffsetDateTime::now_utc();
    // e.g. 09/Apr/2015:12:34:56 +0000
    let month = now.month().to_string();
    let request_time = format!(
        "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
        now.day(),
        &month[..3],
        now.year(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let or_null = |map: Map<String, Value>| {
        if map.is_empty() {
            Value::Null
        } else {
            Value::Object(map)
        }
    };
    let path_parameters: Map<String, Value> = target
        .path_parameters
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let host = request
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let user_agent = request
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|h| h.to_str().ok());

    let event = json!({
        "resource": target.resource,
        "path": path,
        "httpMethod": request.method,
        "headers": or_null(headers),
        "multiValueHeaders": or_null(multi_headers),
        "queryStringParameters": or_null(query),
        "multiValueQueryStringParameters": or_null(multi_query),
        "pathParameters": or_null(path_parameters),
        "stageVariables": Value::Null,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": target.resource,
            "httpMethod": request.method,
            "extendedRequestId": target.request_id,
            "requestTime": request_time,
            "path": format!("/{}{}", target.stage, path),
            "accountId": crate::template::LOCAL_ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": target.stage,
            "domainPrefix": host.split('.').next().unwrap_or(host),
            "requestTimeEpoch": now.unix_timestamp() * 1000 + i64::from(now.millisecond()),
            "requestId": target.request_id,
            "identity": {
                "cognitoIdentityPoolId": null,
                "accountId": null,
                "cognitoIdentityId": null,
                "caller": null,
                "sourceIp": request.source_ip.to_string(),
                "principalOrgId": null,
                "accessKey": null,
                "cognitoAuthenticationType": null,
                "cognitoAuthenticationProvider": null,
                "userArn": null,
                "userAgent": user_agent,
                "user": null,
                "apiKey": target.api_key,
                "apiKeyId": target.api_key.map(|_| "local-api-key"),
            },
            "domainName": host,
            "apiId": target.api_id,
        },
        "body": body,
        "isBase64Encoded": encoding == BodyEncoding::Base64,
    });
    (event, encoding)
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use http::HeaderValue;

    use super::*;

    fn event(content_type: Option<&str>, body: &[u8], binary: &[&str]) -> (Value, BodyEncoding) {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:3000"));
        if let Some(ct) = content_type {
            headers.insert("content-type", HeaderValue::from_str(ct).unwrap());
        }
        headers.append("x-multi", HeaderValue::from_static("a"));
        headers.append("x-multi", HeaderValue::from_static("b"));
        let params = BTreeMap::from([("id".to_owned(), "abc".to_owned())]);
        let case = HeaderCase::from_head(b"POST / HTTP/1.1\r\nX-Multi: a\r\n\r\n");
        let request = IncomingRequest {
            method: "POST",
            path: "/images/abc",
            query: Some("a=1&a=2&b=x%20y"),
            headers: &headers,
            header_case: &case,
            trace_id: Some("Root=1-00000000-000000000000000000000000"),
            body,
            source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        let target = Target {
            resource: "/images/{id}",
            path_parameters: &params,
            stage: "Prod",
            api_id: "local",
            request_id: "req-1",
            api_key: None,
        };
        build(&request, &target, &BinaryMediaTypes::from_template(binary))
    }

    #[test]
    fn binary_content_type_is_base64() {
        let (json, encoding) = event(Some("image/jpeg"), &[0xFF, 0xD8, 0xFF], &["image~1*"]);
        assert_eq!(encoding, BodyEncoding::Base64);
        assert_eq!(json["body"], "/9j/");
        assert_eq!(json["isBase64Encoded"], true);
    }

    #[test]
    fn text_body_passes_as_is_and_invalid_utf8_is_replaced() {
        let (json, encoding) = event(Some("text/plain"), b"hello", &["image~1*"]);
        assert_eq!(encoding, BodyEncoding::Text);
        assert_eq!(json["body"], "hello");
        assert_eq!(json["isBase64Encoded"], false);
        let (json, encoding) = event(Some("text/plain"), &[b'a', 0xFF], &["image~1*"]);
        assert_eq!(encoding, BodyEncoding::TextLossy);
        assert_eq!(json["body"], "a\u{FFFD}");
    }

    #[test]
    fn event_deserialises_with_lambda_http() {
        let (json, _) = event(None, b"{}", &[]);
        assert_eq!(json["headers"]["X-Multi"], "b");
        assert_eq!(json["multiValueHeaders"]["X-Multi"], json!(["a", "b"]));
        assert_eq!(json["headers"]["host"], "127.0.0.1:3000");
        assert_eq!(
            json["headers"]["X-Amzn-Trace-Id"],
            "Root=1-00000000-000000000000000000000000"
        );
        assert_eq!(json["queryStringParameters"]["b"], "x y");
        assert_eq!(
            json["multiValueQueryStringParameters"]["a"],
            json!(["1", "2"])
        );
        let request: lambda_http::request::LambdaRequest = serde_json::from_value(json).unwrap();
        let request: lambda_http::Request = request.into();
        use lambda_http::RequestExt;
        assert_eq!(request.path_parameters().first("id"), Some("abc"));
        assert_eq!(request.method(), "POST");
    }
}
