//! `thumbs-local thumbnail` end to end: the real binary over thumbs-core's fixtures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use thumbs_core::{Config, Format, probe};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../thumbs-core/tests/fixtures")
        .join(name)
}

/// A fresh output folder that does not exist yet (the CLI must create it).
fn out_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("thumbnail_cli")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("nested")
}

fn thumbnail(args: &[&str], files: &[PathBuf], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_thumbs-local"))
        .arg("thumbnail")
        .args(args)
        .arg("--out")
        .arg(out)
        .args(files)
        .env_remove("THUMB_SIZES")
        .env_remove("JPEG_QUALITY")
        .output()
        .expect("run thumbs-local")
}

fn jpeg_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let info = probe(&bytes, &Config::default().limits).unwrap();
    assert_eq!(info.format, Format::Jpeg);
    (info.width, info.height)
}

#[test]
fn one_size_writes_stem_dot_jpg() {
    let out = out_dir("one_size");
    let result = thumbnail(
        &["--size", "64"],
        &[fixture("rocket.jpg"), fixture("coffee.png")],
        &out,
    );
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_eq!(jpeg_size(&out.join("rocket.jpg")), (43, 64));
    assert_eq!(jpeg_size(&out.join("coffee.jpg")), (64, 43));
}

#[test]
fn default_sizes_write_stem_dash_size() {
    let out = out_dir("default_sizes");
    let result = thumbnail(&[], &[fixture("rocket.jpg")], &out);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert_eq!(jpeg_size(&out.join("rocket-128.jpg")), (85, 128));
    assert_eq!(jpeg_size(&out.join("rocket-256.jpg")), (171, 256));
    assert_eq!(jpeg_size(&out.join("rocket-512.jpg")), (200, 300)); // never upscaled
}

#[test]
fn bad_files_get_one_line_each_and_the_rest_are_still_done() {
    let out = out_dir("bad_files");
    let files = [
        fixture("drawing.svg"),
        fixture("coffee.jpg"),
        fixture("does-not-exist.png"),
        fixture("bomb-30000x30000.png"),
        fixture("orient-6.jpg"),
    ];
    let result = thumbnail(
        &["--size", "32", "--size", "48", "--quality", "70"],
        &files,
        &out,
    );
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    let svg = format!("{}: not a supported image", files[0].display());
    assert!(lines[0].starts_with(&svg), "{stderr}");
    assert!(
        lines[1].starts_with(&format!("{}: cannot read", files[2].display())),
        "{stderr}"
    );
    assert!(
        lines[2].starts_with(&format!("{}: ", files[3].display())),
        "{stderr}"
    );
    assert!(lines[2].contains("30000x30000"), "{stderr}");
    assert_eq!(jpeg_size(&out.join("coffee-32.jpg")), (32, 21));
    assert_eq!(jpeg_size(&out.join("coffee-48.jpg")), (48, 32));
    assert_eq!(jpeg_size(&out.join("orient-6-48.jpg")), (48, 32)); // upright
}

#[test]
fn invalid_options_are_a_clear_usage_error() {
    let out = out_dir("invalid_options");
    let result = thumbnail(&["--quality", "0"], &[fixture("coffee.jpg")], &out);
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("--quality 0"));
    let result = thumbnail(&["--size", "0"], &[fixture("coffee.jpg")], &out);
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("--size 0"));
}
