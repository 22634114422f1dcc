//! `cargo bench -p thumbs-core`: the full pipeline on a fixture, default sizes.

use criterion::{Criterion, criterion_group, criterion_main};
use thumbs_core::{Config, make_thumbnails};

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

criterion_group!(benches, pipeline);
criterion_main!(benches);
