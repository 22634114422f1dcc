//! A loopback proxy in front of the embedded S3 server that fails chosen requests — the least
//! invasive way to fault a concrete `Store` (the real aws-sdk-s3 client, no trait, no mock).
//!
//! Each client connection carries exactly one request: the proxy adds `Connection: close` to
//! the request head (not a SigV4-signed header, so signatures still verify) and then pipes
//! bytes both ways unchanged. A request the current [`Fault`] matches is answered `503 SlowDown`
//! with S3's XML error body instead; the SDK retries it (standard mode) and then gives up.
//!
//! Shared by thumbs-local, thumbs-upload and thumbs-resize fault tests (`#[path]` include).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Which requests fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Everything passes through.
    None,
    /// S3 is down: every request gets 503.
    All,
    /// Requests whose `METHOD target` line contains this text get 503 (e.g. `"PUT "` +
    /// a key fragment like `"/256.jpg"`).
    Matching {
        method: String,
        path_contains: String,
    },
    /// Every request waits this long before it is forwarded (a slow S3).
    Delay(Duration),
}

/// The running proxy; dropping it stops accepting connections.
pub struct FaultProxy {
    addr: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    failed: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on 127.0.0.1 (any port) and forwards to `upstream` (`http://127.0.0.1:port`).
    pub async fn start(upstream: &str) -> FaultProxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("upstream http://ip:port");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().unwrap();
        let fault = Arc::new(Mutex::new(Fault::None));
        let failed = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let (fault, failed, requests) = (fault.clone(), failed.clone(), requests.clone());
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let (fault, failed, requests) =
                        (fault.clone(), failed.clone(), requests.clone());
                    tokio::spawn(async move {
                        let _ = serve(client, upstream, fault, failed, requests).await;
                    });
                }
            }
        });
        FaultProxy {
            addr,
            fault,
            failed,
            requests,
            task,
        }
    }

    /// `http://127.0.0.1:<port>`: use it as the store's endpoint URL.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
    }

    /// How many requests were answered 503 so far.
    pub fn failed(&self) -> usize {
        self.failed.load(Ordering::SeqCst)
    }

    /// Every request line seen (`PUT /bucket/key?x-id=PutObject`), in arrival order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut client: TcpStream,
    upstream: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    failed: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > 64 * 1024 {
            return Ok(());
        }
        let mut chunk = [0u8; 4096];
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let request_line = head.lines().next().unwrap_or_default().to_owned();
    requests.lock().unwrap().push(request_line.clone());
    let current = fault.lock().unwrap().clone();
    let fail = match &current {
        Fault::None | Fault::Delay(_) => false,
        Fault::All => true,
        Fault::Matching {
            method,
            path_contains,
        } => {
            request_line.starts_with(&format!("{method} ")) && request_line.contains(path_contains)
        }
    };
    if let Fault::Delay(delay) = current {
        tokio::time::sleep(delay).await;
    }
    if fail {
        failed.fetch_add(1, Ordering::SeqCst);
        // Read the body the client is sending so it sees the reply, not a reset.
        let length = head
            .lines()
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let mut have = buf.len() - head_end;
        let mut chunk = [0u8; 16 * 1024];
        while have < length {
            let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut chunk))
                .await
                .unwrap_or(Ok(0))?;
            if n == 0 {
                break;
            }
            have += n;
        }
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>\
                    <Message>injected by the test's fault proxy</Message></Error>";
        let reply = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        client.write_all(reply.as_bytes()).await?;
        client.shutdown().await?;
        return Ok(());
    }
    let mut server = TcpStream::connect(upstream).await?;
    let mut new_head = String::with_capacity(head.len() + 20);
    for (i, line) in head.trim_end_matches("\r\n").split("\r\n").enumerate() {
        if i > 0 && line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        new_head.push_str(line);
        new_head.push_str("\r\n");
    }
    new_head.push_str("Connection: close\r\n\r\n");
    server.write_all(new_head.as_bytes()).await?;
    server.write_all(&buf[head_end..]).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}
