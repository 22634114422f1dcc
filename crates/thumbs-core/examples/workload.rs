//! The service workload per file, in process, for quick iteration on the decoder: 128 + 256 +
//! 512 px from one decode at quality 80, best of N runs, with the decode alone timed apart.
//! The release figures come from `scripts/bench` (the real binary, one process per file).
//!
//! Run: `cargo run --profile bench -p thumbs-core --example workload -- FILE...`
//! (THUMBS_WORKLOAD_RUNS sets N, default 5; THUMBS_WORKLOAD_SIZES another list of sizes, for
//! example `256` for the single-size figure).

use std::time::{Duration, Instant};

use thumbs_core::{Config, ThumbnailSize, decode, make_thumbnails};

fn best(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let runs: usize = std::env::var("THUMBS_WORKLOAD_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let sizes: Vec<ThumbnailSize> = std::env::var("THUMBS_WORKLOAD_SIZES")
        .unwrap_or_else(|_| "128,256,512".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .filter_map(ThumbnailSize::new)
        .collect();
    let largest = sizes
        .iter()
        .map(|s| s.get())
        .max()
        .expect("at least one size");
    let mut config = Config::from_lookup(|_| None).expect("default config");
    config.jpeg_quality = 80;
    // The service decodes for its largest configured size: configure these sizes alone.
    config.sizes = sizes.clone();
    let (mut all, mut dec) = (Duration::ZERO, Duration::ZERO);
    println!(
        "{:40} {:>9} {:>9} {:>8}",
        "file", "all ms", "decode ms", "MB/s"
    );
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).expect("read");
        let a = best(runs, || {
            make_thumbnails(&bytes, &sizes, &config).expect("thumbnails");
        });
        let d = best(runs, || {
            decode(&bytes, Some(largest), &config.limits).expect("decode");
        });
        if let Some(dir) = std::env::var_os("THUMBS_WORKLOAD_OUT") {
            let t = make_thumbnails(&bytes, &sizes, &config).expect("thumbnails");
            let stem = std::path::Path::new(&path)
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            for im in t.images {
                let out = std::path::Path::new(&dir).join(format!("{stem}-{}.jpg", im.size));
                std::fs::write(out, &im.jpeg).expect("write");
            }
        }
        all += a;
        dec += d;
        let name = std::path::Path::new(&path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!(
            "{name:40} {:9.1} {:9.1} {:8.1}",
            a.as_secs_f64() * 1e3,
            d.as_secs_f64() * 1e3,
            bytes.len() as f64 / 1e6 / d.as_secs_f64()
        );
    }
    println!(
        "{:40} {:9.1} {:9.1}",
        "total",
        all.as_secs_f64() * 1e3,
        dec.as_secs_f64() * 1e3
    );
}
