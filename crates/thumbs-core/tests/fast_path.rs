//! The JPEG fast path (thumbs-jpeg's reduced-scale decode of only the coefficients below the
//! target's Nyquist limit, progressive scans past them skipped) must give the thumbnail a
//! full-size decode gives, within a tight bound, for every kind of JPEG we see: baseline,
//! progressive, CMYK, YCCK, grey, ICC-tagged, EXIF-oriented.

mod common;

use common::fixture;
use thumbs_core::colour::{Bitmap, Layout, to_srgb};
use thumbs_core::resize::{fit_within, resize};
use thumbs_core::{Limits, decode, orient};

/// Decode at the scale `target` allows (`None`: full size), convert to sRGB and orient: the
/// pipeline up to the resize. Also returns the stored (pre-orientation) full size.
fn upright_srgb(bytes: &[u8], target: Option<u32>) -> (Bitmap, (u32, u32)) {
    let decoded = decode(bytes, target, &Limits::default()).expect("decodable");
    let stored = (decoded.stored_width, decoded.stored_height);
    let rgb = to_srgb(decoded.pixels, decoded.icc_profile.as_deref()).expect("sRGB");
    (
        orient::apply(rgb, decoded.orientation).expect("orient"),
        stored,
    )
}

/// The largest target for which the fast path decodes at 1/d: the decode must leave the resize
/// at least a 1.5× reduction (`thumbs_jpeg::Scale::for_thumbnail`).
fn target_for(longest: u32, d: u32) -> u32 {
    longest.div_ceil(d) * 2 / 3
}

/// What DCT scaling computes: each output pixel the mean of a d×d block of the full image
/// (blocks at the right and bottom edges cut to the pixels that exist). The fast path reads only
/// the coefficients below the target's Nyquist limit, a low-pass on top of this average: the
/// bounds against it below allow for that (the 180 px fixtures have detail at every scale).
fn box_downscale(full: &Bitmap, d: u32) -> Bitmap {
    let ch = full.layout.channels();
    let (w, h) = (full.width.div_ceil(d), full.height.div_ceil(d));
    let mut data = Vec::with_capacity(w as usize * h as usize * ch);
    for by in 0..h {
        for bx in 0..w {
            let (mut sum, mut n) = ([0u32; 4], 0u32);
            for y in by * d..((by + 1) * d).min(full.height) {
                for x in bx * d..((bx + 1) * d).min(full.width) {
                    let i = (y * full.width + x) as usize * ch;
                    for (s, &v) in sum.iter_mut().zip(&full.data[i..i + ch]) {
                        *s += u32::from(v);
                    }
                    n += 1;
                }
            }
            data.extend(sum[..ch].iter().map(|s| ((s + n / 2) / n) as u8));
        }
    }
    Bitmap::new(w, h, full.layout, data).unwrap()
}

/// The whole thumbnail (resize included) from a decode at `target`'s scale or at full size.
fn thumbnail(bytes: &[u8], target: Option<u32>, size: u32) -> Bitmap {
    let decoded = decode(bytes, target, &Limits::default()).expect("decodable");
    let rgb = to_srgb(decoded.pixels, decoded.icc_profile.as_deref()).expect("sRGB");
    let (w, h) = fit_within(decoded.stored_width, decoded.stored_height, size);
    orient::apply(resize(&rgb, w, h).expect("resize"), decoded.orientation).expect("orient")
}

/// (mean, max) absolute difference per channel.
fn difference(a: &Bitmap, b: &Bitmap) -> (f64, u8) {
    assert_eq!((a.width, a.height), (b.width, b.height));
    assert_eq!(a.layout, b.layout);
    let diffs = a.data.iter().zip(&b.data).map(|(&x, &y)| x.abs_diff(y));
    let (sum, max) = diffs.fold((0u64, 0u8), |(s, m), d| (s + u64::from(d), m.max(d)));
    (sum as f64 / a.data.len() as f64, max)
}

/// What a thumbnail keeps of the difference of two RGB images: (luma mean, colour mean). Luma
/// (BT.601 weights) at full resolution; the colour as a 4:2:0 thumbnail stores it, both images
/// box-averaged 2×2 first. The fast path decodes YCbCr chroma at half resolution at reduced
/// scales (`thumbs_jpeg::decode_for_thumbnail`), so only the luma holds to the full-resolution
/// bound. Any other layout: the plain per-channel mean, twice.
fn thumbnail_difference(a: &Bitmap, b: &Bitmap) -> (f64, f64) {
    if a.layout != Layout::Rgb8 {
        let (mean, _) = difference(a, b);
        return (mean, mean);
    }
    assert_eq!(
        (a.width, a.height, b.layout),
        (b.width, b.height, Layout::Rgb8)
    );
    let luma =
        |p: &[u8]| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]);
    let l: f64 = a
        .data
        .chunks_exact(3)
        .zip(b.data.chunks_exact(3))
        .map(|(p, q)| (luma(p) - luma(q)).abs())
        .sum();
    let (c, _) = difference(&box_downscale(a, 2), &box_downscale(b, 2));
    (l / f64::from(a.width * a.height), c)
}

