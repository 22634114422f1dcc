//! The resize Lambda: tracing, configuration and the S3 client set up once, then the runtime.
//! The event arrives as JSON because `s3:TestEvent` is not an `S3Event`.
// The runtime's future around the resize (S3 reads, paginated listing, writes) is deeper than
// the compiler's default query depth allows.
#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use thumbs_resize::Resize;
use thumbs_store::{Store, StoreConfig};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL, else RUST_LOG.
    lambda_runtime::tracing::init_default_subscriber();
    let config = thumbs_core::config::Config::from_env()?;
    let store = Store::connect(&StoreConfig::from_env()?).await;
    let resize = Resize::new(config, store);
    let resize = &resize;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            // Err → Lambda retries the async invocation (twice): only for transient faults.
            resize.handle_json(event.payload).await.map_err(Error::from)
        },
    ))
    .await
}
