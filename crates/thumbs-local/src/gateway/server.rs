//! The accept loop: one task per connection, `TCP_NODELAY` on each, graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::connection::Connection;
use super::{Gateway, stopped};

impl Gateway {
    /// Serves connections from `listener` until `shutdown` turns true; in-flight requests finish.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stopped(&mut shutdown) => break,
            };
            let (stream, remote) = match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            // Without it, Nagle's algorithm holds the second segment of a keep-alive response
            // until the client's delayed ACK (~40 ms on Linux): every request after the first on
            // a connection would wait that long.
            if let Err(err) = stream.set_nodelay(true) {
                tracing::warn!(%err, "TCP_NODELAY could not be set");
            }
            let (io, head) = Connection::new(stream);
            let gateway = Arc::clone(&self);
            let mut stop = shutdown.clone();
            connections.spawn(async move {
                let service = service_fn(move |request| {
                    let gateway = Arc::clone(&gateway);
                    let head = head.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            gateway.handle(request, remote, &head).await,
                        )
                    }
                });
                let connection = http1::Builder::new().serve_connection(TokioIo::new(io), service);
                let mut connection = std::pin::pin!(connection);
                tokio::select! {
                    _ = connection.as_mut() => {}
                    _ = stopped(&mut stop) => {
                        connection.as_mut().graceful_shutdown();
                        let _ = tokio::time::timeout(Duration::from_secs(5), connection).await;
                    }
                }
            });
            while connections.try_join_next().is_some() {}
        }
        while connections.join_next().await.is_some() {}
    }
}
