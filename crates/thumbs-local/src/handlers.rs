//! The three thumbs functions, constructed from the template's function definitions.
//!
//! A function is recognised by its `Metadata.BuildProperties.Binary` (the cargo-lambda binary:
//! `thumbs-upload`, `thumbs-resize`, `thumbs-serve`), else by its logical id. Each gets its
//! configuration from the template environment (Globals merged, parameters resolved), never
//! from this process's environment, and a `Store` on the embedded S3 server.

use std::collections::BTreeMap;
use std::sync::Arc;

use thumbs_store::StoreConfig;

use crate::functions::{EventFunction, HttpFunction};
use crate::template::FunctionDef;

/// A constructed function.
pub enum Built {
    Http(Arc<dyn HttpFunction>),
    Event(Arc<dyn EventFunction>),
}

/// Builds the local implementation of `function`, `None` if this stack has none.
pub async fn build(
    function: &FunctionDef,
    _environment: &BTreeMap<String, String>,
    _store: &StoreConfig,
) -> Result<Option<Built>, String> {
    let _ = function;
    Ok(None)
}
