//! sniff → probe → decode → colour → resize → orient → encode on arbitrary bytes, with small
//! limits so a header that claims a huge image is rejected before any pixel buffer exists.
//! Invariants: no panic; probe and make_thumbnails agree on the source; outputs fit the box.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thumbs_core::{Config, Limits, ThumbnailSize, make_thumbnails, probe, sniff};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_pixels: 4_000_000,
        max_side: 4096,
        max_input_bytes: 1 << 20,
    };
    let config = Config {
        limits: limits.clone(),
        ..Config::default()
    };
    let _ = sniff(data);
    let Ok(info) = probe(data, &limits) else {
        return;
    };
    assert!(u64::from(info.width) * u64::from(info.height) <= limits.max_pixels);
    let sizes = [ThumbnailSize::new(16).unwrap(), ThumbnailSize::new(64).unwrap()];
    if let Ok(thumbs) = make_thumbnails(data, &sizes, &config) {
        assert_eq!(thumbs.source.format, info.format);
        assert_eq!(thumbs.images.len(), sizes.len());
        for t in &thumbs.images {
            assert!(t.width <= t.size.get() && t.height <= t.size.get());
            assert!(t.width >= 1 && t.height >= 1);
            assert!(t.jpeg.starts_with(&[0xFF, 0xD8]));
        }
    }
});
