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

/// Mean absolute difference of two decodes of the same size and format.
fn mean_diff(a: &thumbs_jpeg::Decoded, b: &thumbs_jpeg::Decoded) -> f64 {
    assert_eq!((a.width, a.height, a.format), (b.width, b.height, b.format));
    let sum: u64 = a
        .pixels
        .iter()
        .zip(&b.pixels)
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    sum as f64 / a.pixels.len() as f64
}

const KINDS: [&str; 16] = [
    "coffee-420.jpg",
    "coffee-422.jpg",
    "coffee-440.jpg",
    "coffee-444.jpg",
    "coffee-411.jpg",
    "coffee-420-restart.jpg",
    "coffee-420-noninterleaved.jpg",
    "coffee-gray.jpg",
    "coffee-gray-progressive.jpg",
    "coffee-420-progressive.jpg",
    "coffee-444-progressive.jpg",
    "coffee-420-progressive-restart.jpg",
    "astronaut-progressive.jpg",
    "coffee-420-script.jpg",
    "coffee-cmyk.jpg",
    "coffee-cmyk-progressive.jpg",
];

#[test]
fn band_limited_decodes_are_a_low_pass_of_the_full_band() {
    // Dropping the coefficients past the band removes detail finer than the thumbnail can show;
    // on these 180 px fixtures (decoded to 45-90 px) that is a small mean change, and the full
    // band (63) is the plain scaled decode bit for bit.
    let limits = thumbs_jpeg::Limits::default();
    let mut report = String::new();
    for name in KINDS {
        let bytes = common::fixture(name);
        for scale in [Scale::Quarter, Scale::Half, Scale::Full] {
            let full = thumbs_jpeg::decode_scaled(&bytes, scale, &limits).unwrap();
            let same = thumbs_jpeg::decode_scaled_band(&bytes, scale, 63, &limits).unwrap();
            assert_eq!(full.pixels, same.pixels, "{name} {scale:?}");
            for band in [5u8, 9, 14, 20] {
                let low = thumbs_jpeg::decode_scaled_band(&bytes, scale, band, &limits).unwrap();
                assert!(!low.truncated, "{name}");
                let d = mean_diff(&low, &full);
                report += &format!("{name:36} {scale:?} band {band}: {d:.2}\n");
                assert!(d < 8.0, "{name} {scale:?} band {band}: {d:.2}\n{report}");
            }
        }
    }
    println!("{report}");
}

#[test]
fn progressive_band_decode_matches_its_baseline_twin() {
    // coffee-420.jpg and coffee-420-progressive.jpg hold the same quantised coefficients (cjpeg,
    // same quality). With the refinement scans past the band skipped (all at 1/4, the last
    // bit's at 1/2), the progressive decode lacks the last bits of the kept coefficients,
    // reconstructed at the middle of their interval; the result must stay next to the baseline
    // file's decode of the same band (and be it exactly at the full band). The decoder's own
    // tests check that reading every refinement gives the baseline's pixels exactly.
    let limits = thumbs_jpeg::Limits::default();
    let base = common::fixture("coffee-420.jpg");
    for prog in [
        "coffee-420-progressive.jpg",
        "coffee-420-progressive-restart.jpg",
    ] {
        let prog = common::fixture(prog);
        for scale in [Scale::Quarter, Scale::Half] {
            for band in [5u8, 9, 63] {
                let a = thumbs_jpeg::decode_scaled_band(&base, scale, band, &limits).unwrap();
                let b = thumbs_jpeg::decode_scaled_band(&prog, scale, band, &limits).unwrap();
                let d = mean_diff(&a, &b);
                println!("{scale:?} band {band}: {d:.3}");
                let bound = if band == 63 { 0.01 } else { 2.0 };
                assert!(d < bound, "{scale:?} band {band}: {d:.3}");
            }
        }
    }
}

#[test]
fn thumbnail_decodes_halve_only_the_chroma() {
    // The thumbnail decode reads YCbCr chroma at half resolution where that saves work
    // at reduced scales (`decode_for_thumbnail`); the image keeps its size and format and stays
    // next to the full-chroma decode of the same band (these 180 px fixtures decode to 23-90
    // px, where half the chroma is very little of it). Full-scale decodes and files without
    // YCbCr chroma are the same.
    let limits = thumbs_jpeg::Limits::default();
    let mut report = String::new();
    let mut halved = 0;
    for name in KINDS {
        let bytes = common::fixture(name);
        let ycbcr = read_header(&bytes).unwrap().colour == ColourTransform::YCbCr;
        for scale in [Scale::Eighth, Scale::Quarter, Scale::Half, Scale::Full] {
            let band = scale.max_band();
            let full = thumbs_jpeg::decode_scaled_band(&bytes, scale, band, &limits).unwrap();
            let half = thumbs_jpeg::decode_for_thumbnail(&bytes, scale, band, &limits).unwrap();
            let d = mean_diff(&half, &full);
            report += &format!("{name:36} {scale:?}: {d:.3}\n");
            if !ycbcr || scale == Scale::Full {
                assert_eq!(half.pixels, full.pixels, "{name} {scale:?}");
            }
            halved += usize::from(half.pixels != full.pixels);
            assert!(d < 3.5, "{name} {scale:?}: {d:.3}\n{report}");
        }
    }
    println!("{report}");
    assert!(halved >= 15, "{halved}\n{report}");
}
