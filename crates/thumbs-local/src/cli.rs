//! Command-line arguments for `thumbs-local`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    /// Make JPEG thumbnails of image files.
    Thumbnail(ThumbnailArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Port for the API and page on 127.0.0.1 (0 = any free port).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Folder for the embedded S3 data.
    #[arg(long, default_value = ".thumbs-data")]
    pub data_dir: PathBuf,
    /// The SAM template to read routes, binary media types and environment from.
    #[arg(long, default_value = "template.yaml")]
    pub template: PathBuf,
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
