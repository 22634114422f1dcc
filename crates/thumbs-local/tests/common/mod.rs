//! What the integration tests share: a curl-like HTTP/1.1 client over a plain `TcpStream` (no
//! second HTTP stack in the tree) and small helpers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use thumbs_local::s3_events::RetryPolicy;
use thumbs_local::stack::{RunningStack, StackOptions, start};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A response as the client saw it on the wire.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.text()))
    }
}

/// Sends one request (`Connection: close`) to an `http://host:port/...` URL, like curl would.
pub async fn send(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let rest = url.strip_prefix("http://").expect("http:// URL");
    let (authority, target) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let mut stream = TcpStream::connect(authority).await.expect("connect");
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    let has = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    if !has("user-agent") {
        head.push_str("User-Agent: curl/8.5.0\r\n");
    }
    if !has("accept") {
        head.push_str("Accept: */*\r\n");
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    // A server may answer (413) before reading everything; keep going and read the reply anyway.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut raw))
        .await
        .expect("response within 60 s")
        .expect("read response");
    parse(&raw, method == "HEAD")
}

fn parse(raw: &[u8], head_only: bool) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("complete response head");
    let head = std::str::from_utf8(&raw[..split]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if head_only {
        Vec::new()
    } else if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size = usize::from_str_radix(
            std::str::from_utf8(&data[..line_end])
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .expect("hex chunk size");
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

pub const BROWSER_IMG_ACCEPT: &str =
    "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
pub const BROWSER_PAGE_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// The repository's `template.yaml`.
pub fn repo_template() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml")
}

/// The bytes of a thumbs-core test fixture.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../thumbs-core/tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Stack options for a test: ephemeral ports and short resize retry delays.
pub fn options(data_dir: &Path, template: PathBuf) -> StackOptions {
    let mut options = StackOptions::new(data_dir, template);
    options.port = 0;
    options.s3_port = 0;
    options.retry = RetryPolicy {
        delays: vec![Duration::from_millis(50), Duration::from_millis(100)],
    };
    options
}

/// Starts the stack with the repository's template on ephemeral ports.
pub async fn stack(data_dir: &Path) -> RunningStack {
    start(options(data_dir, repo_template()))
        .await
        .expect("stack starts")
}

/// `POST /images` with the stack's API key (and `Content-Type` unless `content_type` is empty).
pub async fn post_image(stack: &RunningStack, content_type: &str, body: &[u8]) -> Reply {
    let mut headers = vec![("x-api-key", stack.api_key.as_str())];
    if !content_type.is_empty() {
        headers.push(("Content-Type", content_type));
    }
    send("POST", &format!("{}/images", stack.api_url), &headers, body).await
}

/// Every object key in the embedded S3's data folder (s3s-fs keeps one file per key). The
/// folder must exist: a stack that never created it would make "nothing stored" pass unseen.
pub fn object_keys(data_dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let root = data_dir.join("s3");
    assert!(root.is_dir(), "no S3 data folder at {}", root.display());
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

/// The keys of stored originals (`originals/{id}`).
pub fn originals(data_dir: &Path) -> Vec<String> {
    object_keys(data_dir)
        .into_iter()
        .filter(|key| key.contains("originals/"))
        .collect()
}
