//! Measures the thumbnail formats: for each photo and size, the pipeline's pixels encoded as
//! JPEG, WebP and AVIF at several settings, with bytes, encode time and SSIM against a
//! full-decode reference (the whole image decoded without shrink-on-load, then resized).
//! docs/performance.md ("Formats") was made with it.
//!
//! AVIF is decoded for the SSIM by `avifdec` (Debian package libavif-bin) as a subprocess;
//! JPEG and WebP by the `image` crate.
//!
//! ```text
//! cargo run --release -p thumbs-core --example formats -- PHOTO... > formats.csv
//! ```
//! Environment: SIZES (default 128,256,512), WEBP (quality:method list, "match" for the
//! JPEG-matched quality, default match:4,80:4), AVIF (quality:speed list, default
//! 70:8,80:8), RUNS (best-of timing runs, default 3); an empty list skips the format. Prints CSV: photo,size,width,height,format,setting,bytes,ssim,encode_ms.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use thumbs_core::colour::{self, Bitmap};
use thumbs_core::encode::{EncodeSettings, OutputFormat, encode, ssim};
use thumbs_core::resize::{fit_within, resize};
use thumbs_core::{Limits, decode, orient};

/// "a:b,c:d" → [(a, b), (c, d)]; "match" as the first number is 0.
fn pairs(var: &str, default: &str) -> Vec<(u8, u8)> {
    std::env::var(var)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (a, b) = p.split_once(':').expect("quality:speed");
            let a = if a == "match" {
                0
            } else {
                a.parse().expect("number")
            };
            (a, b.parse().expect("number"))
        })
        .collect()
}

fn thumbnail(bytes: &[u8], largest: Option<u32>, size: u32) -> Bitmap {
    let limits = Limits {
        max_pixels: 200_000_000,
        ..Limits::default()
    };
    let decoded = decode(bytes, largest, &limits).expect("decodable photo");
    let pixels = colour::to_srgb(decoded.pixels, decoded.icc_profile.as_deref()).expect("srgb");
    let (w, h) = fit_within(decoded.stored_width, decoded.stored_height, size);
    orient::apply(resize(&pixels, w, h).expect("resize"), decoded.orientation).expect("orient")
}

fn decode_output(format: OutputFormat, bytes: &[u8], dir: &Path) -> Vec<u8> {
    if format != OutputFormat::Avif {
        return image::load_from_memory(bytes)
            .expect("decodable output")
            .into_rgb8()
            .into_raw();
    }
    let (avif, png) = (dir.join("t.avif"), dir.join("t.png"));
    std::fs::write(&avif, bytes).expect("write avif");
    let status = Command::new("avifdec")
        .args(["--depth", "8"])
        .arg(&avif)
        .arg(&png)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("avifdec (apt-get install libavif-bin)");
    assert!(status.success(), "avifdec failed");
    image::open(&png)
        .expect("avifdec's PNG")
        .into_rgb8()
        .into_raw()
}

fn main() {
    let sizes: Vec<u32> = std::env::var("SIZES")
        .unwrap_or_else(|_| "128,256,512".into())
        .split(',')
        .map(|s| s.parse().expect("size"))
        .collect();
    let runs: usize = std::env::var("RUNS").map_or(3, |r| r.parse().expect("RUNS"));
    let mut candidates: Vec<(OutputFormat, String, EncodeSettings)> =
        vec![(OutputFormat::Jpeg, "q80".into(), EncodeSettings::default())];
    for (q, m) in pairs("WEBP", "match:4,80:4") {
        let settings = EncodeSettings {
            webp_quality: q,
            webp_match_jpeg: q == 0,
            webp_method: m,
            ..EncodeSettings::default()
        };
        let label = if q == 0 {
            "matched".to_owned()
        } else {
            format!("q{q}")
        };
        candidates.push((OutputFormat::WebP, format!("{label} m{m}"), settings));
    }
    for (q, s) in pairs("AVIF", "70:8,80:8") {
        let settings = EncodeSettings {
            avif_quality: q,
            avif_speed: s,
            ..EncodeSettings::default()
        };
        candidates.push((OutputFormat::Avif, format!("q{q} s{s}"), settings));
    }
    let dir = std::env::temp_dir().join(format!("thumbs-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    println!("photo,size,width,height,format,setting,bytes,ssim,encode_ms");
    let largest = sizes.iter().copied().max();
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let name = Path::new(&path).file_name().unwrap().to_string_lossy();
        for &size in &sizes {
            let reference = thumbnail(&bytes, None, size);
            let pixels = thumbnail(&bytes, largest, size);
            for (format, label, settings) in &candidates {
                let mut best = f64::INFINITY;
                let mut out = Vec::new();
                for _ in 0..runs {
                    let start = Instant::now();
                    out = encode(&pixels, *format, settings).expect("encode");
                    best = best.min(start.elapsed().as_secs_f64() * 1000.0);
                }
                let decoded = decode_output(*format, &out, &dir);
                let (w, h) = (reference.width as usize, reference.height as usize);
                let ssim = ssim::ssim_rgb(&reference.data, &decoded, w, h);
                println!(
                    "{name},{size},{w},{h},{format},{label},{},{ssim:.5},{best:.2}",
                    out.len()
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
