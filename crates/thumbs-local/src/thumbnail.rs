//! `thumbs-local thumbnail` (being written).

use std::process::ExitCode;

use crate::cli::ThumbnailArgs;

pub fn run(_args: &ThumbnailArgs) -> ExitCode {
    ExitCode::FAILURE
}
