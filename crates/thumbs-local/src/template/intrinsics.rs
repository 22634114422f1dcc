//! CloudFormation intrinsics (`!Ref`, `!Sub`, `!GetAtt`, `!Join`, `!Select`, `!If` and the
//! condition functions), short and long forms, evaluated against parameter values and the local
//! pseudo parameters.

use std::collections::BTreeMap;

use serde_yaml_ng::{Mapping, Value};

use super::{LOCAL_ACCOUNT_ID, LOCAL_REGION, LOCAL_STACK_NAME};

/// The logical id a `!Ref X` / `{"Ref": X}` names.
pub(super) fn ref_target(value: &Value) -> Option<String> {
    match intrinsic(value) {
        Some(("Ref", arg)) => arg.as_str().map(str::to_owned),
        _ => value.as_str().map(str::to_owned),
    }
}

/// `(function, argument)` for `!Fn arg` and `{"Fn::Fn": arg}` / `{"Ref": arg}`.
pub(super) fn intrinsic(value: &Value) -> Option<(&str, &Value)> {
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
    pub(super) parameters: BTreeMap<String, String>,
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

pub(super) fn plain_scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
