//! The start-up the handler crates' tests share: an embedded S3 server with one bucket, a
//! `Store` on it, and the objects it reports created. Included with
//! `#[path = "../../thumbs-local/tests/support/local_bucket.rs"]`, like `s3_fault_proxy.rs`.

#![allow(dead_code)]

use thumbs_store::Store;
use thumbs_store::event::ObjectCreated;
use thumbs_store::local_server::LocalS3;
use tokio::sync::mpsc::UnboundedReceiver;

/// A bucket on its own embedded S3 server, in a temporary folder.
pub struct LocalBucket {
    /// The server's data folder (removed when dropped).
    pub dir: tempfile::TempDir,
    pub s3: LocalS3,
    /// Straight to the server.
    pub store: Store,
    /// Every object created, as the server's hook reports it.
    pub created: UnboundedReceiver<ObjectCreated>,
}

/// Starts the server on a free port and creates `bucket`.
pub async fn local_bucket(bucket: &str) -> LocalBucket {
    let dir = tempfile::tempdir().unwrap();
    let (tx, created) = tokio::sync::mpsc::unbounded_channel();
    let s3 = LocalS3::start_with_hook(dir.path(), 0, tx).await.unwrap();
    s3.create_bucket(bucket).unwrap();
    let store = Store::connect(&s3.store_config(bucket)).await;
    LocalBucket {
        dir,
        s3,
        store,
        created,
    }
}
