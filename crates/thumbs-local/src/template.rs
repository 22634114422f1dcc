//! Reading an AWS SAM `template.yaml`: what the local stack needs from it, and nothing else.
//!
//! Extracted: the API's `BinaryMediaTypes`, `Cors`, `Auth.ApiKeyRequired`, `GatewayResponses`
//! and stage; every function's `Api` events (path, method, `ApiKeyRequired`), `S3` events
//! (event names, prefix/suffix filter), `Timeout` and environment variables. `Globals` are merged
//! in (function values win), parameter defaults are resolved.
//!
//! CloudFormation intrinsics arrive as YAML tags (`!Ref`, `!Sub`, `!GetAtt`, `!If`, ...), which
//! `serde_yaml` keeps as `Value::Tagged`; the long forms (`{"Fn::Sub": ..}`, `{"Ref": ..}`) work
//! too. [`Resolver`] evaluates the ones that make sense locally against fixed pseudo parameters
//! (stack `thumbs-local`, account `000000000000`, region `us-east-1`); what it cannot evaluate
//! resolves to `None` and the caller decides (an environment variable is then left out, with a
//! warning).

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::{Mapping, Value};

use crate::binary::BinaryMediaTypes;

/// Stack name the local stack pretends to be deployed as.
pub const LOCAL_STACK_NAME: &str = "thumbs-local";
/// Account id of the pseudo parameter `AWS::AccountId`.
pub const LOCAL_ACCOUNT_ID: &str = "000000000000";
/// Region of the pseudo parameter `AWS::Region`.
pub const LOCAL_REGION: &str = "us-east-1";

/// The template could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not valid YAML: {source}")]
    Yaml {
        path: String,
        source: serde_yaml::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

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

impl S3Trigger {
    /// Whether an event (`ObjectCreated:Put`, without the `s3:` prefix) on `key` is delivered.
    /// S3 filter rules match the raw key by prefix and suffix; event names may end in `*`.
    pub fn matches(&self, event_name: &str, key: &str) -> bool {
        let full = format!("s3:{event_name}");
        let event_ok = self
            .events
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(stem) => full.starts_with(stem),
                None => *pattern == full,
            });
        event_ok
            && self
                .prefix
                .as_deref()
                .is_none_or(|prefix| key.starts_with(prefix))
            && self
                .suffix
                .as_deref()
                .is_none_or(|suffix| key.ends_with(suffix))
    }
}

impl Template {
    pub fn load(path: &Path) -> Result<Template, TemplateError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: shown.clone(),
            source,
        })?;
        Template::parse(&text).map_err(|err| match err {
            TemplateError::Yaml { source, .. } => TemplateError::Yaml {
                path: shown,
                source,
            },
            TemplateError::Invalid { message, .. } => TemplateError::Invalid {
                path: shown,
                message,
            },
            other => other,
        })
    }

    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let root: Value = serde_yaml::from_str(text).map_err(|source| TemplateError::Yaml {
            path: "template".into(),
            source,
        })?;
        let invalid = |message: &str| TemplateError::Invalid {
            path: "template".into(),
            message: message.into(),
        };
        let resources = root
            .get("Resources")
            .and_then(Value::as_mapping)
            .ok_or_else(|| invalid("no Resources"))?;
        let resolver = Resolver::new(&root);
        let globals = root.get("Globals");

        let mut functions = Vec::new();
        let mut api_ids = Vec::new();
        for (id, resource) in resources {
            let Some(id) = id.as_str() else { continue };
            if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
                continue;
            }
            let function = read_function(
                id,
                resource,
                globals.and_then(|g| g.get("Function")),
                &resolver,
            );
            for event in resource
                .get("Properties")
                .and_then(|p| p.get("Events"))
                .and_then(Value::as_mapping)
                .into_iter()
                .flatten()
            {
                if event.1.get("Type").and_then(Value::as_str) == Some("Api") {
                    let api = event
                        .1
                        .get("Properties")
                        .and_then(|p| p.get("RestApiId"))
                        .and_then(ref_target);
                    if !api_ids.contains(&api) {
                        api_ids.push(api);
                    }
                }
            }
            functions.push(function);
        }
        if api_ids.len() > 1 {
            tracing::warn!(apis = ?api_ids, "several REST APIs in the template; the local gateway serves the first one's settings for all routes");
        }
        let api_id = api_ids.into_iter().next().flatten();
        let api_resource = api_id.as_deref().and_then(|id| resources.get(id));
        let api = read_api(
            api_id.clone(),
            api_resource,
            globals.and_then(|g| g.get("Api")),
            &resolver,
        );

        // Api-level ApiKeyRequired is the default of every route that does not say otherwise.
        for function in &mut functions {
            let resource = &resources[function.logical_id.as_str()];
            function.api_events = read_api_events(resource, api.api_key_required);
        }
        Ok(Template {
            parameters: resolver.parameters.clone(),
            api,
            functions,
        })
    }

    /// The function with this logical id.
    pub fn function(&self, logical_id: &str) -> Option<&FunctionDef> {
        self.functions.iter().find(|f| f.logical_id == logical_id)
    }
}

