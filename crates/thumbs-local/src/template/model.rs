//! What the local stack takes from a SAM template.

use std::collections::BTreeMap;

use crate::binary::BinaryMediaTypes;

/// What the local stack takes from the template.
#[derive(Debug, Clone, Default)]
pub struct Template {
    /// Parameter name → resolved default.
    pub parameters: BTreeMap<String, String>,
    pub api: ApiSettings,
    pub functions: Vec<FunctionDef>,
}

/// The REST API (an `AWS::Serverless::Api` resource merged with `Globals.Api`, or the implicit
/// API SAM creates when events name no `RestApiId`).
#[derive(Debug, Clone, Default)]
pub struct ApiSettings {
    pub logical_id: Option<String>,
    pub stage: String,
    pub binary_media_types: BinaryMediaTypes,
    pub cors: Option<Cors>,
    /// `Auth.ApiKeyRequired` at API level: the default for every route.
    pub api_key_required: bool,
    /// SAM `Auth.AddApiKeyRequiredToCorsPreflight` (default true): preflight needs the key too
    /// when the API-level `ApiKeyRequired` is set.
    pub api_key_on_preflight: bool,
    /// `GatewayResponses`: response type (`INVALID_API_KEY`, `DEFAULT_4XX`, ...) → override.
    pub gateway_responses: BTreeMap<String, GatewayResponseOverride>,
}

/// SAM `Cors`: values are header values, with the single quotes SAM requires stripped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cors {
    pub allow_origin: String,
    pub allow_methods: Option<String>,
    pub allow_headers: Option<String>,
    pub max_age: Option<String>,
    pub allow_credentials: bool,
}

/// One entry of `GatewayResponses`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GatewayResponseOverride {
    pub status: Option<u16>,
    /// Header name → literal value (quotes stripped).
    pub headers: Vec<(String, String)>,
    /// The `application/json` response template, if any.
    pub template: Option<String>,
}

/// An `AWS::Serverless::Function`.
#[derive(Debug, Clone, Default)]
pub struct FunctionDef {
    pub logical_id: String,
    /// `Metadata.BuildProperties.Binary` (cargo-lambda binary name), if given.
    pub binary: Option<String>,
    /// Globals merged, intrinsics resolved.
    pub environment: BTreeMap<String, String>,
    pub timeout_secs: Option<u64>,
    /// `MemorySize` (MB), function value else `Globals`.
    pub memory_size_mb: Option<u64>,
    pub api_events: Vec<ApiEvent>,
    pub s3_events: Vec<S3Trigger>,
}

/// An `Api` event: one route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiEvent {
    pub name: String,
    /// As written, e.g. `/images/{id}`.
    pub path: String,
    /// Uppercase; `ANY` for SAM's `any`.
    pub method: String,
    pub api_key_required: bool,
}

/// An `S3` event: which created objects invoke the function.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Trigger {
    pub name: String,
    /// e.g. `s3:ObjectCreated:*`.
    pub events: Vec<String>,
    pub prefix: Option<String>,
    pub suffix: Option<String>,
}
