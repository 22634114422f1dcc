//! The real `thumbs-local` binary as a newcomer meets it: started from an empty folder (no
//! template.yaml there), found through its `--ready-file`, its page and the embedded S3 reachable
//! with what the file says; `thumbs-local functions` and `--template` / `--parameter`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BROWSER_PAGE_ACCEPT, send};

const BIN: &str = env!("CARGO_BIN_EXE_thumbs-local");

/// A child process killed (and reaped) when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn empty_folder(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("run_anywhere")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `thumbs-local ARGS` in `cwd` with `--ready-file`, waits for the file (bounded).
fn start(cwd: &Path, args: &[&str]) -> (Running, serde_json::Value, PathBuf) {
    let ready = cwd.join("ready.json");
    let child = Command::new(BIN)
        .args(args)
        .arg("--ready-file")
        .arg(&ready)
        .current_dir(cwd)
        .env_remove("THUMBS_API_KEY")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn thumbs-local");
    let mut running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready.exists() {
        if let Some(status) = running.0.try_wait().unwrap() {
            panic!("thumbs-local exited before it was ready: {status}");
        }
        assert!(Instant::now() < deadline, "no ready file within 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let json = serde_json::from_str(&std::fs::read_to_string(&ready).unwrap()).unwrap();
    (running, json, ready)
}

#[tokio::test]
async fn starts_from_an_empty_folder_with_the_built_in_template() {
    let cwd = empty_folder("builtin");
    let (mut running, ready, ready_path) = start(
        &cwd,
        &["--port", "0", "--s3-port", "0", "--data-dir", "data"],
    );
    assert!(
        ready["template"].as_str().unwrap().starts_with("built-in"),
        "{ready}"
    );
    let api = ready["api_url"].as_str().unwrap();
    assert!(api.starts_with("http://127.0.0.1:"), "{api}");
    let key = ready["api_key"].as_str().unwrap();
    assert_eq!(ready["api_key_required"], true);
    // The key is the one kept in the data folder, which is under the working directory.
    assert_eq!(
        std::fs::read_to_string(cwd.join("data/api-key"))
            .unwrap()
            .trim(),
        key
    );
    assert_eq!(
        Path::new(ready["data_dir"].as_str().unwrap()),
        std::path::absolute(cwd.join("data")).unwrap()
    );

    // The page, from this machine: the key is filled in.
    let page = send(
        "GET",
        &format!("{api}/"),
        &[("Accept", BROWSER_PAGE_ACCEPT)],
        b"",
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("id=\"api-key\""));
    assert!(
        page.text()
            .contains(&format!("<meta name=\"thumbs-api-key\" content=\"{key}\">")),
        "no key in the loopback page"
    );
    // The same page asked for under another site's name carries no key.
    let port = api.rsplit(':').next().unwrap();
    let foreign = send(
        "GET",
        &format!("{api}/"),
        &[("Host", &format!("example.com:{port}"))],
        b"",
    )
    .await;
    assert_eq!(foreign.status, 200);
    assert!(foreign.text().contains("id=\"api-key\""));
    assert!(
        !foreign.text().contains(key),
        "key served to a foreign Host"
    );

    // The embedded S3 answers at the advertised endpoint (unsigned: refused, but by S3).
    let endpoint = ready["s3_endpoint"].as_str().unwrap();
    let bucket = ready["bucket"].as_str().unwrap();
    let s3 = send("GET", &format!("{endpoint}/{bucket}/"), &[], b"").await;
    assert_eq!(s3.status, 403, "{}", s3.text());
    assert!(s3.text().contains("<Error>"), "{}", s3.text());

    // Ctrl-C: a clean stop removes the ready file.
    let pid = running.0.id().to_string();
    let status = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while running.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!ready_path.exists(), "ready file left after a clean stop");
}

#[tokio::test]
async fn no_page_key_serves_the_page_as_on_aws() {
    let cwd = empty_folder("no_page_key");
    let (_running, ready, _) = start(
        &cwd,
        &[
            "--port",
            "0",
            "--s3-port",
            "0",
            "--data-dir",
            "data",
            "--no-page-key",
        ],
    );
    let api = ready["api_url"].as_str().unwrap();
    let page = send("GET", &format!("{api}/"), &[], b"").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("id=\"api-key\""));
    assert!(!page.text().contains("thumbs-api-key\" content"));
}

#[test]
fn functions_prints_the_template_environment_with_parameter_overrides() {
    let cwd = empty_folder("functions");
    let output = Command::new(BIN)
        .args(["functions", "--parameter", "ThumbSizes=64,150"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let functions: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let functions = functions.as_array().unwrap();
    let binaries: Vec<&str> = functions
        .iter()
        .map(|f| f["binary"].as_str().unwrap())
        .collect();
    assert_eq!(binaries.len(), 3);
    for want in ["thumbs-upload", "thumbs-resize", "thumbs-serve"] {
        assert!(binaries.contains(&want), "{binaries:?}");
    }
    for f in functions {
        let env = &f["environment"];
        assert_eq!(env["THUMB_SIZES"], "64,150", "{f}");
        assert_eq!(env["JPEG_QUALITY"], "80", "{f}");
        assert_eq!(env["BUCKET_NAME"], "thumbs-local-000000000000-images");
        assert!(f["memory_size_mb"].as_u64().unwrap() >= 128, "{f}");
    }

    // A parameter the template does not declare is refused, as CloudFormation would.
    let bad = Command::new(BIN)
        .args(["functions", "--parameter", "ThumbSize=64"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("ThumbSize"));

    // --template reads another file; one that is missing is named in the error.
    let missing = Command::new(BIN)
        .args(["functions", "--template", "nowhere.yaml"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nowhere.yaml"));
    let other = cwd.join("other.yaml");
    std::fs::write(
        &other,
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Environment:\n        Variables:\n          A: b\n",
    )
    .unwrap();
    let output = Command::new(BIN)
        .args(["functions", "--template"])
        .arg(&other)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let functions: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(functions[0]["logical_id"], "F");
    assert_eq!(functions[0]["environment"]["A"], "b");
}
