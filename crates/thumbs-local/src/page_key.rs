//! The upload page with the API key filled in, for the person at this machine only.
//!
//! On AWS the page asks for the key (it is a secret the deployer hands out). Locally the key is
//! in the data folder anyway, so `thumbs-local` adds it to the page as
//! `<meta name="thumbs-api-key" content="...">`, which the page's script uses when no key is
//! saved in the browser. Only when both hold:
//! - the request came from a loopback address (the gateway binds 127.0.0.1, so always today);
//! - its `Host` is a loopback name (`127.0.0.1`, `localhost`, `[::1]`, with any port), so a page
//!   on another site that rebinds its DNS name to 127.0.0.1 gets the page without the key.
//!
//! `--no-page-key` turns it off (the page then behaves as on AWS).

use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value;

use crate::functions::{BoxFuture, FunctionError, HttpFunction};
use crate::handlers::Kind;
use crate::template::FunctionDef;

/// The `<meta>` name the page's script reads.
pub const META_NAME: &str = "thumbs-api-key";

/// `handler` with the key added to the page it serves, if `function` is the serve function;
/// else `handler` unchanged.
pub fn fill_in(
    function: &FunctionDef,
    handler: Arc<dyn HttpFunction>,
    api_key: &str,
) -> Arc<dyn HttpFunction> {
    if Kind::of(function) != Some(Kind::Serve) {
        return handler;
    }
    Arc::new(WithPageKey {
        inner: handler,
        meta: format!(
            "<meta name=\"{META_NAME}\" content=\"{}\">",
            escape_attribute(api_key)
        ),
    })
}

struct WithPageKey {
    inner: Arc<dyn HttpFunction>,
    meta: String,
}

impl HttpFunction for WithPageKey {
    fn invoke(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin(async move {
            let for_this_machine = is_page_request(&event) && from_this_machine(&event);
            let mut response = self.inner.invoke(event).await?;
            if for_this_machine {
                add_meta(&mut response, &self.meta);
            }
            Ok(response)
        })
    }
}

fn is_page_request(event: &Value) -> bool {
    event["httpMethod"] == "GET" && event["resource"] == "/"
}

fn from_this_machine(event: &Value) -> bool {
    let source_loopback = event["requestContext"]["identity"]["sourceIp"]
        .as_str()
        .and_then(|ip| ip.parse::<IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback());
    let host = header(event, "headers", "host").unwrap_or_default();
    source_loopback && is_loopback_host(host)
}

/// `127.0.0.1:3000`, `localhost`, `[::1]:3000` → true; anything else false.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, _port)| name)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|ip: IpAddr| ip.is_loopback())
}

/// A header of the event or response (`headers`, or the first of `multiValueHeaders`), by name
/// in any case.
fn header<'a>(value: &'a Value, field: &str, name: &str) -> Option<&'a str> {
    let single = value[field].as_object().and_then(|headers| {
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    });
    single.or_else(|| {
        value["multiValueHeaders"].as_object().and_then(|headers| {
            headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| v.get(0))
                .and_then(Value::as_str)
        })
    })
}

/// Inserts `meta` right after `<head>` of a 200 text/html response that is not base64.
fn add_meta(response: &mut Value, meta: &str) {
    let html = response["statusCode"] == 200
        && response["isBase64Encoded"] != true
        && header(response, "headers", "content-type")
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("text/html"));
    if !html {
        return;
    }
    let Some(body) = response["body"].as_str() else {
        return;
    };
    let Some(at) = body.find("<head>").map(|i| i + "<head>".len()) else {
        return;
    };
    let mut with_meta = String::with_capacity(body.len() + meta.len() + 1);
    with_meta.push_str(&body[..at]);
    with_meta.push('\n');
    with_meta.push_str(meta);
    with_meta.push_str(&body[at..]);
    response["body"] = Value::String(with_meta);
}

fn escape_attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1:3000",
            "127.0.0.1",
            "localhost:1",
            "LOCALHOST",
            "[::1]:3000",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "example.com",
            "example.com:3000",
            "10.0.0.1:3000",
            "127.0.0.1.example.com",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn meta_goes_into_html_pages_only() {
        let mut page = serde_json::json!({
            "statusCode": 200, "isBase64Encoded": false,
            "headers": {"content-type": "text/html; charset=utf-8"},
            "body": "<html><head><title>t</title></head></html>",
        });
        add_meta(&mut page, "<meta name=\"k\">");
        assert_eq!(
            page["body"],
            "<html><head>\n<meta name=\"k\"><title>t</title></head></html>"
        );
        let mut json = serde_json::json!({
            "statusCode": 200, "isBase64Encoded": false,
            "multiValueHeaders": {"Content-Type": ["application/json"]},
            "body": "{\"<head>\": 1}",
        });
        add_meta(&mut json, "<meta>");
        assert_eq!(json["body"], "{\"<head>\": 1}");
    }

    #[test]
    fn key_is_escaped() {
        assert_eq!(escape_attribute("a\"b<c>&'"), "a&quot;b&lt;c&gt;&amp;&#39;");
    }
}