/// A grey JPEG made here (no fixture has one): coffee.png's luma.
fn grey_jpeg(progressive: bool) -> Vec<u8> {
    let rgb = common::rgb(&fixture("coffee.png"));
    let luma = image::DynamicImage::ImageRgb8(rgb).into_luma8();
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder.set_progressive(progressive);
    let (w, h) = (luma.width() as u16, luma.height() as u16);
    encoder
        .encode(luma.as_raw(), w, h, jpeg_encoder::ColorType::Luma)
        .expect("encode");
    out
}

/// Every fixture kind, with the mean-error bound for the 1/8 scale; progressive 1/8 decodes
/// only the chroma DC (upsampled with a triangle filter), so colour edges are a little softer.
fn cases() -> Vec<(&'static str, Vec<u8>, f64)> {
    let mut cases: Vec<(&'static str, Vec<u8>, f64)> = [
        ("coffee.jpg", 1.5),
        ("coffee-progressive.jpg", 3.0),
        ("coffee-cmyk.jpg", 1.5),
        // YCCK → CMYK → RGB multiplies by (1 − K): averaging the stored samples (what DCT
        // scaling does, at every scale) is not averaging the RGB. The stored samples themselves
        // match to < 1 (`stored_samples_...` below); jpeg-decoder's scaled decode, the previous
        // path, shows the same effect.
        ("coffee-ycck.jpg", 2.0),
        ("coffee-adobergb.jpg", 1.5),
        ("coffee-p3.jpg", 1.5),
        ("rocket.jpg", 1.5),
        ("orient-6.jpg", 1.5),
        ("orient-7.jpg", 1.5),
    ]
    .into_iter()
    .map(|(name, bound)| (name, fixture(name), bound))
    .collect();
    cases.push(("grey baseline", grey_jpeg(false), 1.5));
    cases.push(("grey progressive", grey_jpeg(true), 1.5));
    cases
}

/// Mean-error bound at 1/4 and 1/2 against the box average, for the luma and for the colour
/// at 4:2:0 resolution (`thumbnail_difference`): the band limit (diagonals up to 2 at 1/4 and 4
/// at 1/2, each scale's own Nyquist limit) removes the fixtures' finest detail, which a box
/// average keeps (measured: luma 0.7-3.9, colour 0.2-2.8; a wrong colour model or orientation
/// gives 20 or more).
const LOW_PASS: f64 = 4.5;

#[test]
fn fast_path_matches_a_full_decode_downscaled() {
    let mut report = String::new();
    let mut failures = Vec::new();
    for (name, bytes, bound_eighth) in cases() {
        let (full, stored) = upright_srgb(&bytes, None);
        assert_eq!(
            (full.width * full.height),
            stored.0 * stored.1,
            "{name}: full-size decode"
        );
        let ycck = name == "coffee-ycck.jpg";
        for (d, bound) in [(8u32, bound_eighth), (4, LOW_PASS), (2, LOW_PASS)] {
            let bound = if ycck { bound.max(1.5) } else { bound };
            let target = target_for(stored.0.max(stored.1), d);
            let (fast, _) = upright_srgb(&bytes, Some(target));
            let reference = box_downscale(&full, d);
            assert_eq!(
                (fast.width, fast.height),
                (reference.width, reference.height),
                "{name}: a 1/{d} decode expected for a {target} px target"
            );
            let (mean, max) = difference(&fast, &reference);
            let (luma, colour) = thumbnail_difference(&fast, &reference);
            report += &format!(
                "{name} 1/{d}: mean {mean:.2} max {max}, luma {luma:.2}, colour at 4:2:0 {colour:.2}\n"
            );
            if luma > bound || colour > bound {
                failures.push(format!("{name} 1/{d}: {luma:.2}, {colour:.2} > {bound}"));
            }
        }
    }
    println!("{report}");
    assert!(failures.is_empty(), "{failures:?}\n{report}");
}

#[test]
fn stored_samples_match_a_full_decode_box_averaged() {
    // Before any colour conversion (CMYK/YCCK as ink amounts, ICC not applied): the decoder's
    // own accuracy, with no colour-space nonlinearity in between.
    let mut report = String::new();
    for (name, bytes, _) in cases() {
        let full = decode(&bytes, None, &Limits::default()).expect("decodable");
        let longest = full.stored_width.max(full.stored_height);
        let bound_eighth = if name.contains("progressive") {
            3.0
        } else {
            1.0
        };
        for (d, bound) in [(8u32, bound_eighth), (4, LOW_PASS), (2, LOW_PASS)] {
            let fast = decode(&bytes, Some(target_for(longest, d)), &Limits::default()).unwrap();
            let reference = box_downscale(&full.pixels, d);
            let (mean, max) = difference(&fast.pixels, &reference);
            let (luma, colour) = thumbnail_difference(&fast.pixels, &reference);
            report += &format!(
                "{name} 1/{d}: mean {mean:.2} max {max}, luma {luma:.2}, colour at 4:2:0 {colour:.2}\n"
            );
            assert!(luma < bound, "{name} 1/{d}: luma {luma:.2}\n{report}");
            assert!(colour < bound, "{name} 1/{d}: colour {colour:.2}\n{report}");
        }
    }
    println!("{report}");
}

