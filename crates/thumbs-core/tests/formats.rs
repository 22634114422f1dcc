//! Format sniffing, and every supported format making thumbnails from real files.

mod common;

use common::*;
use thumbs_core::{Config, Error, Format, make_thumbnails, probe, sniff};

#[test]
fn sniffs_every_supported_format_from_magic_bytes() {
    let cases = [
        ("coffee.jpg", Format::Jpeg),
        ("coffee-progressive.jpg", Format::Jpeg),
        ("coffee-cmyk.jpg", Format::Jpeg),
        ("coffee.png", Format::Png),
        ("animated.png", Format::Png),
        ("coffee.gif", Format::Gif),
        ("coffee.webp", Format::WebP),
        ("animated.webp", Format::WebP),
        ("coffee-small.bmp", Format::Bmp),
        ("coffee.tiff", Format::Tiff),
    ];
    for (name, format) in cases {
        assert_eq!(sniff(&fixture(name)), Ok(format), "{name}");
    }
}

#[test]
fn svg_text_empty_and_random_bytes_are_unsupported() {
    let random: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let inputs: [&[u8]; 6] = [
        &fixture("drawing.svg"),
        b"hello, this is text",
        b"",
        &random,
        b"BM but not a bitmap at all",
        b"<?xml version=\"1.0\"?><svg/>",
    ];
    for input in inputs {
        assert_eq!(sniff(input), Err(Error::UnsupportedFormat));
        assert_eq!(
            make_thumbnails(input, &Config::default().sizes, &Config::default()).unwrap_err(),
            Error::UnsupportedFormat
        );
    }
}

#[test]
fn mpo_decodes_as_its_first_jpeg() {
    // An MPO is JPEG images back to back; the first is the primary image.
    let mut mpo = fixture("coffee.jpg");
    mpo.extend_from_slice(&fixture("rocket.jpg"));
    assert_eq!(sniff(&mpo), Ok(Format::Jpeg));
    let thumbs = make_thumbnails(&mpo, &[size(512)], &Config::default()).unwrap();
    assert_eq!((thumbs.source.width, thumbs.source.height), (180, 120));
}

#[test]
fn probe_reads_format_and_size_from_the_header() {
    let limits = Config::default().limits;
    let info = probe(&fixture("rocket.jpg"), &limits).unwrap();
    assert_eq!(
        (info.format, info.width, info.height),
        (Format::Jpeg, 200, 300)
    );
    let info = probe(&fixture("coffee.webp"), &limits).unwrap();
    assert_eq!(
        (info.format, info.width, info.height),
        (Format::WebP, 180, 120)
    );
}

#[test]
fn every_format_gives_a_thumbnail_that_looks_like_the_photo() {
    let reference = rgb(&fixture("coffee.png"));
    for name in [
        "coffee.jpg",
        "coffee-progressive.jpg",
        "coffee.png",
        "coffee.gif",
        "coffee.webp",
        "coffee-small.bmp",
        "coffee.tiff",
    ] {
        let thumb = thumbnail_rgb(name, 512);
        // Smaller sources stay smaller (never upscale); compare at the source's size.
        let reference = image::imageops::resize(
            &reference,
            thumb.width(),
            thumb.height(),
            image::imageops::Lanczos3,
        );
        let error = mean_abs_error(&thumb, &reference);
        assert!(error < 6.0, "{name}: mean error {error:.2}");
    }
}

#[test]
fn sixteen_bit_png_becomes_eight_bit_with_the_same_colours() {
    let error = mean_abs_error(
        &thumbnail_rgb("chelsea-16bit.png", 512),
        &rgb(&fixture("chelsea.png")),
    );
    assert!(error < 3.0, "mean error {error:.2}");
}

#[test]
fn transparent_png_is_flattened_onto_white() {
    let thumb = thumbnail_rgb("coffee-alpha.png", 512);
    let error = mean_abs_error(&thumb, &rgb(&fixture("coffee-alpha-on-white.png")));
    assert!(error < 3.0, "mean error {error:.2}");
    // A fully transparent corner is white, not black.
    assert!(
        thumb.get_pixel(1, 1).0.iter().all(|&c| c > 245),
        "{:?}",
        thumb.get_pixel(1, 1)
    );
}

#[test]
fn animations_give_their_first_frame() {
    // Frame 1 is red, the later ones green and blue.
    for name in ["animated.gif", "animated.webp", "animated.png"] {
        let thumb = thumbnail_rgb(name, 128);
        let [r, g, b] = thumb.get_pixel(thumb.width() / 2, thumb.height() / 2).0;
        assert!(r > 180 && g < 70 && b < 70, "{name}: centre is {r},{g},{b}");
    }
}
