//! Colour: CMYK, YCCK and ICC-tagged files must look like the sRGB original.

mod common;

use common::*;

fn colour_error(name: &str) -> f64 {
    mean_abs_error(&thumbnail_rgb(name, 512), &rgb(&fixture("coffee.png")))
}

#[test]
fn plain_adobe_cmyk_jpeg_has_the_right_colours() {
    let error = colour_error("coffee-cmyk.jpg");
    assert!(error < 8.0, "mean error {error:.2}");
}

#[test]
fn ycck_jpeg_has_the_right_colours() {
    let error = colour_error("coffee-ycck.jpg");
    assert!(error < 8.0, "mean error {error:.2}");
}

#[test]
fn adobe_rgb_is_converted_to_srgb() {
    let converted = colour_error("coffee-adobergb.jpg");
    // What a viewer that ignores the profile shows: the test can tell the difference.
    let ignored = mean_abs_error(
        &rgb(&fixture("coffee-adobergb.jpg")),
        &rgb(&fixture("coffee.png")),
    );
    assert!(converted < 3.0, "mean error {converted:.2}");
    assert!(
        ignored > 2.0 * converted,
        "ignored profile {ignored:.2} vs converted {converted:.2}"
    );
}

#[test]
fn display_p3_is_converted_to_srgb() {
    let converted = colour_error("coffee-p3.jpg");
    let ignored = mean_abs_error(
        &rgb(&fixture("coffee-p3.jpg")),
        &rgb(&fixture("coffee.png")),
    );
    assert!(converted < 3.0, "mean error {converted:.2}");
    assert!(
        ignored > 2.0 * converted,
        "ignored profile {ignored:.2} vs converted {converted:.2}"
    );
}
