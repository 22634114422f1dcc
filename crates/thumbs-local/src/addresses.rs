//! Where a running `thumbs-local` can be reached, for programs: the `--ready-file` JSON.
//!
//! Scripts and tests start `thumbs-local --port 0 --ready-file F` and wait for `F` to appear
//! instead of reading the human banner. The file is written once the servers accept
//! connections, to a temporary name in the same folder and then renamed, so a reader sees
//! either no file or all of it. [`ReadyFile`] removes it again when dropped (a clean stop).
//!
//! Fields (all strings unless noted; absent fields are `null`):
//! - `api_url`: `http://127.0.0.1:PORT` (no trailing slash); the upload page is `api_url + "/"`.
//! - `s3_endpoint`, `bucket`, `region`, `access_key_id`, `secret_access_key`: the embedded S3
//!   server (path-style addressing), usable with `aws --endpoint-url` or any SDK.
//! - `api_key` and `api_key_required` (bool): the `x-api-key` for writes.
//! - `data_dir`, `template`, `pid` (number).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thumbs_store::local_server::{LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY};

use crate::stack::RunningStack;

/// The contents of the ready file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Addresses {
    pub api_url: Option<String>,
    pub s3_endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub api_key: Option<String>,
    pub api_key_required: bool,
    pub data_dir: String,
    pub template: String,
    pub pid: u32,
}

/// Region the embedded S3 server signs and is addressed with.
pub const LOCAL_S3_REGION: &str = "us-east-1";

impl Addresses {
    pub fn of_stack(stack: &RunningStack) -> Addresses {
        Addresses {
            api_url: Some(stack.api_url.clone()),
            api_key: Some(stack.api_key.clone()),
            api_key_required: stack.api_key_required,
            ..Addresses::of_s3(
                &stack.s3_url,
                &stack.bucket,
                &stack.data_dir,
                &stack.template,
            )
        }
    }

    /// The embedded S3 server alone (`thumbs-local s3`).
    pub fn of_s3(endpoint: &str, bucket: &str, data_dir: &Path, template: &str) -> Addresses {
        Addresses {
            api_url: None,
            s3_endpoint: endpoint.to_owned(),
            bucket: bucket.to_owned(),
            region: LOCAL_S3_REGION.to_owned(),
            access_key_id: LOCAL_ACCESS_KEY.to_owned(),
            secret_access_key: LOCAL_SECRET_KEY.to_owned(),
            api_key: None,
            api_key_required: false,
            data_dir: std::path::absolute(data_dir)
                .unwrap_or_else(|_| data_dir.to_owned())
                .display()
                .to_string(),
            template: template.to_owned(),
            pid: std::process::id(),
        }
    }
}

/// A written ready file; dropping it removes the file.
#[derive(Debug)]
pub struct ReadyFile {
    path: PathBuf,
}

impl ReadyFile {
    /// Writes `addresses` to `path` atomically (temporary file in the same folder, then rename;
    /// mode 0600 on Unix, as it holds the API key).
    pub fn write(path: &Path, addresses: &Addresses) -> std::io::Result<ReadyFile> {
        let json = serde_json::to_string_pretty(addresses).map_err(std::io::Error::other)?;
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&folder)?;
        let name = path
            .file_name()
            .ok_or_else(|| std::io::Error::other(format!("{}: not a file name", path.display())))?;
        let mut temporary_name = std::ffi::OsString::from(".");
        temporary_name.push(name);
        temporary_name.push(format!(".{}.tmp", std::process::id()));
        let temporary = folder.join(temporary_name);
        let written = (|| {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temporary)?;
            file.write_all(json.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::rename(&temporary, path)
        })();
        if let Err(err) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(std::io::Error::new(
                err.kind(),
                format!("{}: {err}", path.display()),
            ));
        }
        Ok(ReadyFile {
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ReadyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_whole_and_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/ready.json");
        let addresses = Addresses::of_s3("http://127.0.0.1:1", "b", dir.path(), "t");
        let ready = ReadyFile::write(&path, &addresses).unwrap();
        let read: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(read["s3_endpoint"], "http://127.0.0.1:1");
        assert_eq!(read["api_url"], serde_json::Value::Null);
        assert_eq!(read["access_key_id"], LOCAL_ACCESS_KEY);
        // Only the file itself is left in the folder: the temporary name was renamed away.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("ready.json")]);
        drop(ready);
        assert!(!path.exists());
    }
}
