//! Readers: the template's functions, their `Api` events and the REST API's settings, with
//! `Globals` merged and values resolved through the [`Resolver`].

use std::collections::BTreeMap;

use serde_yaml_ng::{Mapping, Value};

use super::intrinsics::Resolver;
use super::model::{ApiEvent, ApiSettings, Cors, FunctionDef, GatewayResponseOverride, S3Trigger};
use crate::binary::BinaryMediaTypes;

pub(super) fn read_function(
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
    let number = |property: &str| -> Option<u64> {
        [properties, globals]
            .into_iter()
            .flatten()
            .find_map(|p| p.get(property))
            .and_then(|t| resolver.scalar(t))
            .and_then(|t| t.parse().ok())
    };
    let timeout_secs = number("Timeout");
    let memory_size_mb = number("MemorySize");
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
        memory_size_mb,
        api_events: Vec::new(),
        s3_events,
    }
}

pub(super) fn read_api_events(resource: &Value, api_key_default: bool) -> Vec<ApiEvent> {
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

pub(super) fn read_api(
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
