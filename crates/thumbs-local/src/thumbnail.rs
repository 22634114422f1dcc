//! `thumbs-local thumbnail [--size N]... [--quality Q] --out DIR FILE...`: the core pipeline
//! over files on disk, for trying sizes and quality without the stack.
//!
//! Output names: `DIR/<stem>.jpg` when one size is asked for, `DIR/<stem>-<N>.jpg` for
//! several. Without `--size`, the sizes are the service's (THUMB_SIZES or its default), so
//! the CLI shows what the service would store. Like ripgrep, a bad input never stops the
//! batch: it gets one `FILE: reason` line on stderr, the other files are still done, and
//! the exit status says whether anything failed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use thumbs_core::{Config, ThumbnailSize, make_thumbnails};

use crate::cli::ThumbnailArgs;

/// Exit status for bad arguments or configuration (as clap uses), distinct from 1 =
/// "some files failed".
const USAGE_ERROR: u8 = 2;

pub fn run(args: &ThumbnailArgs) -> ExitCode {
    let config = match config_for(args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("thumbs-local thumbnail: {message}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    if let Err(err) = fs::create_dir_all(&args.out) {
        eprintln!(
            "{}: cannot create the output folder: {err}",
            args.out.display()
        );
        return ExitCode::FAILURE;
    }
    let mut failures = 0usize;
    for file in &args.files {
        match thumbnail_file(file, &config, &args.out) {
            Ok(written) => {
                for (path, width, height) in written {
                    println!(
                        "{} -> {} ({width}x{height})",
                        file.display(),
                        path.display()
                    );
                }
            }
            Err(reason) => {
                eprintln!("{}: {reason}", file.display());
                failures += 1;
            }
        }
    }
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The service's configuration (environment), with `--size` and `--quality` on top.
fn config_for(args: &ThumbnailArgs) -> Result<Config, String> {
    let mut config = Config::from_env().map_err(|e| e.to_string())?;
    if !args.sizes.is_empty() {
        let mut sizes = args
            .sizes
            .iter()
            .map(|&n| {
                ThumbnailSize::new(n)
                    .ok_or_else(|| format!("--size {n}: must be from 1 to {}", ThumbnailSize::MAX))
            })
            .collect::<Result<Vec<_>, _>>()?;
        sizes.sort_unstable();
        sizes.dedup();
        config.sizes = sizes;
    }
    if let Some(quality) = args.quality {
        if !(1..=100).contains(&quality) {
            return Err(format!("--quality {quality}: must be from 1 to 100"));
        }
        config.jpeg_quality = quality;
    }
    Ok(config)
}

/// Make every configured size of one file; returns what was written.
fn thumbnail_file(
    file: &Path,
    config: &Config,
    out: &Path,
) -> Result<Vec<(PathBuf, u32, u32)>, String> {
    let bytes = fs::read(file).map_err(|e| format!("cannot read: {e}"))?;
    let thumbs = make_thumbnails(&bytes, &config.sizes, config).map_err(|e| e.to_string())?;
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned());
    let stem = stem.unwrap_or_else(|| "image".to_owned());
    let single = thumbs.images.len() == 1;
    let mut written = Vec::with_capacity(thumbs.images.len());
    for thumb in thumbs.images {
        let name = if single {
            format!("{stem}.jpg")
        } else {
            format!("{stem}-{}.jpg", thumb.size)
        };
        let path = out.join(name);
        fs::write(&path, &thumb.jpeg)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push((path, thumb.width, thumb.height));
    }
    Ok(written)
}