#[test]
fn thumbnails_from_the_fast_path_look_like_thumbnails_from_a_full_decode() {
    // Real thumbnail sizes sit between scales (the resize then shrinks by 1–2×). A box
    // prefilter + Lanczos3 is softer than Lanczos3 straight from full size, so these differ by
    // the filters, not the decoder: mean ~5 on the 16 px thumbnails of the 180 px fixtures
    // (1/8), ~2 at 1/4 and ~1.3 at 1/2, the same for every kind of JPEG. A wrong colour model,
    // profile or orientation gives a mean of 20 or more; this catches that.
    let mut report = String::new();
    for (name, bytes, _) in cases() {
        let (_, stored) = upright_srgb(&bytes, None);
        for d in [8u32, 4, 2] {
            let size = stored.0.max(stored.1) * 3 / (4 * d);
            let fast = thumbnail(&bytes, Some(size), size);
            let full = thumbnail(&bytes, None, size);
            let (mean, max) = difference(&fast, &full);
            report += &format!("{name} size {size}: mean {mean:.2} max {max}\n");
            assert!(mean < 6.0, "{name} size {size}: mean {mean:.2}\n{report}");
        }
    }
    println!("{report}");
}

#[test]
fn full_size_fast_path_matches_an_independent_decoder() {
    // zune-jpeg (the `image` crate) as the reference for the files it converts the same way
    // (no ICC, no CMYK: its CMYK → RGB and our profile handling differ by design).
    for name in ["coffee.jpg", "coffee-progressive.jpg", "rocket.jpg"] {
        let bytes = fixture(name);
        let decoded = decode(&bytes, None, &Limits::default()).expect("decodable");
        let ours = to_srgb(decoded.pixels, None).expect("sRGB");
        let reference = common::rgb(&bytes);
        let reference = Bitmap::new(
            reference.width(),
            reference.height(),
            Layout::Rgb8,
            reference.into_raw(),
        )
        .unwrap();
        let (mean, max) = difference(&ours, &reference);
        println!("{name}: mean {mean:.2} max {max}");
        assert!(mean < 1.0, "{name}: mean {mean:.2} max {max}");
    }
}

#[test]
fn fast_path_decodes_like_the_jpeg_decoder_path_it_replaces() {
    // The previous shrink-on-load decoder (still the fallback for lossless JPEG): the same
    // scale must give the same samples (both are DCT-scaled decodes; colour still as stored).
    let mut report = String::new();
    for (name, bytes, _) in cases() {
        let header = decode(&bytes, None, &Limits::default()).expect("decodable");
        let longest = header.stored_width.max(header.stored_height);
        for d in [8u32, 4, 2, 1] {
            let target = if d == 1 {
                longest
            } else {
                target_for(longest, d)
            };
            let ours = decode(&bytes, Some(target), &Limits::default()).expect("decodable");
            let mut old = jpeg_decoder::Decoder::new(&bytes[..]);
            old.read_info().unwrap();
            let (w, h) = fit_within(header.stored_width, header.stored_height, target);
            old.scale(w as u16, h as u16).unwrap();
            let theirs = old.decode().unwrap();
            let info = old.info().unwrap();
            assert_eq!(
                (ours.pixels.width, ours.pixels.height),
                (u32::from(info.width), u32::from(info.height)),
                "{name} 1/{d}"
            );
            let diffs = ours
                .pixels
                .data
                .iter()
                .zip(&theirs)
                .map(|(&a, &b)| a.abs_diff(b));
            let (sum, max) = diffs.fold((0u64, 0u8), |(s, m), d| (s + u64::from(d), m.max(d)));
            let mean = sum as f64 / theirs.len() as f64;
            report += &format!("{name} 1/{d}: mean {mean:.2} max {max}\n");
        }
    }
    println!("{report}");
    // Full size and 1/8 (DC only) agree closely (jpeg-decoder rounds differently: mean ~1,
    // max 3 at 1/8). At 1/2 and 1/4 jpeg-decoder's reduced IDCTs are sharper than the box
    // average thumbs-jpeg computes (mean ~2, max ~40 on edges), so those are reported only;
    // `fast_path_matches_a_full_decode_downscaled` holds thumbs-jpeg to the box average.
    for line in report
        .lines()
        .filter(|l| l.contains(" 1/1:") || l.contains(" 1/8:"))
    {
        let mean = line
            .split("mean ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        let mean: f64 = mean.parse().unwrap();
        assert!(mean < 1.5, "{line}\n{report}");
    }
}
