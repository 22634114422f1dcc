//! Bad input never panics and never allocates past the limits; truncated files decode what is
//! there; unsupported JPEG processes are refused as `Unsupported`.

mod common;

use thumbs_jpeg::{Error, Limits, Scale, decode_scaled, decode_scaled_band, read_header};

const SCALES: [Scale; 4] = [Scale::Eighth, Scale::Quarter, Scale::Half, Scale::Full];

#[test]
fn every_prefix_of_baseline_and_progressive_files_is_safe() {
    for name in [
        "coffee-420-restart.jpg",
        "coffee-420-script.jpg",
        "coffee-gray.jpg",
    ] {
        let b = common::fixture(name);
        // Every prefix through the headers, then a stride through the entropy data.
        let step = |i: usize| if i < 1200 { 1 } else { 97 };
        let mut i = 0;
        while i < b.len() {
            let _ = read_header(&b[..i]);
            let _ = decode_scaled(&b[..i], Scale::Eighth, &Limits::default());
            if i % 5 == 0 {
                let _ = decode_scaled(&b[..i], Scale::Half, &Limits::default());
            }
            i += step(i);
        }
    }
}

/// A small xorshift so the test needs no dependency and is reproducible.
fn rng(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn random_byte_flips_never_panic() {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for name in [
        "coffee-420.jpg",
        "coffee-420-progressive.jpg",
        "coffee-420-script.jpg",
        "coffee-cmyk-progressive.jpg",
    ] {
        let orig = common::fixture(name);
        for round in 0..150 {
            let mut b = orig.clone();
            let flips = 1 + rng(&mut seed) % 8;
            for _ in 0..flips {
                // Bias towards the headers, where a flip changes the most.
                let at = if round % 2 == 0 {
                    (rng(&mut seed) % 700) as usize
                } else {
                    (rng(&mut seed) % b.len() as u64) as usize
                };
                let at = at.min(b.len() - 1);
                b[at] = rng(&mut seed) as u8;
            }
            let scale = SCALES[round % 4];
            let limits = Limits {
                max_pixels: 50_000_000,
                max_bytes: 256 << 20,
            };
            let _ = read_header(&b);
            let _ = decode_scaled(&b, scale, &limits);
        }
    }
}

/// The band-limited paths (multi-symbol skipping of unread coefficients, progressive scans
/// skipped above the band) on every fixture kind, cut short and with bytes flipped in the
/// entropy-coded data: never a panic, always an image of the scaled size.
#[test]
fn band_limited_decodes_of_truncated_and_corrupted_files_are_safe() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let limits = Limits::default();
    for name in [
        "coffee-420.jpg",
        "coffee-422.jpg",
        "coffee-444.jpg",
        "coffee-411.jpg",
        "coffee-440.jpg",
        "coffee-420-restart.jpg",
        "coffee-420-noninterleaved.jpg",
        "coffee-gray.jpg",
        "coffee-cmyk.jpg",
        "coffee-420-progressive.jpg",
        "coffee-444-progressive.jpg",
        "coffee-420-progressive-restart.jpg",
        "coffee-420-script.jpg",
        "coffee-gray-progressive.jpg",
        "coffee-cmyk-progressive.jpg",
    ] {
        let orig = common::fixture(name);
        let h = read_header(&orig).unwrap();
        let sos = orig.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        for round in 0..24 {
            let scale = SCALES[round % 4];
            let band = [2u8, 5, 9, 14, 20, 35][round % 6];
            let mut b = orig.clone();
            if round % 3 == 0 {
                b.truncate(sos + (b.len() - sos) * (1 + round % 9) / 10);
            } else {
                for _ in 0..1 + rng(&mut seed) % 6 {
                    let at = sos + 20 + (rng(&mut seed) % (b.len() - sos - 22) as u64) as usize;
                    b[at] = rng(&mut seed) as u8;
                }
            }
            if let Ok(d) = decode_scaled_band(&b, scale, band, &limits) {
                assert_eq!(
                    (d.width, d.height),
                    scale.output_size(h.width, h.height),
                    "{name} round {round}"
                );
                assert_eq!(
                    d.pixels.len(),
                    d.width as usize * d.height as usize * d.format.channels()
                );
            }
        }
    }
}

