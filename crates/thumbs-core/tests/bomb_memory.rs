//! Decompression bombs must not allocate: this test binary counts every heap byte.
//! (Its own binary, with one test, so no other test's allocations are counted.)

mod common;
#[path = "common/counting_alloc.rs"]
mod counting_alloc;

use std::sync::atomic::Ordering;

use common::fixture;
use counting_alloc::{CURRENT, PEAK};
use thumbs_core::{Config, Error, make_thumbnails};

#[test]
fn bombs_are_rejected_with_less_than_50_mb_of_heap() {
    let config = Config::default();
    for name in [
        "bomb-30000x30000.png",
        "bomb-65500x65500.jpg",
        "bomb-65535x65535.gif",
    ] {
        let bytes = fixture(name);
        let before = CURRENT.load(Ordering::SeqCst);
        PEAK.store(before, Ordering::SeqCst);
        let err = make_thumbnails(&bytes, &config.sizes, &config).unwrap_err();
        let peak = PEAK.load(Ordering::SeqCst) - before;
        assert!(
            matches!(err, Error::TooManyPixels { .. }),
            "{name}: {err:?}"
        );
        assert!(peak < 50 << 20, "{name}: peak heap {peak} bytes");
        eprintln!("{name}: peak extra heap {} KiB", peak / 1024);
    }
}
