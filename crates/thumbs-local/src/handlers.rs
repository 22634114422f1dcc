//! The three thumbs functions, constructed from the template's function definitions.
//!
//! A function is recognised by its `Metadata.BuildProperties.Binary` (the cargo-lambda binary:
//! `thumbs-upload`, `thumbs-resize`, `thumbs-serve`), else by its logical id, from one fixed
//! table (`FUNCTIONS`) that the template tests check against `template.yaml`. Each is built the
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

/// A thumbs function, ready to be invoked locally the way its Lambda is.
pub enum LocalHandler {
    /// Behind API Gateway (upload, serve).
    Http(Arc<dyn HttpFunction>),
    /// Invoked with S3 events (resize).
    Event(Arc<dyn EventFunction>),
}

/// Which of the thumbs functions a template function is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbsFunction {
    Upload,
    Resize,
    Serve,
}

/// The functions as `template.yaml` defines them: cargo-lambda binary, logical id.
const FUNCTIONS: [(ThumbsFunction, &str, &str); 3] = [
    (ThumbsFunction::Upload, "thumbs-upload", "UploadFunction"),
    (ThumbsFunction::Resize, "thumbs-resize", "ResizeFunction"),
    (ThumbsFunction::Serve, "thumbs-serve", "ServeFunction"),
];

impl ThumbsFunction {
    /// By the function's `Metadata.BuildProperties.Binary` when it has one, else by its logical
    /// id; exact matches only, so an unrelated function is never mistaken for one of ours.
    pub fn of(function: &FunctionDef) -> Option<ThumbsFunction> {
        FUNCTIONS
            .iter()
            .find(|(_, binary, logical_id)| match function.binary.as_deref() {
                Some(given) => given == *binary,
                None => function.logical_id == *logical_id,
            })
            .map(|(which, _, _)| *which)
    }
}

/// Builds the local implementation of `function`; `None` if it is none of the thumbs functions.
pub async fn build(
    function: &FunctionDef,
    environment: &BTreeMap<String, String>,
    store: &StoreConfig,
) -> Result<Option<LocalHandler>, String> {
    let Some(which) = ThumbsFunction::of(function) else {
        return Ok(None);
    };
    let config = Config::from_lookup(|name| environment.get(name).cloned())
        .map_err(|err| err.to_string())?;
    let store = Store::connect(store).await;
    let built = match which {
        ThumbsFunction::Upload => {
            // The presign cap is `config.limits.max_input_bytes` (MAX_INPUT_BYTES), the same
            // value the resize and serve read: one cap, so they cannot disagree.
            let upload = Arc::new(thumbs_upload::Upload::new(config, store));
            LocalHandler::Http(LambdaHttpFunction::new(move |request: Request| {
                let upload = Arc::clone(&upload);
                async move { upload.handle(request).await }
            }))
        }
        ThumbsFunction::Serve => {
            // The same parse as its main.rs, over the template's environment.
            let config =
                thumbs_serve::ServeConfig::from_lookup(|name| environment.get(name).cloned())?;
            let serve = Arc::new(thumbs_serve::Serve::from_config(config, store));
            LocalHandler::Http(LambdaHttpFunction::new(move |request: Request| {
                let serve = Arc::clone(&serve);
                async move { serve.handle(request).await }
            }))
        }
        ThumbsFunction::Resize => {
            // As its main.rs: the event as JSON, because s3:TestEvent is not an S3Event.
            let resize = Arc::new(thumbs_resize::Resize::new(config, store));
            LocalHandler::Event(JsonEventFunction::new(move |event: serde_json::Value| {
                let resize = Arc::clone(&resize);
                async move { resize.handle_json(event).await }
            }))
        }
    };
    Ok(Some(built))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{BUILTIN_TEMPLATE, Template};

    #[test]
    fn the_table_names_the_templates_functions() {
        let template = Template::parse(BUILTIN_TEMPLATE).unwrap();
        for (which, binary, logical_id) in FUNCTIONS {
            let function = template
                .function(logical_id)
                .unwrap_or_else(|| panic!("template.yaml has no {logical_id}"));
            assert_eq!(function.binary.as_deref(), Some(binary), "{logical_id}");
            assert_eq!(ThumbsFunction::of(function), Some(which), "{logical_id}");
        }
    }

    #[test]
    fn only_exact_names_are_thumbs_functions() {
        let template = Template::parse(BUILTIN_TEMPLATE).unwrap();
        let mut function = template.function("UploadFunction").unwrap().clone();
        function.binary = Some("thumbs-upload-old".to_owned());
        assert_eq!(ThumbsFunction::of(&function), None);
        function.binary = None;
        assert_eq!(
            ThumbsFunction::of(&function),
            Some(ThumbsFunction::Upload),
            "by logical id"
        );
        function.logical_id = "MyUploadFunction".to_owned();
        assert_eq!(ThumbsFunction::of(&function), None);
    }
}
