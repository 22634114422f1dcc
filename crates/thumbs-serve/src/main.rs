//! The serve Lambda: tracing, configuration and the S3 client set up once, then the runtime.

use std::convert::Infallible;

use lambda_http::{Error, service_fn};
use thumbs_serve::Serve;
use thumbs_store::{Store, StoreConfig};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL, else RUST_LOG.
    lambda_http::tracing::init_default_subscriber();
    let config = thumbs_core::config::Config::from_env()?;
    let store = Store::connect(&StoreConfig::from_env()?).await;
    let timeout = Serve::processing_timeout_from(|name| std::env::var(name).ok())?;
    let serve = Serve::new(config, store).with_processing_timeout(timeout);
    let serve = &serve;
    lambda_http::run(service_fn(move |req| async move {
        Ok::<_, Infallible>(serve.handle(req).await)
    }))
    .await
}