fn read_function(
    id: &str,
    resource: &Value,
    globals: Option<&Value>,
    resolver: &Resolver,
) -> FunctionDef {
    let properties = resource.get("Properties");
    let mut environment = BTreeMap::new();
    for source in [globals, properties] {
        let variables = source
            .and_then(|p| p.get("Environment"))
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping);
        for (name, value) in variables.into_iter().flatten() {
            let Some(name) = name.as_str() else { continue };
            match resolver.scalar(value) {
                Some(value) => {
                    environment.insert(name.to_owned(), value);
                }
                None => {
                    tracing::warn!(
                        function = id,
                        variable = name,
                        "environment value cannot be resolved locally; left out"
                    );
                    environment.remove(name);
                }
            }
        }
    }
    let timeout_secs = [properties, globals]
        .into_iter()
        .flatten()
        .find_map(|p| p.get("Timeout"))
        .and_then(|t| resolver.scalar(t))
        .and_then(|t| t.parse().ok());
    let binary = resource
        .get("Metadata")
        .and_then(|m| m.get("BuildProperties"))
        .and_then(|b| b.get("Binary"))
        .and_then(|b| resolver.scalar(b));

    let mut s3_events = Vec::new();
    for (name, event) in properties
        .and_then(|p| p.get("Events"))
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
    {
        if event.get("Type").and_then(Value::as_str) != Some("S3") {
            continue;
        }
        let props = event.get("Properties");
        let events = match props.and_then(|p| p.get("Events")) {
            Some(Value::Sequence(list)) => list.iter().filter_map(|e| resolver.scalar(e)).collect(),
            Some(other) => resolver.scalar(other).into_iter().collect(),
            None => Vec::new(),
        };
        let mut trigger = S3Trigger {
            name: name.as_str().unwrap_or_default().to_owned(),
            events,
            ..S3Trigger::default()
        };
        let rules = props
            .and_then(|p| p.get("Filter"))
            .and_then(|f| f.get("S3Key"))
            .and_then(|k| k.get("Rules"));
        for rule in rules.and_then(Value::as_sequence).into_iter().flatten() {
            let name = rule
                .get("Name")
                .and_then(|n| resolver.scalar(n))
                .unwrap_or_default()
                .to_ascii_lowercase();
            let value = rule.get("Value").and_then(|v| resolver.scalar(v));
            match name.as_str() {
                "prefix" => trigger.prefix = value,
                "suffix" => trigger.suffix = value,
                _ => {}
            }
        }
        s3_events.push(trigger);
    }
    FunctionDef {
        logical_id: id.to_owned(),
        binary,
        environment,
        timeout_secs,
        api_events: Vec::new(),
        s3_events,
    }
}

