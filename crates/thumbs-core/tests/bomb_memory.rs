//! Decompression bombs must not allocate: this test binary counts every heap byte.
//! (Its own binary, with one test, so no other test's allocations are counted.)

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::fixture;
use thumbs_core::{Config, Error, make_thumbnails};

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

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
