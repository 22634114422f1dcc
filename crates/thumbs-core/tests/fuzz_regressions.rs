//! Inputs the fuzzer (fuzz/, `scripts/fuzz`) found, kept as regressions. This binary counts
//! every heap byte (its own binary, so no other test's allocations are counted).

mod common;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use std::sync::atomic::Ordering;

use common::fixture;
use counting_alloc::{CURRENT, PEAK};
use thumbs_core::{Config, Error, make_thumbnails, probe};

/// A 3.4 KB WebP (VP8X, 64×96) whose EXIF chunk header claims 3.4 GB: image-webp allocated
/// that much in `orientation()`, during the header-only probe, before any limit applied.
#[test]
fn webp_with_a_huge_declared_exif_chunk_is_rejected_without_allocating_it() {
    let config = Config::default();
    let bytes = fixture("fuzz-webp-exif-3gb.webp");
    let before = CURRENT.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let probed = probe(&bytes, &config.limits);
    let made = make_thumbnails(&bytes, &config.sizes, &config);
    let peak = PEAK.load(Ordering::SeqCst) - before;
    assert!(matches!(probed, Err(Error::Undecodable(_))), "{probed:?}");
    assert!(
        matches!(made, Err(Error::Undecodable(_))),
        "{:?}",
        made.map(|t| t.source)
    );
    assert!(peak < 10 << 20, "peak heap {peak} bytes");
}

/// The chunk check must not reject ordinary WebP files.
#[test]
fn ordinary_webp_files_still_decode() {
    let config = Config::default();
    for name in ["coffee.webp", "orient-6.webp", "animated.webp"] {
        let bytes = fixture(name);
        let thumbs = make_thumbnails(&bytes, &config.sizes, &config).unwrap();
        assert_eq!(thumbs.images.len(), config.sizes.len(), "{name}");
    }
}