fn read_api_events(resource: &Value, api_key_default: bool) -> Vec<ApiEvent> {
    let events = resource
        .get("Properties")
        .and_then(|p| p.get("Events"))
        .and_then(Value::as_mapping);
    let mut routes = Vec::new();
    for (name, event) in events.into_iter().flatten() {
        if event.get("Type").and_then(Value::as_str) != Some("Api") {
            continue;
        }
        let props = event.get("Properties");
        let Some(path) = props.and_then(|p| p.get("Path")).and_then(Value::as_str) else {
            continue;
        };
        let method = props
            .and_then(|p| p.get("Method"))
            .and_then(Value::as_str)
            .unwrap_or("any")
            .to_ascii_uppercase();
        let api_key_required = props
            .and_then(|p| p.get("Auth"))
            .and_then(|a| a.get("ApiKeyRequired"))
            .and_then(as_bool)
            .unwrap_or(api_key_default);
        routes.push(ApiEvent {
            name: name.as_str().unwrap_or_default().to_owned(),
            path: path.to_owned(),
            method,
            api_key_required,
        });
    }
    routes
}

fn read_api(
    logical_id: Option<String>,
    resource: Option<&Value>,
    globals: Option<&Value>,
    resolver: &Resolver,
) -> ApiSettings {
    // Globals.Api first, the resource's own properties on top (top-level keys replace).
    let mut properties = Mapping::new();
    for source in [globals, resource.and_then(|r| r.get("Properties"))]
        .into_iter()
        .flatten()
    {
        if let Some(map) = source.as_mapping() {
            for (key, value) in map {
                properties.insert(key.clone(), value.clone());
            }
        }
    }
    let get = |name: &str| properties.get(name);
    let stage = get("StageName")
        .and_then(|s| resolver.scalar(s))
        .unwrap_or_else(|| "Prod".to_owned());
    let binary: Vec<String> = get("BinaryMediaTypes")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|t| resolver.scalar(t))
        .collect();
    let cors = get("Cors").and_then(|cors| read_cors(cors, resolver));
    let auth = get("Auth");
    let api_key_required = auth
        .and_then(|a| a.get("ApiKeyRequired"))
        .and_then(as_bool)
        .unwrap_or(false);
    let api_key_on_preflight = auth
        .and_then(|a| a.get("AddApiKeyRequiredToCorsPreflight"))
        .and_then(as_bool)
        .unwrap_or(true);
    let mut gateway_responses = BTreeMap::new();
    for (kind, response) in get("GatewayResponses")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
    {
        let Some(kind) = kind.as_str() else { continue };
        let status = response
            .get("StatusCode")
            .and_then(|s| resolver.scalar(s))
            .and_then(|s| s.parse().ok());
        let headers = response
            .get("ResponseParameters")
            .and_then(|p| p.get("Headers"))
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(name, value)| {
                Some((name.as_str()?.to_owned(), unquote(&resolver.scalar(value)?)))
            })
            .collect();
        let template = response
            .get("ResponseTemplates")
            .and_then(|t| t.get("application/json"))
            .and_then(|t| resolver.scalar(t));
        gateway_responses.insert(
            kind.to_owned(),
            GatewayResponseOverride {
                status,
                headers,
                template,
            },
        );
    }
    ApiSettings {
        logical_id,
        stage,
        binary_media_types: BinaryMediaTypes::from_template(&binary),
        cors,
        api_key_required,
        api_key_on_preflight,
        gateway_responses,
    }
}

fn read_cors(cors: &Value, resolver: &Resolver) -> Option<Cors> {
    // `Cors: "'*'"` is shorthand for AllowOrigin.
    if !cors.is_mapping() {
        return Some(Cors {
            allow_origin: unquote(&resolver.scalar(cors)?),
            ..Cors::default()
        });
    }
    let field = |name: &str| {
        cors.get(name)
            .and_then(|v| resolver.scalar(v))
            .map(|v| unquote(&v))
    };
    Some(Cors {
        allow_origin: field("AllowOrigin")?,
        allow_methods: field("AllowMethods"),
        allow_headers: field("AllowHeaders"),
        max_age: field("MaxAge"),
        allow_credentials: cors
            .get("AllowCredentials")
            .and_then(as_bool)
            .unwrap_or(false),
    })
}

/// SAM wants header values as quoted strings (`"'*'"`); the header value is the inside.
fn unquote(value: &str) -> String {
    let trimmed = value.trim();
    trimmed
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or(trimmed)
        .to_owned()
}

fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The logical id a `!Ref X` / `{"Ref": X}` names.
fn ref_target(value: &Value) -> Option<String> {
    match intrinsic(value) {
        Some(("Ref", arg)) => arg.as_str().map(str::to_owned),
        _ => value.as_str().map(str::to_owned),
    }
}

