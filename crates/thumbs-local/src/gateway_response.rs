//! Responses API Gateway produces itself (no function involved), with the template's
//! `GatewayResponses` overrides applied.
//!
//! Defaults are what a REST API answers out of the box: a JSON body
//! `{"message": $context.error.messageString}` and an `x-amzn-ErrorType` header. A
//! `GatewayResponses` entry for the specific type replaces status, adds headers and replaces the
//! body template; otherwise `DEFAULT_4XX` / `DEFAULT_5XX` supply headers and template.

use crate::template::ApiSettings;

/// The gateway response types the emulator produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayError {
    /// No resource or no method for the request: REST APIs answer 403, not 404.
    MissingAuthenticationToken,
    /// `ApiKeyRequired` and the `x-api-key` header is missing or wrong.
    InvalidApiKey,
    /// The event (the body base64-encoded, with the request's headers) over Lambda's 6 MB
    /// payload limit. A body over 10 MB never gets here: AWS's front end refuses it first.
    RequestTooLarge,
    /// The function did not answer within the integration timeout (29 s).
    IntegrationTimeout,
    /// The function failed, timed out on its own, returned a malformed or >6 MB response.
    InternalServerError,
    /// The response was marked base64 and Accept asked for binary, but it does not decode:
    /// "Unable to base64 decode the body", 500.
    ResponseTransformFailed,
}

impl GatewayError {
    /// The `GatewayResponses` key.
    pub fn response_type(self) -> &'static str {
        match self {
            GatewayError::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            GatewayError::InvalidApiKey => "INVALID_API_KEY",
            GatewayError::RequestTooLarge => "REQUEST_TOO_LARGE",
            GatewayError::IntegrationTimeout => "INTEGRATION_TIMEOUT",
            GatewayError::InternalServerError | GatewayError::ResponseTransformFailed => {
                "DEFAULT_5XX"
            }
        }
    }

    pub fn status(self) -> u16 {
        match self {
            GatewayError::MissingAuthenticationToken | GatewayError::InvalidApiKey => 403,
            GatewayError::RequestTooLarge => 413,
            GatewayError::IntegrationTimeout => 504,
            GatewayError::InternalServerError => 502,
            GatewayError::ResponseTransformFailed => 500,
        }
    }

    /// `$context.error.message`.
    pub fn message(self) -> &'static str {
        match self {
            GatewayError::MissingAuthenticationToken => "Missing Authentication Token",
            GatewayError::InvalidApiKey => "Forbidden",
            GatewayError::RequestTooLarge => "Request Too Long",
            GatewayError::IntegrationTimeout => "Endpoint request timed out",
            GatewayError::InternalServerError | GatewayError::ResponseTransformFailed => {
                "Internal server error"
            }
        }
    }

    fn error_type(self) -> &'static str {
        match self {
            GatewayError::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            GatewayError::InvalidApiKey => "ForbiddenException",
            // Recorded against AWS for an event over 6 MB (413 `{"message": "Request Too Long"}`,
            // `x-amzn-ErrorType: BadRequestException`):
            // https://github.com/koki-develop/lgtm-generator/issues/10
            GatewayError::RequestTooLarge => "BadRequestException",
            GatewayError::IntegrationTimeout
            | GatewayError::InternalServerError
            | GatewayError::ResponseTransformFailed => "InternalServerErrorException",
        }
    }
}

/// A rendered gateway response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Renders `error` for `api`, applying the template's overrides.
pub fn render(error: GatewayError, api: &ApiSettings, request_id: &str) -> Rendered {
    let fallback = if error.status() >= 500 {
        "DEFAULT_5XX"
    } else {
        "DEFAULT_4XX"
    };
    let specific = api.gateway_responses.get(error.response_type());
    let general = api.gateway_responses.get(fallback);
    let status = specific.and_then(|o| o.status).unwrap_or(error.status());
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("x-amzn-ErrorType".to_owned(), error.error_type().to_owned()),
    ];
    for source in [general, specific].into_iter().flatten() {
        for (name, value) in &source.headers {
            headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.clone()));
        }
    }
    let template = specific
        .and_then(|o| o.template.as_deref())
        .or_else(|| general.and_then(|o| o.template.as_deref()))
        .unwrap_or(r#"{"message":$context.error.messageString}"#);
    let quoted = serde_json::Value::String(error.message().to_owned()).to_string();
    let body = template
        .replace("$context.error.messageString", &quoted)
        .replace("$context.error.message", error.message())
        .replace("$context.error.responseType", error.response_type())
        .replace("$context.requestId", request_id);
    Rendered {
        status,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::GatewayResponseOverride;

    #[test]
    fn defaults_are_aws_bodies() {
        let api = ApiSettings::default();
        let r = render(GatewayError::MissingAuthenticationToken, &api, "id");
        assert_eq!(
            (r.status, r.body.as_str()),
            (403, r#"{"message":"Missing Authentication Token"}"#)
        );
        let r = render(GatewayError::InvalidApiKey, &api, "id");
        assert_eq!(
            (r.status, r.body.as_str()),
            (403, r#"{"message":"Forbidden"}"#)
        );
        let r = render(GatewayError::RequestTooLarge, &api, "id");
        assert_eq!(
            (r.status, r.body.as_str()),
            (413, r#"{"message":"Request Too Long"}"#)
        );
        let r = render(GatewayError::IntegrationTimeout, &api, "id");
        assert_eq!(
            (r.status, r.body.as_str()),
            (504, r#"{"message":"Endpoint request timed out"}"#)
        );
        let r = render(GatewayError::InternalServerError, &api, "id");
        assert_eq!(
            (r.status, r.body.as_str()),
            (502, r#"{"message":"Internal server error"}"#)
        );
    }

    #[test]
    fn template_overrides_apply() {
        let mut api = ApiSettings::default();
        api.gateway_responses.insert(
            "MISSING_AUTHENTICATION_TOKEN".into(),
            GatewayResponseOverride {
                status: Some(404),
                headers: vec![("Access-Control-Allow-Origin".into(), "*".into())],
                template: Some(
                    r#"{"error":{"code":"not_found","message":$context.error.messageString}}"#
                        .into(),
                ),
            },
        );
        let r = render(GatewayError::MissingAuthenticationToken, &api, "id");
        assert_eq!(r.status, 404);
        assert_eq!(
            r.body,
            r#"{"error":{"code":"not_found","message":"Missing Authentication Token"}}"#
        );
        assert!(
            r.headers
                .iter()
                .any(|(n, v)| n == "Access-Control-Allow-Origin" && v == "*")
        );
    }
}
