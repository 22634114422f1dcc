//! `thumbs-local`: the local stack (default) and the `thumbnail` subcommand.
//! All logic lives in the library; this only parses arguments and dispatches.

use std::process::ExitCode;

use clap::Parser;
use thumbs_local::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Thumbnail(args)) => thumbs_local::thumbnail::run(&args),
        Some(Command::Serve(args)) => thumbs_local::stack::run(args),
        Some(Command::S3(args)) => thumbs_local::s3_only::run(args),
        Some(Command::Functions(args)) => thumbs_local::function_env::run(&args),
        None => thumbs_local::stack::run(cli.serve),
    }
}
