//! `thumbs-local functions`: the template's functions as JSON, the way Lambda would configure
//! them. One reader of the template for the local stack and for scripts that run the
//! functions' real binaries (scripts/lambda-run), so neither copies the variable list.
//!
//! Output: a JSON array, one object per `AWS::Serverless::Function`:
//! `{"logical_id", "binary", "memory_size_mb", "timeout_secs", "environment": {NAME: value}}`
//! (`Globals` merged, parameter defaults or `--parameter` values and intrinsics resolved, for a
//! stack named `thumbs-local` in account `000000000000`).

use std::process::ExitCode;

use serde::Serialize;

use crate::cli::TemplateArgs;
use crate::template::FunctionDef;

#[derive(Debug, Serialize)]
struct Described<'a> {
    logical_id: &'a str,
    binary: Option<&'a str>,
    memory_size_mb: Option<u64>,
    timeout_secs: Option<u64>,
    environment: &'a std::collections::BTreeMap<String, String>,
}

impl<'a> From<&'a FunctionDef> for Described<'a> {
    fn from(f: &'a FunctionDef) -> Described<'a> {
        Described {
            logical_id: &f.logical_id,
            binary: f.binary.as_deref(),
            memory_size_mb: f.memory_size_mb,
            timeout_secs: f.timeout_secs,
            environment: &f.environment,
        }
    }
}

pub fn run(args: &TemplateArgs) -> ExitCode {
    let template = match args.source().load(&args.overrides()) {
        Ok(template) => template,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let described: Vec<Described> = template.functions.iter().map(Described::from).collect();
    match serde_json::to_string_pretty(&described) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
