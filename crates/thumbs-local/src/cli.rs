//! Command-line arguments for `thumbs-local`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::template::TemplateSource;

#[derive(Debug, Parser)]
#[command(
    name = "thumbs-local",
    version,
    about = "thumbs on one machine: API Gateway emulator, embedded S3, thumbnail CLI"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options for the local stack when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the local stack (the default).
    Serve(ServeArgs),
    /// Run only the embedded S3 server (with the template's bucket), e.g. for the functions'
    /// own binaries run under a Lambda runtime emulator (scripts/lambda-run).
    S3(S3Args),
    /// Print each function of the template as JSON: binary, memory, timeout and the environment
    /// Lambda would give it (Globals merged, parameters and intrinsics resolved).
    Functions(TemplateArgs),
    /// Make JPEG thumbnails of image files.
    Thumbnail(ThumbnailArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Port for the API and page on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Port of the embedded S3 server on 127.0.0.1 (0 = any free port). Fixed by default, so
    /// presigned upload URLs handed out before a restart still work after it.
    #[arg(long, default_value_t = DEFAULT_S3_PORT)]
    pub s3_port: u16,
    /// Folder for the embedded S3 data and the saved API key.
    #[arg(long, default_value = ".thumbs-data")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub template: TemplateArgs,
    /// Once serving, write the addresses (API, S3 endpoint, bucket, credentials, API key) to
    /// this file as JSON; replaced atomically, removed on a clean stop.
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
    /// Do not fill the API key into the upload page served to loopback clients.
    #[arg(long)]
    pub no_page_key: bool,
}

/// Default port of the embedded S3 server.
pub const DEFAULT_S3_PORT: u16 = 3001;

/// Which template, and its parameter values.
#[derive(Debug, Clone, Args)]
pub struct TemplateArgs {
    /// The SAM template to read routes, binary media types and environment from
    /// (default: the repository's template.yaml, compiled into this binary).
    #[arg(long, value_name = "PATH")]
    pub template: Option<PathBuf>,
    /// A template parameter's value instead of its Default, as `sam deploy
    /// --parameter-overrides` gives it (repeatable), e.g. `--parameter ThumbSizes=100,200`.
    #[arg(long = "parameter", value_name = "NAME=VALUE", value_parser = parse_parameter)]
    pub parameters: Vec<(String, String)>,
}

impl TemplateArgs {
    pub fn source(&self) -> TemplateSource {
        TemplateSource::from_option(self.template.clone())
    }

    pub fn overrides(&self) -> BTreeMap<String, String> {
        self.parameters.iter().cloned().collect()
    }
}

fn parse_parameter(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected NAME=VALUE, got {text:?}")),
    }
}

#[derive(Debug, Clone, Args)]
pub struct S3Args {
    /// Port on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = DEFAULT_S3_PORT)]
    pub port: u16,
    /// Data folder (objects go to its `s3/` sub-folder, as with the full stack).
    #[arg(long, default_value = ".thumbs-data")]
    pub data_dir: PathBuf,
    /// The template whose BUCKET_NAME is created.
    #[command(flatten)]
    pub template: TemplateArgs,
    /// Once serving, write the endpoint, bucket and credentials here as JSON.
    #[arg(long, value_name = "PATH")]
    pub ready_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ThumbnailArgs {
    /// Longest side of a thumbnail; repeat for several sizes.
    #[arg(long = "size", value_name = "N")]
    pub sizes: Vec<u32>,
    /// JPEG quality, 1-100.
    #[arg(long)]
    pub quality: Option<u8>,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Image files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}