/// `(function, argument)` for `!Fn arg` and `{"Fn::Fn": arg}` / `{"Ref": arg}`.
fn intrinsic(value: &Value) -> Option<(&str, &Value)> {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let name = KNOWN.iter().find(|known| **known == name)?;
            Some((name, &tagged.value))
        }
        Value::Mapping(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next()?;
            let key = key.as_str()?;
            let name = if key == "Ref" || key == "Condition" {
                key
            } else {
                key.strip_prefix("Fn::")?
            };
            Some((name, arg))
        }
        _ => None,
    }
}

const KNOWN: [&str; 15] = [
    "Ref",
    "Sub",
    "GetAtt",
    "Join",
    "If",
    "Select",
    "Split",
    "Equals",
    "Not",
    "And",
    "Or",
    "Condition",
    "FindInMap",
    "Base64",
    "ImportValue",
];

/// Evaluates CloudFormation intrinsics against parameter defaults and local pseudo parameters.
#[derive(Debug, Clone)]
pub struct Resolver {
    parameters: BTreeMap<String, String>,
    conditions: Mapping,
    resources: Mapping,
}

impl Resolver {
    pub fn new(root: &Value) -> Resolver {
        let mut parameters = BTreeMap::new();
        for (name, parameter) in root
            .get("Parameters")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(default)) = (name.as_str(), parameter.get("Default")) else {
                continue;
            };
            if let Some(default) = plain_scalar(default) {
                parameters.insert(name.to_owned(), default);
            }
        }
        let mapping = |key: &str| {
            root.get(key)
                .and_then(Value::as_mapping)
                .cloned()
                .unwrap_or_default()
        };
        Resolver {
            parameters,
            conditions: mapping("Conditions"),
            resources: mapping("Resources"),
        }
    }

    /// A value as a string: scalars as they are, intrinsics evaluated. `None` when it cannot be.
    pub fn scalar(&self, value: &Value) -> Option<String> {
        self.scalar_depth(value, 0)
    }

    fn scalar_depth(&self, value: &Value, depth: u8) -> Option<String> {
        if depth > 16 {
            return None;
        }
        if let Some(plain) = plain_scalar(value) {
            return Some(plain);
        }
        let (name, arg) = intrinsic(value)?;
        let next = depth + 1;
        match name {
            "Ref" => self.reference(arg.as_str()?),
            "Sub" => match arg {
                Value::Sequence(parts) => {
                    let template = parts.first()?.as_str()?;
                    let mut vars = BTreeMap::new();
                    for (key, value) in parts
                        .get(1)
                        .and_then(Value::as_mapping)
                        .into_iter()
                        .flatten()
                    {
                        vars.insert(key.as_str()?.to_owned(), self.scalar_depth(value, next)?);
                    }
                    self.substitute(template, &vars)
                }
                other => self.substitute(other.as_str()?, &BTreeMap::new()),
            },
            "GetAtt" => {
                let (resource, attribute) = match arg {
                    Value::Sequence(parts) => (
                        parts.first()?.as_str()?.to_owned(),
                        parts.get(1)?.as_str()?.to_owned(),
                    ),
                    other => {
                        let (r, a) = other.as_str()?.split_once('.')?;
                        (r.to_owned(), a.to_owned())
                    }
                };
                Some(self.attribute(&resource, &attribute))
            }
            "Join" => {
                let parts = arg.as_sequence()?;
                let delimiter = parts.first()?.as_str()?;
                let items = parts.get(1)?.as_sequence()?;
                let items: Option<Vec<String>> = items
                    .iter()
                    .map(|item| self.scalar_depth(item, next))
                    .collect();
                Some(items?.join(delimiter))
            }
            "Select" => {
                let parts = arg.as_sequence()?;
                let index: usize = self.scalar_depth(parts.first()?, next)?.parse().ok()?;
                match parts.get(1)? {
                    Value::Sequence(items) => self.scalar_depth(items.get(index)?, next),
                    other => {
                        let (split_name, split_arg) = intrinsic(other)?;
                        if split_name != "Split" {
                            return None;
                        }
                        let split = split_arg.as_sequence()?;
                        let delimiter = split.first()?.as_str()?;
                        let source = self.scalar_depth(split.get(1)?, next)?;
                        source.split(delimiter).nth(index).map(str::to_owned)
                    }
                }
            }
            "If" => {
                let parts = arg.as_sequence()?;
                let condition = parts.first()?.as_str()?;
                let branch = if self.condition(condition, next)? {
                    parts.get(1)?
                } else {
                    parts.get(2)?
                };
                self.scalar_depth(branch, next)
            }
            _ => None,
        }
    }

    fn reference(&self, name: &str) -> Option<String> {
        match name {
            "AWS::StackName" => Some(LOCAL_STACK_NAME.to_owned()),
            "AWS::AccountId" => Some(LOCAL_ACCOUNT_ID.to_owned()),
            "AWS::Region" => Some(LOCAL_REGION.to_owned()),
            "AWS::Partition" => Some("aws".to_owned()),
            "AWS::URLSuffix" => Some("amazonaws.com".to_owned()),
            "AWS::StackId" => Some(format!(
                "arn:aws:cloudformation:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:stack/{LOCAL_STACK_NAME}/local"
            )),
            "AWS::NoValue" => None,
            _ => {
                if let Some(value) = self.parameters.get(name) {
                    return Some(value.clone());
                }
                // A bucket's Ref is its name; other resources' Refs are their logical ids locally.
                let resource = self.resources.get(name)?;
                let bucket_name = resource.get("Properties").and_then(|p| p.get("BucketName"));
                match bucket_name {
                    Some(bucket_name) => self.scalar(bucket_name),
                    None => Some(name.to_owned()),
                }
            }
        }
    }

    fn attribute(&self, resource: &str, attribute: &str) -> String {
        match attribute {
            "Arn" => match self.reference(resource) {
                Some(name) if self.resource_type(resource) == Some("AWS::S3::Bucket") => {
                    format!("arn:aws:s3:::{name}")
                }
                _ => format!("arn:aws:local:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:{resource}"),
            },
            other => format!("{resource}.{other}"),
        }
    }

    fn resource_type(&self, resource: &str) -> Option<&str> {
        self.resources.get(resource)?.get("Type")?.as_str()
    }

    /// `${Name}`, `${Resource.Attr}`, `${!Literal}`.
    fn substitute(&self, template: &str, vars: &BTreeMap<String, String>) -> Option<String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}')?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = vars.get(name) {
                out.push_str(value);
            } else if let Some((resource, attribute)) =
                name.split_once('.').filter(|_| !name.starts_with("AWS::"))
            {
                out.push_str(&self.attribute(resource, attribute));
            } else {
                out.push_str(&self.reference(name)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    fn condition(&self, name: &str, depth: u8) -> Option<bool> {
        if depth > 16 {
            return None;
        }
        self.evaluate(self.conditions.get(name)?, depth + 1)
    }

    fn evaluate(&self, value: &Value, depth: u8) -> Option<bool> {
        if depth > 16 {
            return None;
        }
        let (name, arg) = intrinsic(value)?;
        let list = || arg.as_sequence();
        match name {
            "Equals" => {
                let parts = list()?;
                Some(
                    self.scalar_depth(parts.first()?, depth)?
                        == self.scalar_depth(parts.get(1)?, depth)?,
                )
            }
            "Not" => Some(!self.evaluate(list()?.first()?, depth + 1)?),
            "And" => list()?
                .iter()
                .map(|c| self.evaluate(c, depth + 1))
                .try_fold(true, |acc, c| Some(acc && c?)),
            "Or" => list()?
                .iter()
                .map(|c| self.evaluate(c, depth + 1))
                .try_fold(false, |acc, c| Some(acc || c?)),
            "Condition" => self.condition(arg.as_str()?, depth + 1),
            _ => None,
        }
    }
}

fn plain_scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Parameters:
  Sizes: { Type: String, Default: "128,256" }
  Quality: { Type: Number, Default: 80 }
  Env: { Type: String, Default: dev }
Conditions:
  IsProd: !Equals [!Ref Env, prod]
Globals:
  Function:
    Timeout: 10
    Environment:
      Variables:
        BUCKET_NAME: !Sub "${AWS::StackName}-${AWS::AccountId}-images"
        THUMB_SIZES: !Ref Sizes
        LEVEL: !If [IsProd, warn, debug]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${AWS::StackName}-bucket"
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: Prod
      BinaryMediaTypes: ["image~1*"]
      Cors:
        AllowOrigin: "'*'"
        AllowHeaders: "'Content-Type,X-Api-Key'"
      GatewayResponses:
        MISSING_AUTHENTICATION_TOKEN:
          StatusCode: 404
          ResponseTemplates:
            application/json: '{"error":"no route"}'
  Fn:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: thumbs-upload } }
    Properties:
      Timeout: 29
      Environment:
        Variables:
          JPEG_QUALITY: !Ref Quality
          ARN: !GetAtt Bucket.Arn
      Events:
        Post:
          Type: Api
          Properties: { RestApiId: !Ref Api, Path: /images, Method: post, Auth: { ApiKeyRequired: true } }
        Get:
          Type: Api
          Properties: { RestApiId: !Ref Api, Path: "/images/{id}", Method: get }
        Created:
          Type: S3
          Properties:
            Bucket: !Ref Bucket
            Events: s3:ObjectCreated:*
            Filter: { S3Key: { Rules: [{ Name: prefix, Value: originals/ }, { Name: Suffix, Value: .jpg }] } }
