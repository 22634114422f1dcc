//! thumbs-local: the whole thumbs service on one machine, and the `thumbnail` CLI.
//!
//! - [`cli`]: command-line arguments.
//! - [`thumbnail`]: `thumbs-local thumbnail`, the core pipeline over files on disk.
//! - [`stack`]: the local stack (API Gateway emulator + embedded S3 + S3 event delivery).

pub mod cli;
pub mod stack;
pub mod thumbnail;
