//! Every fixture kind at every scale against a full reference decode (jpeg-decoder), box-averaged
//! by the scale factor: mean absolute error per channel must stay small.

mod common;

use thumbs_jpeg::{ColourTransform, PixelFormat, Scale, read_header};

const SCALES: [Scale; 4] = [Scale::Eighth, Scale::Quarter, Scale::Half, Scale::Full];

fn check(name: &str, limit: f64) {
    check_with(name, limit, limit);
}

/// `eighth_limit` applies at 1/8: a progressive file with subsampled chroma keeps only the chroma
/// DC there (its AC scans are skipped unread) and upsamples it with the triangle filter, so colour
/// edges are softer than the box average of a full decode.
fn check_with(name: &str, eighth_limit: f64, limit: f64) {
    let bytes = common::fixture(name);
    for s in SCALES {
        let err = common::mae(&bytes, s);
        println!("{name:36} {s:?}: {err:.3?}");
        let l = if s == Scale::Eighth {
            eighth_limit
        } else {
            limit
        };
        for e in &err {
            assert!(*e < l, "{name} at {s:?}: MAE {err:?}");
        }
    }
}

#[test]
fn baseline_420() {
    check("coffee-420.jpg", 2.0);
}

#[test]
fn baseline_422() {
    check("coffee-422.jpg", 2.0);
}

#[test]
fn baseline_440() {
    check("coffee-440.jpg", 2.0);
}

#[test]
fn baseline_444() {
    check("coffee-444.jpg", 2.0);
}

#[test]
fn baseline_411_replicated_chroma() {
    check("coffee-411.jpg", 3.0);
}

#[test]
fn baseline_restart_every_mcu_row() {
    check("coffee-420-restart.jpg", 2.0);
}

#[test]
fn baseline_non_interleaved_scans() {
    check("coffee-420-noninterleaved.jpg", 2.0);
}

#[test]
fn grayscale_baseline_and_progressive() {
    check("coffee-gray.jpg", 2.0);
    check("coffee-gray-progressive.jpg", 2.0);
}

#[test]
fn progressive_420_444_and_restarts() {
    check_with("coffee-420-progressive.jpg", 5.0, 2.0);
    check("coffee-444-progressive.jpg", 2.0);
    check_with("coffee-420-progressive-restart.jpg", 5.0, 2.0);
    check_with("astronaut-progressive.jpg", 5.0, 2.0);
}

#[test]
fn progressive_custom_script_with_successive_approximation() {
    check_with("coffee-420-script.jpg", 5.0, 2.0);
}

#[test]
fn cmyk_baseline_and_progressive() {
    // ImageMagick subsamples two of the four CMYK planes; 1/8 lands at ~2.0 on the cyan plane.
    check("coffee-cmyk.jpg", 2.5);
    check_with("coffee-cmyk-progressive.jpg", 5.0, 2.5);
    let b = common::fixture("coffee-cmyk.jpg");
    let h = read_header(&b).unwrap();
    assert!(matches!(
        h.colour,
        ColourTransform::Cmyk | ColourTransform::Ycck
    ));
}

#[test]
fn header_reports_geometry_and_colour() {
    let b = common::fixture("coffee-422.jpg");
    let h = read_header(&b).unwrap();
    assert_eq!((h.width, h.height, h.components), (597, 397, 3));
    assert_eq!(h.colour, ColourTransform::YCbCr);
    assert!(h.jfif && !h.progressive);
    assert_eq!(&h.sampling[..3], &[(2, 1), (1, 1), (1, 1)]);
    let b = common::fixture("coffee-420-progressive.jpg");
    let p = read_header(&b).unwrap();
    assert!(p.progressive);
    let b = common::fixture("coffee-gray.jpg");
    let g = read_header(&b).unwrap();
    assert_eq!((g.components, g.colour), (1, ColourTransform::Gray));
    let d = thumbs_jpeg::decode_scaled(
        &common::fixture("coffee-gray.jpg"),
        Scale::Eighth,
        &Default::default(),
    )
    .unwrap();
    assert_eq!(d.format, PixelFormat::Gray8);
    assert_eq!((d.width, d.height), (75, 50));
}