"#;

    #[test]
    fn short_tags_and_globals_resolve() {
        let template = Template::parse(TEMPLATE).unwrap();
        let function = template.function("Fn").unwrap();
        let env = &function.environment;
        assert_eq!(env["BUCKET_NAME"], "thumbs-local-000000000000-images");
        assert_eq!(env["THUMB_SIZES"], "128,256");
        assert_eq!(env["JPEG_QUALITY"], "80");
        assert_eq!(env["LEVEL"], "debug");
        assert_eq!(env["ARN"], "arn:aws:s3:::thumbs-local-bucket");
        assert_eq!(function.timeout_secs, Some(29));
        assert_eq!(function.binary.as_deref(), Some("thumbs-upload"));
    }

    #[test]
    fn api_settings_are_read() {
        let template = Template::parse(TEMPLATE).unwrap();
        assert_eq!(template.api.logical_id.as_deref(), Some("Api"));
        assert_eq!(template.api.binary_media_types.entries(), ["image/*"]);
        let cors = template.api.cors.as_ref().unwrap();
        assert_eq!(cors.allow_origin, "*");
        assert_eq!(
            cors.allow_headers.as_deref(),
            Some("Content-Type,X-Api-Key")
        );
        let missing = &template.api.gateway_responses["MISSING_AUTHENTICATION_TOKEN"];
        assert_eq!(missing.status, Some(404));
        let routes = &template.function("Fn").unwrap().api_events;
        assert_eq!(routes.len(), 2);
        assert!(
            routes
                .iter()
                .any(|r| r.method == "POST" && r.api_key_required)
        );
        assert!(
            routes
                .iter()
                .any(|r| r.method == "GET" && r.path == "/images/{id}" && !r.api_key_required)
        );
    }

    #[test]
    fn s3_filter_rules_apply() {
        let template = Template::parse(TEMPLATE).unwrap();
        let trigger = &template.function("Fn").unwrap().s3_events[0];
        assert!(trigger.matches("ObjectCreated:Put", "originals/a.jpg"));
        assert!(trigger.matches("ObjectCreated:CompleteMultipartUpload", "originals/b.jpg"));
        assert!(!trigger.matches("ObjectCreated:Put", "thumbnails/a.jpg"));
        assert!(!trigger.matches("ObjectCreated:Put", "originals/a.png"));
        assert!(!trigger.matches("ObjectRemoved:Delete", "originals/a.jpg"));
    }

    #[test]
    fn the_repository_template_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
        if !path.exists() {
            return;
        }
        let template = Template::load(&path).unwrap();
        assert!(!template.api.binary_media_types.is_empty());
        assert!(template.functions.iter().any(|f| !f.s3_events.is_empty()));
    }
}
