//! thumbs-local: the whole thumbs service on one machine, and the `thumbnail` CLI.
//!
//! The local stack is an API Gateway (REST API, Lambda proxy) emulator in front of the three
//! handler libraries linked in-process, an embedded S3 server, and S3 event delivery, all
//! configured from `template.yaml` so that what is misconfigured there misbehaves here the way it
//! would on AWS. It holds no handler logic.
//!
//! - [`cli`]: command-line arguments.
//! - [`thumbnail`]: `thumbs-local thumbnail`, the core pipeline over files on disk.
//! - [`stack`]: wiring and `run`: [`stack::start`] → [`stack::RunningStack`].
//! - [`template`]: reading the SAM template (intrinsics, Globals, routes, S3 filters); the
//!   repository's `template.yaml` is compiled in as the default.
//! - [`routes`]: REST API resource matching (`{id}`, `{proxy+}`).
//! - [`binary`]: `BinaryMediaTypes::matches` with AWS's rules (request Content-Type, response Accept).
//! - [`proxy_event`]: the REST v1 proxy event JSON.
//! - [`gateway`]: the hyper service applying API Gateway's rules and limits.
//! - [`gateway_response`]: API Gateway's own error responses and the template's overrides.
//! - [`functions`]: functions as JSON in/JSON out; lambda_http's own (de)serialisation.
//! - [`handlers`]: constructing the thumbs functions from their template definitions.
//! - [`s3_events`]: S3 notifications to the resize function, async, with Lambda's retries.
//! - [`addresses`]: the `--ready-file` JSON (addresses and credentials for programs).
//! - [`page_key`]: the API key filled into the upload page for loopback visitors.
//! - [`s3_only`]: `thumbs-local s3`, the embedded S3 server alone.
//! - [`function_env`]: `thumbs-local functions`, each function's Lambda configuration as JSON.

pub mod addresses;
pub mod binary;
pub mod cli;
pub mod function_env;
pub mod functions;
pub mod gateway;
pub mod gateway_response;
pub mod handlers;
pub mod page_key;
pub mod proxy_event;
pub mod routes;
pub mod s3_events;
pub mod s3_only;
pub mod stack;
pub mod template;
pub mod thumbnail;
