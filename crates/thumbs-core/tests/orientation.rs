//! EXIF orientations 1–8: every fixture stores its pixels turned so that applying its tag
//! gives `orient-reference.png`; the thumbnail must come out upright.

mod common;

use common::*;
use thumbs_core::{Config, make_thumbnails, probe};

fn assert_upright(name: &str) {
    let reference = rgb(&fixture("orient-reference.png"));
    let thumb = thumbnail_rgb(name, 512);
    assert_eq!(thumb.dimensions(), reference.dimensions(), "{name}");
    let error = mean_abs_error(&thumb, &reference);
    assert!(
        error < 6.0,
        "{name}: mean error {error:.2} against the upright reference"
    );
}

#[test]
fn jpeg_orientations_1_to_8_come_out_upright() {
    for n in 1..=8 {
        assert_upright(&format!("orient-{n}.jpg"));
    }
}

#[test]
fn png_webp_and_tiff_exif_orientation_is_applied() {
    for name in ["orient-6.png", "orient-6.webp", "orient-6.tiff"] {
        assert_upright(name);
    }
}

#[test]
fn a_wrong_turn_would_be_caught() {
    // The check above has teeth: a file whose tag is ignored does not pass for upright.
    let reference = rgb(&fixture("orient-reference.png"));
    let stored = rgb(&fixture("orient-3.jpg")); // upside down as stored
    assert!(mean_abs_error(&stored, &reference) > 15.0);
}

#[test]
fn probe_and_thumbnails_report_the_displayed_size() {
    let bytes = fixture("orient-6.jpg"); // stored 64x96, shown 96x64
    let info = probe(&bytes, &Config::default().limits).unwrap();
    assert_eq!((info.width, info.height), (96, 64));
    let thumbs = make_thumbnails(&bytes, &[size(48)], &Config::default()).unwrap();
    assert_eq!((thumbs.images[0].width, thumbs.images[0].height), (48, 32));
}