#[test]
fn truncated_baseline_decodes_the_top_and_greys_the_rest() {
    let b = common::fixture("coffee-420.jpg");
    let cut = &b[..b.len() * 6 / 10];
    let full = decode_scaled(&b, Scale::Eighth, &Limits::default()).unwrap();
    let part = decode_scaled(cut, Scale::Eighth, &Limits::default()).unwrap();
    assert!(part.truncated && !full.truncated);
    assert_eq!((part.width, part.height), (full.width, full.height));
    let row = part.width as usize * 3;
    // The top rows match the complete decode, the bottom row is mid-grey.
    assert_eq!(&part.pixels[..row * 8], &full.pixels[..row * 8]);
    let last = &part.pixels[part.pixels.len() - row..];
    assert!(
        last.iter().all(|&v| v.abs_diff(128) <= 2),
        "{:?}",
        &last[..12]
    );
}

#[test]
fn truncated_progressive_decodes_what_arrived() {
    let b = common::fixture("coffee-420-progressive.jpg");
    for frac in [3, 5, 8] {
        let cut = &b[..b.len() * frac / 10];
        for s in SCALES {
            let d = decode_scaled(cut, s, &Limits::default()).unwrap();
            assert!(d.truncated, "{frac}/10 at {s:?}");
        }
    }
}

#[test]
fn no_scan_data_is_an_error() {
    let b = common::fixture("coffee-420.jpg");
    let h = read_header(&b[..400]).map(|h| h.width);
    assert!(matches!(h, Ok(597) | Err(_)));
    let sos = b.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    assert_eq!(
        decode_scaled(&b[..sos + 14], Scale::Eighth, &Limits::default()).unwrap_err(),
        Error::Truncated
    );
    assert!(decode_scaled(b"not a jpeg", Scale::Eighth, &Limits::default()).is_err());
    assert!(decode_scaled(&[], Scale::Eighth, &Limits::default()).is_err());
}

#[test]
fn arithmetic_lossless_and_12_bit_are_unsupported() {
    let b = common::fixture("coffee-arithmetic.jpg");
    assert!(matches!(read_header(&b), Err(Error::Unsupported(_))));
    assert!(matches!(
        decode_scaled(&b, Scale::Eighth, &Limits::default()),
        Err(Error::Unsupported(_))
    ));
    let mut b = common::fixture("coffee-420.jpg");
    let sof = b.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    b[sof + 1] = 0xC3;
    assert!(matches!(read_header(&b), Err(Error::Unsupported(_))));
    b[sof + 1] = 0xC1;
    b[sof + 4] = 12;
    assert!(matches!(
        decode_scaled(&b, Scale::Eighth, &Limits::default()),
        Err(Error::Unsupported(_))
    ));
}

#[test]
fn huge_dimensions_are_refused_before_allocating() {
    let mut b = common::fixture("coffee-420.jpg");
    let sof = b.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    b[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xDC, 0xFF, 0xDC]);
    let e = decode_scaled(&b, Scale::Eighth, &Limits::default()).unwrap_err();
    assert!(matches!(e, Error::TooLarge { width: 65500, .. }), "{e:?}");
    let small = Limits {
        max_pixels: 1000,
        max_bytes: 1 << 30,
    };
    let b = common::fixture("coffee-420.jpg");
    assert!(matches!(
        decode_scaled(&b, Scale::Eighth, &small),
        Err(Error::TooLarge { .. })
    ));
    let tight = Limits {
        max_pixels: u64::MAX,
        max_bytes: 10_000,
    };
    assert!(matches!(
        decode_scaled(&b, Scale::Full, &tight),
        Err(Error::TooLarge { .. })
    ));
}

/// Splices APP1 (EXIF) and a two-chunk APP2 ICC profile, out of order, after SOI.
#[test]
fn exif_and_multi_chunk_icc_are_exposed() {
    let b = common::fixture("coffee-444.jpg");
    let seg = |marker: u8, body: &[u8]| {
        let mut v = vec![0xFF, marker];
        v.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    };
    let icc_chunk = |seq: u8, data: &[u8]| {
        let mut v = b"ICC_PROFILE\0".to_vec();
        v.extend_from_slice(&[seq, 2]);
        v.extend_from_slice(data);
        v
    };
    let mut out = b[..2].to_vec();
    out.extend(seg(0xE1, b"Exif\0\0MM\0*tiff"));
    out.extend(seg(0xE2, &icc_chunk(2, b"world")));
    out.extend(seg(0xE2, &icc_chunk(1, b"hello ")));
    out.extend_from_slice(&b[2..]);
    let h = read_header(&out).unwrap();
    assert_eq!(h.exif, Some(&b"MM\0*tiff"[..]));
    assert_eq!(h.icc.as_deref(), Some(&b"hello world"[..]));
    assert!(decode_scaled(&out, Scale::Eighth, &Limits::default()).is_ok());
}
