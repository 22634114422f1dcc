//! The client connection under hyper, seen byte by byte for two things hyper does not offer:
//!
//! - **Header-name casing.** hyper lowercases names (and keeps the original casing only in a
//!   private extension), but API Gateway hands the function the names as the client wrote them.
//!   The bytes of each request head are kept until the pipeline takes them ([`HeadCapture`]).
//! - **hyper's own error answers.** A head hyper cannot parse (malformed, over its buffer, more
//!   than 100 fields, a URI over 64 KiB) is answered by hyper itself, before any service runs,
//!   with an empty body. Those answers are rewritten into the JSON error shape of the contract.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::front_end;
use crate::proxy_event::HeaderCase;

/// More than any head the pipeline accepts (10,240 bytes); past it the casing is not needed.
const MAX_CAPTURE: usize = 16 * 1024;

#[derive(Debug, Default)]
struct Capture {
    /// Collecting the bytes of a request head (until its blank line).
    recording: bool,
    head: Vec<u8>,
    /// The pipeline took the current head: the next response is a service's, not hyper's own.
    served: bool,
}

/// The pipeline's handle on the capture of its connection.
#[derive(Debug, Clone)]
pub(super) struct HeadCapture(Arc<Mutex<Capture>>);

impl HeadCapture {
    /// The header-name casing of the request being handled, and re-arms the capture for the next
    /// request on the connection. Call it once the body has been read.
    pub(super) fn take(&self) -> HeaderCase {
        let mut capture = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let case = HeaderCase::from_head(&capture.head);
        capture.head.clear();
        capture.recording = true;
        capture.served = true;
        case
    }
}

/// A TCP stream with the capture and the rewrite of hyper's error answers.
pub(super) struct Connection {
    stream: TcpStream,
    capture: HeadCapture,
    /// A rewritten answer still to be written.
    pending: Vec<u8>,
}

impl Connection {
    pub(super) fn new(stream: TcpStream) -> (Connection, HeadCapture) {
        let capture = HeadCapture(Arc::new(Mutex::new(Capture {
            recording: true,
            ..Capture::default()
        })));
        let connection = Connection {
            stream,
            capture: capture.clone(),
            pending: Vec::new(),
        };
        (connection, capture)
    }

    fn record(&self, bytes: &[u8]) {
        let mut capture = self
            .capture
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !capture.recording || bytes.is_empty() {
            return;
        }
        capture.served = false;
        let room = MAX_CAPTURE.saturating_sub(capture.head.len());
        capture
            .head
            .extend_from_slice(&bytes[..bytes.len().min(room)]);
        let end = capture.head.windows(4).position(|w| w == b"\r\n\r\n");
        if let Some(end) = end {
            capture.head.truncate(end + 4);
            capture.recording = false;
        } else if capture.head.len() >= MAX_CAPTURE {
            capture.recording = false;
        }
    }

    fn served(&self) -> bool {
        self.capture
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .served
    }

    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.pending.is_empty() {
            match Pin::new(&mut self.stream).poll_write(cx, &self.pending) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.pending.drain(..n);
                }
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.record(&buf.filled()[before..]);
        }
        polled
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Poll::Ready(Err(err)) = this.poll_pending(cx) {
            return Poll::Ready(Err(err));
        }
        if !this.pending.is_empty() {
            return Poll::Pending;
        }
        if !this.served()
            && let Some(replacement) = front_end::rewrite_parse_error(buf)
        {
            this.pending = replacement;
            if let Poll::Ready(Err(err)) = this.poll_pending(cx) {
                return Poll::Ready(Err(err));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_pending(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.stream).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_pending(cx) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.stream).poll_shutdown(cx),
            other => other,
        }
    }
}
