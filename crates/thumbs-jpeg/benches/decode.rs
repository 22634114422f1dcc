//! Decode throughput in source megapixels per second, single-threaded: thumbs-jpeg at 1/8 (and
//! at the scale a 256 px thumbnail needs) against jpeg-decoder with `scale()` (DCT scaling, but it
//! entropy-decodes every scan) and image's zune-jpeg full decode.
//!
//! Big photos are not committed: run `benches/fetch-photos.sh` first (it writes
//! `target/bench-photos/`), or point THUMBS_JPEG_BENCH_DIR at a folder of JPEGs. Without either,
//! the small test fixtures are used. Run: `cargo bench -p thumbs-jpeg --bench decode`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use thumbs_jpeg::{Limits, Scale, decode_scaled, read_header};

fn photos() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var_os("THUMBS_JPEG_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../../target/bench-photos"));
    let dir = if dir.is_dir() {
        dir
    } else {
        eprintln!(
            "no {} (run benches/fetch-photos.sh); using the small fixtures",
            dir.display()
        );
        root.join("tests/fixtures")
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("bench dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    v.sort();
    v
}

/// Best of several runs (the machine is shared; the minimum is the least disturbed).
fn time(mut f: impl FnMut()) -> Duration {
    f();
    let mut best = Duration::MAX;
    let start = Instant::now();
    let mut runs = 0;
    while runs < 3 || (runs < 20 && start.elapsed() < Duration::from_secs(2)) {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
        runs += 1;
    }
    best
}

fn main() {
    let limits = Limits::default();
    println!(
        "{:40} {:>6} {:>9} {:>12} {:>12} {:>12} {:>12}",
        "file", "MP", "MB", "ours 1/8", "ours thumb", "jpeg-dec 1/8", "zune full"
    );
    for path in photos() {
        let bytes = std::fs::read(&path).unwrap();
        let Ok(h) = read_header(&bytes) else { continue };
        if h.colour == thumbs_jpeg::ColourTransform::Cmyk || bytes.len() < 40_000 {
            continue;
        }
        let mp = f64::from(h.width) * f64::from(h.height) / 1e6;
        let rate = |d: Duration| format!("{:8.0} MP/s", mp / d.as_secs_f64());
        let ours = time(|| {
            decode_scaled(&bytes, Scale::Eighth, &limits).unwrap();
        });
        let thumb_scale = Scale::for_target(h.width, h.height, 256);
        let thumb = time(|| {
            decode_scaled(&bytes, thumb_scale, &limits).unwrap();
        });
        let jd = time(|| {
            let mut d = jpeg_decoder::Decoder::new(&bytes[..]);
            d.read_info().unwrap();
            d.scale(h.width.div_ceil(8) as u16, h.height.div_ceil(8) as u16)
                .unwrap();
            d.decode().unwrap();
        });
        let zune = time(|| {
            image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).unwrap();
        });
        println!(
            "{:40} {:6.1} {:9.2} {:>12} {:>12} {:>12} {:>12}   (thumb scale {:?})",
            path.file_name().unwrap().to_string_lossy(),
            mp,
            bytes.len() as f64 / 1e6,
            rate(ours),
            rate(thumb),
            rate(jd),
            rate(zune),
            thumb_scale
        );
    }
}
