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
//! Environment: SIZES (default 128,256,512), WEBP (list of
//! QUALITY[:METHOD[:SNS[:SHARP_YUV[:MARGIN]]]], QUALITY "match" for the per-thumbnail search,
//! default "match", the shipped settings), AVIF (list of
//! QUANTIZER[:SPEED[:SUBSAMPLED[:TEN_BIT[:ERROR_CUT[:MARGIN[:CUT_CAP]]]]]], QUANTIZER "match" for the
//! per-thumbnail search, whose label then gets the chosen quantizer and the number of encodes;
//! default "match"), RUNS (best-of timing runs, default 3); an empty
//! list skips the format. Prints CSV:
//! photo,size,width,height,format,setting,bytes,ssim,ssim7,ssim_px,ssim7_px,encode_ms (ssim7: 7×7
//! uniform window; ssim_px, ssim7_px: against the pipeline's own pixels, what the encoders'
//! searches see).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use thumbs_core::colour::{self, Bitmap};
use thumbs_core::encode::{EncodeSettings, OutputFormat, avif_search, encode, ssim};
use thumbs_core::resize::{fit_within, resize};
use thumbs_core::{Limits, decode, orient};

/// "QUALITY[:METHOD[:SNS[:SHARP[:MARGIN]]]]" (QUALITY "match" for the per-thumbnail search)
/// over the defaults: the shipped settings are "match".
fn webp_settings(spec: &str) -> EncodeSettings {
    let mut settings = EncodeSettings::default();
    let parts: Vec<&str> = spec.split(':').collect();
    let number = |i: usize| parts.get(i).map(|p| p.parse::<u16>().expect("number"));
    match parts[0] {
        "match" => settings.webp_match_jpeg = true,
        q => {
            settings.webp_match_jpeg = false;
            settings.webp_quality = q.parse().expect("quality");
        }
    }
    if let Some(m) = number(1) {
        settings.webp_method = m as u8;
    }
    if let Some(sns) = number(2) {
        settings.webp_sns_strength = sns as u8;
    }
    if let Some(sharp) = number(3) {
        settings.webp_sharp_yuv = sharp != 0;
    }
    if let Some(margin) = number(4) {
        settings.webp_ssim_margin = margin;
    }
    settings
}

/// "QUANTIZER[:SPEED[:SUBSAMPLED[:TEN_BIT[:ERROR_CUT[:MARGIN[:CUT_CAP]]]]]]" (QUANTIZER "match" for the
/// per-thumbnail search) over the defaults: the shipped settings are "match".
fn avif_settings(spec: &str) -> EncodeSettings {
    let mut settings = EncodeSettings::default();
    let parts: Vec<&str> = spec.split(':').collect();
    let number = |i: usize| parts.get(i).map(|p| p.parse::<u16>().expect("number"));
    match parts[0] {
        "match" => settings.avif_match_jpeg = true,
        q => {
            settings.avif_match_jpeg = false;
            settings.avif_quantizer = q.parse().expect("quantizer");
        }
    }
    if let Some(speed) = number(1) {
        settings.avif_speed = speed as u8;
    }
    if let Some(sub) = number(2) {
        settings.avif_subsampled = sub != 0;
    }
    if let Some(ten) = number(3) {
        settings.avif_ten_bit = ten != 0;
    }
    if let Some(cut) = number(4) {
        settings.avif_error_cut = cut as u8;
    }
    if let Some(margin) = number(5) {
        settings.avif_ssim_margin = margin;
    }
    if let Some(cap) = number(6) {
        settings.avif_cut_cap = cap;
    }
    settings
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
    for spec in std::env::var("WEBP")
        .unwrap_or_else(|_| "match".into())
        .split(',')
        .filter(|p| !p.is_empty())
    {
        let settings = webp_settings(spec);
        candidates.push((OutputFormat::WebP, spec.to_owned(), settings));
    }
    for spec in std::env::var("AVIF")
        .unwrap_or_else(|_| "match".into())
        .split(',')
        .filter(|p| !p.is_empty())
    {
        let settings = avif_settings(spec);
        candidates.push((OutputFormat::Avif, spec.to_owned(), settings));
    }
    let dir = std::env::temp_dir().join(format!("thumbs-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    println!("photo,size,width,height,format,setting,bytes,ssim,ssim7,ssim_px,ssim7_px,encode_ms");
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
                let mut label = label.clone();
                if *format == OutputFormat::Avif && settings.avif_match_jpeg {
                    let pick = avif_search(&pixels, settings).expect("search");
                    label = format!("{label} q{} n{}", pick.quantizer, pick.encodes);
                }
                let decoded = decode_output(*format, &out, &dir);
                let (w, h) = (reference.width as usize, reference.height as usize);
                let ssim = ssim::ssim_rgb(&reference.data, &decoded, w, h);
                let ssim7_px = ssim::ssim_rgb_uniform(&pixels.data, &decoded, w, h);
                let ssim7 = ssim::ssim_rgb_uniform(&reference.data, &decoded, w, h);
                let ssim_px = ssim::ssim_rgb(&pixels.data, &decoded, w, h);
                println!(
                    "{name},{size},{w},{h},{format},{label},{},{ssim:.5},{ssim7:.5},{ssim_px:.5},{ssim7_px:.5},{best:.2}",
                    out.len()
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
