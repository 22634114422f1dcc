//! `cargo bench -p thumbs-core`: the full pipeline on fixtures (default sizes), and the stages
//! (decode → sRGB → resize → encode, one 256 px thumbnail) on camera photos from the
//! `scripts/bench` set when `bench-data/set` exists (run `scripts/bench` once to fetch it).

use criterion::{Criterion, criterion_group, criterion_main};
use thumbs_core::colour::to_srgb;
use thumbs_core::encode::encode_jpeg;
use thumbs_core::resize::{fit_within, resize};
use thumbs_core::{Config, Limits, decode, make_thumbnails};

fn pipeline(c: &mut Criterion) {
    let config = Config::default();
    for name in ["coffee.jpg", "coffee.png", "coffee-adobergb.jpg"] {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).expect("fixture");
        c.bench_function(&format!("make_thumbnails {name}"), |b| {
            b.iter(|| make_thumbnails(&bytes, &config.sizes, &config).expect("thumbnails"))
        });
    }
}

/// Camera photos: one baseline 8 MP, one progressive 8 MP, the 20 MP q100 progressive.
fn stages(c: &mut Criterion) {
    let set = format!("{}/../../bench-data/set", env!("CARGO_MANIFEST_DIR"));
    let limits = Limits::default();
    let size = 256;
    for name in [
        "beacon-street-sunset.jpg",
        "oakland-zoo-otters-progressive.jpg",
        "big-q100-20mp-progressive.jpg",
    ] {
        let Ok(bytes) = std::fs::read(format!("{set}/{name}")) else {
            eprintln!("{set}/{name} missing: run scripts/bench once; skipping stage benches");
            return;
        };
        let decoded = decode(&bytes, Some(size), &limits).expect("decode");
        let (w, h) = fit_within(decoded.stored_width, decoded.stored_height, size);
        c.bench_function(&format!("stage decode {name}"), |b| {
            b.iter(|| decode(&bytes, Some(size), &limits).expect("decode"))
        });
        let pixels = decoded.pixels.clone();
        c.bench_function(&format!("stage srgb {name}"), |b| {
            b.iter(|| to_srgb(pixels.clone(), decoded.icc_profile.as_deref()).expect("srgb"))
        });
        let rgb = to_srgb(decoded.pixels.clone(), None).expect("srgb");
        c.bench_function(
            &format!(
                "stage resize {name} {}x{} -> {w}x{h}",
                rgb.width, rgb.height
            ),
            |b| b.iter(|| resize(&rgb, w, h).expect("resize")),
        );
        let small = resize(&rgb, w, h).expect("resize");
        c.bench_function(&format!("stage encode {name} {w}x{h}"), |b| {
            b.iter(|| encode_jpeg(&small, 80).expect("encode"))
        });
    }
}

criterion_group!(benches, pipeline, stages);
criterion_main!(benches);
