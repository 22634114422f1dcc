//! `thumbs-local s3`: the embedded S3 server alone, with the template's bucket, until stopped.
//!
//! For running the functions' own binaries against it (scripts/lambda-run) or any S3 client.
//! No API, no event delivery: an object stored here invokes nothing.

use std::process::ExitCode;

use thumbs_store::local_server::LocalS3;

use crate::addresses::{Addresses, ReadyFile};
use crate::cli::S3Args;

pub fn run(args: S3Args) -> ExitCode {
    crate::stack::run_on_runtime(async move {
        match serve(&args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        }
    })
}

async fn serve(args: &S3Args) -> Result<(), String> {
    let source = args.template.source();
    let template = source
        .load(&args.template.overrides())
        .map_err(|err| err.to_string())?;
    let bucket = crate::stack::bucket_name(&template);
    let s3 = LocalS3::start(args.data_dir.join("s3"), args.port)
        .await
        .map_err(|err| format!("embedded S3: {err}"))?;
    s3.create_bucket(&bucket)
        .map_err(|err| format!("creating bucket {bucket}: {err}"))?;
    let addresses = Addresses::of_s3(
        &s3.endpoint_url(),
        &bucket,
        &args.data_dir,
        &source.describe(),
    );
    println!("thumbs-local embedded S3 (no API, no event delivery)");
    println!(
        "  endpoint      {}  bucket {}  region {}  (path-style)",
        addresses.s3_endpoint, addresses.bucket, addresses.region
    );
    println!(
        "  credentials   AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={}",
        addresses.access_key_id, addresses.secret_access_key
    );
    println!("  data          {}", addresses.data_dir);
    let ready = args
        .ready_file
        .as_deref()
        .map(|path| ReadyFile::write(path, &addresses))
        .transpose()
        .map_err(|err| format!("ready file: {err}"))?;
    wait_for_stop().await;
    drop(ready);
    drop(s3);
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
