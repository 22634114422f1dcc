//! In-process Lambda functions: JSON in, JSON out, as the Lambda service sees them.
//!
//! The gateway and the S3 event delivery only ever hand functions JSON ([`HttpFunction`],
//! [`EventFunction`]), so nothing a real deployment would serialise is skipped locally.
//! [`LambdaHttpFunction`] wraps a `lambda_http` handler exactly the way `lambda_http::run` does:
//! the event is deserialised with lambda_http's own `LambdaRequest` (→ `lambda_http::Request`),
//! and the handler's `Response` goes through lambda_http's own `Adapter` (its `IntoResponse` body
//! conversion and `LambdaResponse::from_response`) back to the proxy response JSON.
//! [`JsonEventFunction`] does the same for event handlers (`S3Event` and friends).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Context, LambdaEvent, Request, Response, Service};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A function invocation failed (what Lambda reports as `errorType` / `errorMessage`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error_type}: {message}")]
pub struct FunctionError {
    pub error_type: String,
    pub message: String,
}

impl FunctionError {
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> FunctionError {
        FunctionError {
            error_type: error_type.into(),
            message: message.into(),
        }
    }
}

/// A function behind an API route: proxy event JSON in, proxy response JSON out.
pub trait HttpFunction: Send + Sync + 'static {
    fn invoke(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>>;
}

/// A function invoked asynchronously by an event source (S3): event JSON in, success or error.
pub trait EventFunction: Send + Sync + 'static {
    fn invoke(&self, event: Value) -> BoxFuture<'_, Result<(), FunctionError>>;
}

/// Any `Fn(Value) -> Future<Result<Value, FunctionError>>` is an [`HttpFunction`] (tests use this).
pub struct JsonFn<F>(pub F);

impl<F, Fut> HttpFunction for JsonFn<F>
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, FunctionError>> + Send + 'static,
{
    fn invoke(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin((self.0)(event))
    }
}

/// A `lambda_http` handler (`Request -> Response<Body>`) run the way `lambda_http::run` runs it.
pub struct LambdaHttpFunction<F> {
    handler: F,
}

impl<F, Fut> LambdaHttpFunction<F>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    pub fn new(handler: F) -> Arc<LambdaHttpFunction<F>> {
        Arc::new(LambdaHttpFunction { handler })
    }
}

impl<F, Fut> HttpFunction for LambdaHttpFunction<F>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    fn invoke(&self, event: Value) -> BoxFuture<'_, Result<Value, FunctionError>> {
        Box::pin(async move {
            // What the runtime does with the bytes Lambda hands it.
            let request: LambdaRequest = serde_json::from_value(event)
                .map_err(|err| FunctionError::new("Runtime.UnmarshalError", err.to_string()))?;
            let service = lambda_http::service_fn(|request: Request| {
                let response = (self.handler)(request);
                async move { Ok::<_, Infallible>(response.await) }
            });
            let mut adapter = lambda_http::Adapter::from(service);
            let response = match adapter
                .call(LambdaEvent::new(request, Context::default()))
                .await
            {
                Ok(response) => response,
                Err(never) => match never {},
            };
            serde_json::to_value(&response)
                .map_err(|err| FunctionError::new("Runtime.MarshalError", err.to_string()))
        })
    }
}

/// An event handler taking a typed event (e.g. `aws_lambda_events` `S3Event`), deserialised from
/// the JSON like `lambda_runtime` does; a deserialisation failure is a function error, as there.
pub struct JsonEventFunction<E, F> {
    handler: F,
    _event: std::marker::PhantomData<fn(E)>,
}

impl<E, F, Fut, Err> JsonEventFunction<E, F>
where
    E: DeserializeOwned + Send + 'static,
    F: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Err>> + Send + 'static,
    Err: std::fmt::Display,
{
    pub fn new(handler: F) -> Arc<JsonEventFunction<E, F>> {
        Arc::new(JsonEventFunction {
            handler,
            _event: std::marker::PhantomData,
        })
    }
}

impl<E, F, Fut, Err> EventFunction for JsonEventFunction<E, F>
where
    E: DeserializeOwned + Send + 'static,
    F: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Err>> + Send + 'static,
    Err: std::fmt::Display,
{
    fn invoke(&self, event: Value) -> BoxFuture<'_, Result<(), FunctionError>> {
        Box::pin(async move {
            let event: E = serde_json::from_value(event)
                .map_err(|err| FunctionError::new("Runtime.UnmarshalError", err.to_string()))?;
            (self.handler)(event)
                .await
                .map_err(|err| FunctionError::new("HandlerError", err.to_string()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(body: &str, base64: bool) -> Value {
        serde_json::json!({
            "resource": "/x", "path": "/x", "httpMethod": "POST",
            "headers": {"host": "localhost", "content-type": "application/octet-stream"},
            "multiValueHeaders": {"host": ["localhost"], "content-type": ["application/octet-stream"]},
            "queryStringParameters": null, "multiValueQueryStringParameters": null,
            "pathParameters": null, "stageVariables": null,
            "requestContext": {"stage": "Prod", "requestId": "r", "resourcePath": "/x", "httpMethod": "POST",
                               "identity": {"sourceIp": "127.0.0.1"}, "apiId": "local"},
            "body": body, "isBase64Encoded": base64,
        })
    }

    #[tokio::test]
    async fn lambda_http_handler_roundtrips_binary_through_json() {
        let echo = LambdaHttpFunction::new(|request: Request| async move {
            let bytes = request.body().to_vec();
            Response::builder()
                .header("content-type", "image/jpeg")
                .body(Body::from(bytes))
                .unwrap()
        });
        let response = echo.invoke(event("/9j/", true)).await.unwrap();
        assert_eq!(response["statusCode"], 200);
        assert_eq!(response["isBase64Encoded"], true);
        assert_eq!(response["body"], "/9j/");
        assert_eq!(
            response["multiValueHeaders"]["content-type"][0],
            "image/jpeg"
        );
    }

    #[tokio::test]
    async fn json_responses_stay_text() {
        let hello = LambdaHttpFunction::new(|_request: Request| async move {
            Response::builder()
                .status(201)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap()
        });
        let response = hello.invoke(event("", false)).await.unwrap();
        assert_eq!(response["statusCode"], 201);
        assert_eq!(response["isBase64Encoded"], false);
        assert_eq!(response["body"], "{}");
    }
}
