//! The local stack (being written).

use std::process::ExitCode;

use crate::cli::ServeArgs;

pub fn run(_args: ServeArgs) -> ExitCode {
    eprintln!("the local stack is not written yet");
    ExitCode::FAILURE
}
