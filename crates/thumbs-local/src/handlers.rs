//! The three thumbs functions, constructed from the template's function definitions.
//!
//! A function is recognised by its `Metadata.BuildProperties.Binary` (the cargo-lambda binary:
//! `thumbs-upload`, `thumbs-resize`, `thumbs-serve`), else by its logical id. Each is built the
//! way its `main.rs` builds it, but from the template environment (Globals merged, parameters
//! resolved, `BUCKET_NAME` = the local bucket) instead of this process's environment, and with a
//! `Store` on the embedded S3 server. Nothing here looks inside a request: that is the handlers'.

use std::collections::BTreeMap;
use std::sync::Arc;

use lambda_http::Request;
use thumbs_core::config::Config;
use thumbs_store::{Store, StoreConfig};

use crate::functions::{EventFunction, HttpFunction, JsonEventFunction, LambdaHttpFunction};
use crate::template::FunctionDef;

/// A constructed function.
pub enum Built {
    Http(Arc<dyn HttpFunction>),
    Event(Arc<dyn EventFunction>),
}

/// Which of the thumbs functions a template function is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Upload,
    Resize,
    Serve,
}

impl Kind {
    pub fn of(function: &FunctionDef) -> Option<Kind> {
        let name = function
            .binary
            .clone()
            .unwrap_or_else(|| function.logical_id.to_ascii_lowercase());
        if name.contains("upload") {
            Some(Kind::Upload)
        } else if name.contains("resize") {
            Some(Kind::Resize)
        } else if name.contains("serve") {
            Some(Kind::Serve)
        } else {
            None
        }
    }
}

/// Builds the local implementation of `function`; `None` if it is none of the thumbs functions.
pub async fn build(
    function: &FunctionDef,
    environment: &BTreeMap<String, String>,
    store: &StoreConfig,
) -> Result<Option<Built>, String> {
    let Some(kind) = Kind::of(function) else {
        return Ok(None);
    };
    let config = Config::from_lookup(|name| environment.get(name).cloned())
        .map_err(|err| err.to_string())?;
    let store = Store::connect(store).await;
    let built = match kind {
        Kind::Upload => {
            // The presign cap is `config.limits.max_input_bytes` (MAX_INPUT_BYTES), the same
            // value the resize and serve read: one cap, so they cannot disagree.
            let upload = Arc::new(thumbs_upload::Upload::new(config, store));
            Built::Http(LambdaHttpFunction::new(move |request: Request| {
                let upload = Arc::clone(&upload);
                async move { upload.handle(request).await }
            }))
        }
        Kind::Serve => {
            let timeout = thumbs_serve::Serve::processing_timeout_from(|name| {
                environment.get(name).cloned()
            })?;
            let serve =
                Arc::new(thumbs_serve::Serve::new(config, store).with_processing_timeout(timeout));
            Built::Http(LambdaHttpFunction::new(move |request: Request| {
                let serve = Arc::clone(&serve);
                async move { serve.handle(request).await }
            }))
        }
        Kind::Resize => {
            // As its main.rs: the event as JSON, because s3:TestEvent is not an S3Event.
            let resize = Arc::new(thumbs_resize::Resize::new(config, store));
            Built::Event(JsonEventFunction::new(move |event: serde_json::Value| {
                let resize = Arc::clone(&resize);
                async move { resize.handle_json(event).await }
            }))
        }
    };
    Ok(Some(built))
}
