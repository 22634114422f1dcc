//! Limits are enforced from the header, before pixels: bombs fail fast with the header's size.

mod common;

use std::time::{Duration, Instant};

use common::*;
use thumbs_core::{Config, Error, Limits, make_thumbnails, probe};

fn rejected_at_header(name: &str, width: u32, height: u32) {
    let config = Config::default();
    let bytes = fixture(name);
    let start = Instant::now();
    let err = make_thumbnails(&bytes, &config.sizes, &config).unwrap_err();
    let elapsed = start.elapsed();
    // The error carries the header's claim: it was raised before any decoder produced pixels.
    assert_eq!(
        err,
        Error::TooManyPixels {
            width,
            height,
            limit: 100_000_000
        },
        "{name}"
    );
    assert_eq!(probe(&bytes, &config.limits).unwrap_err(), err, "{name}");
    // The goal is < 50 ms; assert loosely so a busy CI machine does not flake.
    assert!(elapsed < Duration::from_millis(500), "{name}: {elapsed:?}");
    eprintln!("{name}: rejected in {elapsed:?}");
}

#[test]
fn png_claiming_30000x30000_is_rejected_from_its_header() {
    rejected_at_header("bomb-30000x30000.png", 30000, 30000);
}

#[test]
fn jpeg_claiming_65500x65500_is_rejected_from_its_header() {
    rejected_at_header("bomb-65500x65500.jpg", 65500, 65500);
}

#[test]
fn gif_with_a_65535x65535_canvas_is_rejected_from_its_header() {
    rejected_at_header("bomb-65535x65535.gif", 65535, 65535);
}

#[test]
fn input_over_the_byte_limit_is_rejected_before_decoding() {
    let mut config = Config::default();
    config.limits.max_input_bytes = 1000;
    let bytes = fixture("coffee.jpg");
    assert_eq!(
        make_thumbnails(&bytes, &config.sizes, &config).unwrap_err(),
        Error::InputTooLarge {
            bytes: bytes.len(),
            limit: 1000
        }
    );
}

#[test]
fn pixel_and_side_limits_apply_to_ordinary_images_too() {
    let limits = Limits {
        max_pixels: 10_000,
        ..Limits::default()
    };
    assert_eq!(
        probe(&fixture("coffee.png"), &limits).unwrap_err(),
        Error::TooManyPixels {
            width: 180,
            height: 120,
            limit: 10_000
        }
    );
    let limits = Limits {
        max_side: 100,
        ..Limits::default()
    };
    assert_eq!(
        probe(&fixture("rocket.jpg"), &limits).unwrap_err(),
        Error::SideTooLong {
            width: 200,
            height: 300,
            limit: 100
        }
    );
}

#[test]
fn truncated_jpeg_shows_what_arrived_and_grey_below() {
    // Policy (crate docs): like a browser, render the part that decoded.
    let thumb = thumbnail_rgb("truncated.jpg", 512);
    let reference = rgb(&fixture("coffee.png"));
    assert_eq!(thumb.dimensions(), reference.dimensions());
    let top = |img: &image::RgbImage| image::imageops::crop_imm(img, 0, 0, 180, 40).to_image();
    let error = mean_abs_error(&top(&thumb), &top(&reference));
    assert!(
        error < 6.0,
        "the top third should be the photo: mean error {error:.2}"
    );
    let [r, g, b] = thumb.get_pixel(90, 118).0;
    assert!(
        r.abs_diff(g) < 24 && g.abs_diff(b) < 24,
        "missing rows are flat grey: {r},{g},{b}"
    );
}

#[test]
fn jpeg_truncated_before_any_scan_is_undecodable() {
    let config = Config::default();
    let err =
        make_thumbnails(&fixture("truncated-header.jpg"), &config.sizes, &config).unwrap_err();
    assert!(matches!(err, Error::Undecodable(_)), "{err:?}");
}

#[test]
fn truncated_png_is_undecodable() {
    let config = Config::default();
    let err = make_thumbnails(&fixture("truncated.png"), &config.sizes, &config).unwrap_err();
    assert!(matches!(err, Error::Undecodable(_)), "{err:?}");
}
