//! Reading an AWS SAM `template.yaml`: what the local stack needs from it, and nothing else.
//!
//! Extracted: the API's `BinaryMediaTypes`, `Cors`, `Auth.ApiKeyRequired`, `GatewayResponses`
//! and stage; every function's `Api` events (path, method, `ApiKeyRequired`), `S3` events
//! (event names, prefix/suffix filter), `Timeout` and environment variables. `Globals` are merged
//! in (function values win), parameter defaults are resolved.
//!
//! CloudFormation intrinsics arrive as YAML tags (`!Ref`, `!Sub`, `!GetAtt`, `!If`, ...), which
//! `serde_yaml_ng` keeps as `Value::Tagged`; the long forms (`{"Fn::Sub": ..}`, `{"Ref": ..}`) work
//! too. [`Resolver`] evaluates the ones that make sense locally against fixed pseudo parameters
//! (stack `thumbs-local`, account `000000000000`, region `us-east-1`); what it cannot evaluate
//! resolves to `None` and the caller decides (an environment variable is then left out, with a
//! warning).

//! Split by concept: [`model`] (what is extracted), `read` (the readers of functions, routes and
//! API settings), [`intrinsics`] (the CloudFormation intrinsic evaluator), `s3_filter` (which
//! created objects an S3 event delivers).

mod intrinsics;
mod model;
mod read;
mod s3_filter;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

pub use intrinsics::Resolver;
use intrinsics::ref_target;
pub use model::*;
use read::{read_api, read_api_events, read_function};

/// Stack name the local stack pretends to be deployed as.
pub const LOCAL_STACK_NAME: &str = "thumbs-local";
/// Account id of the pseudo parameter `AWS::AccountId`.
pub const LOCAL_ACCOUNT_ID: &str = "000000000000";
/// Region of the pseudo parameter `AWS::Region`.
pub const LOCAL_REGION: &str = "us-east-1";

/// The repository's `template.yaml`, compiled in, so `thumbs-local` runs from any folder (and
/// after `cargo install`) with the template it was built with.
pub const BUILTIN_TEMPLATE: &str = include_str!("../../../../template.yaml");

/// Where the stack's template comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    /// [`BUILTIN_TEMPLATE`].
    Builtin,
    /// A file read at start-up (`--template PATH`).
    File(PathBuf),
}

impl TemplateSource {
    /// `None` = the built-in one.
    pub fn from_option(path: Option<PathBuf>) -> TemplateSource {
        path.map_or(TemplateSource::Builtin, TemplateSource::File)
    }

    /// Reads it, with parameter values replacing defaults as `sam deploy --parameter-overrides`
    /// would (a name the template does not declare is an error).
    pub fn load(&self, overrides: &BTreeMap<String, String>) -> Result<Template, TemplateError> {
        match self {
            TemplateSource::Builtin => Template::parse_with(BUILTIN_TEMPLATE, overrides),
            TemplateSource::File(path) => Template::load_with(path, overrides),
        }
    }

    /// For the banner and the ready file: the path, or that it is the built-in one.
    pub fn describe(&self) -> String {
        match self {
            TemplateSource::Builtin => "built-in (the repository's template.yaml)".to_owned(),
            TemplateSource::File(path) => path.display().to_string(),
        }
    }
}

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
        source: serde_yaml_ng::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl Template {
    pub fn load(path: &Path) -> Result<Template, TemplateError> {
        Template::load_with(path, &BTreeMap::new())
    }

    /// [`Template::load`] with parameter overrides (see [`TemplateSource::load`]).
    pub fn load_with(
        path: &Path,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Template, TemplateError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: shown.clone(),
            source,
        })?;
        Template::parse_with(&text, overrides).map_err(|err| match err {
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
        Template::parse_with(text, &BTreeMap::new())
    }

    /// [`Template::parse`] with parameter overrides (see [`TemplateSource::load`]).
    pub fn parse_with(
        text: &str,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Template, TemplateError> {
        let root: Value = serde_yaml_ng::from_str(text).map_err(|source| TemplateError::Yaml {
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
        let mut resolver = Resolver::new(&root);
        for (name, value) in overrides {
            if root
                .get("Parameters")
                .and_then(|p| p.get(name.as_str()))
                .is_none()
            {
                return Err(invalid(&format!(
                    "parameter override {name}: the template declares no such parameter"
                )));
            }
            resolver.parameters.insert(name.clone(), value.clone());
        }
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
    fn the_repository_template_is_built_in_and_parses() {
        // The compiled-in copy is the file in the repository (include_str! rebuilds on change).
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), BUILTIN_TEMPLATE);
        let template = TemplateSource::Builtin.load(&BTreeMap::new()).unwrap();
        assert!(!template.api.binary_media_types.is_empty());
        assert!(template.functions.iter().any(|f| !f.s3_events.is_empty()));
        assert!(
            template
                .functions
                .iter()
                .all(|f| f.memory_size_mb.is_some())
        );
    }

    #[test]
    fn parameter_overrides_replace_defaults_and_must_exist() {
        let overrides = BTreeMap::from([("Sizes".to_owned(), "64".to_owned())]);
        let template = Template::parse_with(TEMPLATE, &overrides).unwrap();
        assert_eq!(
            template.function("Fn").unwrap().environment["THUMB_SIZES"],
            "64"
        );
        let unknown = BTreeMap::from([("Size".to_owned(), "64".to_owned())]);
        let err = Template::parse_with(TEMPLATE, &unknown).unwrap_err();
        assert!(err.to_string().contains("Size"), "{err}");
    }
}
