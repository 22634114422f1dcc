//! The three thumbnail formats through `encode::encode`: each is a real file of its format,
//! at the right size, and WebP is at least as close to the full-decode reference as the JPEG
//! (AVIF's pixels, which need an AV1 decoder, through the reconstruction rav1e reports: the
//! search's own measure, cross-checked against `avifdec` in the unit tests; here its container).

mod common;

use common::fixture;
use thumbs_core::colour::{self, Bitmap, Layout};
use thumbs_core::encode::{
    AVIF_MAX_ENCODES, EncodeSettings, OutputFormat, avif_search, encode, ssim,
};
use thumbs_core::resize::{fit_within, resize};
use thumbs_core::{Limits, decode};

/// The 128 px box thumbnail of a fixture, before encoding (full decode: no shrink-on-load).
fn pixels(name: &str, size: u32) -> Bitmap {
    let decoded = decode(&fixture(name), None, &Limits::default()).expect("decodable");
    let rgb = colour::to_srgb(decoded.pixels, decoded.icc_profile.as_deref()).expect("srgb");
    let (w, h) = fit_within(rgb.width, rgb.height, size);
    resize(&rgb, w, h).expect("resize")
}

/// `(width, height)` from an AVIF's `ispe` box (image spatial extents).
fn avif_dimensions(avif: &[u8]) -> (u32, u32) {
    let at = avif
        .windows(4)
        .position(|w| w == b"ispe")
        .expect("an ispe box");
    let be = |i: usize| u32::from_be_bytes(avif[i..i + 4].try_into().unwrap());
    // box type, then version+flags (4 bytes), then width and height
    (be(at + 8), be(at + 12))
}

#[test]
fn names_extensions_and_types() {
    for format in OutputFormat::ALL {
        assert_eq!(
            OutputFormat::from_extension(format.extension()),
            Some(format)
        );
        assert_eq!(format.name().parse::<OutputFormat>(), Ok(format));
        assert_eq!(format.to_string(), format.name());
        assert!(format.mime().starts_with("image/"));
    }
    assert_eq!(OutputFormat::from_extension("jpeg"), None);
    assert_eq!(OutputFormat::from_extension("JPG"), None);
    assert!("png".parse::<OutputFormat>().is_err());
    assert_eq!(OutputFormat::ALL[0], OutputFormat::Jpeg);
}

#[test]
fn each_format_is_a_file_of_that_format_at_the_right_size() {
    let bitmap = pixels("coffee.png", 128);
    let settings = EncodeSettings::default();
    let jpeg = encode(&bitmap, OutputFormat::Jpeg, &settings).unwrap();
    assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF]);
    assert_eq!(common::rgb(&jpeg).dimensions(), (128, 85));

    let webp = encode(&bitmap, OutputFormat::WebP, &settings).unwrap();
    assert_eq!(
        (&webp[..4], &webp[8..16]),
        (&b"RIFF"[..], &b"WEBPVP8 "[..]),
        "lossy WebP"
    );
    assert_eq!(
        u32::from_le_bytes(webp[4..8].try_into().unwrap()) as usize + 8,
        webp.len(),
        "RIFF size"
    );
    assert_eq!(common::rgb(&webp).dimensions(), (128, 85));

    let avif = encode(&bitmap, OutputFormat::Avif, &settings).unwrap();
    assert_eq!(&avif[4..12], b"ftypavif");
    assert_eq!(avif_dimensions(&avif), (128, 85));
    assert!(avif.windows(4).any(|w| w == b"av1C"), "an AV1 config box");
    assert!(!avif.windows(4).any(|w| w == b"Exif"), "no EXIF");
}

#[test]
fn encoders_are_deterministic() {
    let bitmap = pixels("chelsea.png", 64);
    for format in OutputFormat::ALL {
        let a = encode(&bitmap, format, &EncodeSettings::default()).unwrap();
        let b = encode(&bitmap, format, &EncodeSettings::default()).unwrap();
        assert_eq!(a, b, "{format}");
    }
}

#[test]
fn webp_and_avif_are_smaller_than_the_jpeg() {
    let bitmap = pixels("coffee.png", 128);
    let settings = EncodeSettings::default();
    let jpeg = encode(&bitmap, OutputFormat::Jpeg, &settings)
        .unwrap()
        .len();
    let webp = encode(&bitmap, OutputFormat::WebP, &settings)
        .unwrap()
        .len();
    assert!(
        webp * 10 <= jpeg * 8,
        "WebP: {webp} bytes, JPEG {jpeg}: not 20 % smaller"
    );
    let avif = encode(&bitmap, OutputFormat::Avif, &settings)
        .unwrap()
        .len();
    assert!(
        avif * 10 <= jpeg * 8,
        "AVIF: {avif} bytes, JPEG {jpeg}: not 20 % smaller"
    );
}

/// On a textured thumbnail, whose JPEG is far from the pixels, 15 % of the JPEG's error is more
/// than the cap: the capped target is lower than the uncapped one.
#[test]
fn the_avif_cut_cap_binds_on_a_textured_thumbnail() {
    let bitmap = pixels("chelsea.png", 64);
    let capped = EncodeSettings::default();
    let uncapped = EncodeSettings {
        avif_cut_cap: 10_000,
        ..capped
    };
    let a = avif_search(&bitmap, &capped).unwrap();
    let b = avif_search(&bitmap, &uncapped).unwrap();
    assert!(a.target < b.target, "capped {a:?} vs uncapped {b:?}");
    assert!(
        a.file.len() <= b.file.len(),
        "capped {} vs uncapped {} bytes",
        a.file.len(),
        b.file.len()
    );
}

#[test]
fn the_avif_search_meets_its_target_in_few_encodes() {
    for name in ["coffee.png", "chelsea.png"] {
        for size in [64, 128] {
            let bitmap = pixels(name, size);
            let (w, h) = (bitmap.width as usize, bitmap.height as usize);
            let settings = EncodeSettings::default();
            let jpeg = encode(&bitmap, OutputFormat::Jpeg, &settings).unwrap();
            let jpeg_ssim = ssim::ssim_rgb(&bitmap.data, common::rgb(&jpeg).as_raw(), w, h);
            let pick = avif_search(&bitmap, &settings).unwrap();
            assert!(
                pick.target > jpeg_ssim,
                "{name}: target {} vs JPEG {jpeg_ssim}",
                pick.target
            );
            assert!(pick.ssim >= pick.target, "{name} {size}: {pick:?}");
            // The cut asks at most avif_cut_cap more SSIM than the JPEG, plus the margin.
            let most = f64::from(settings.avif_cut_cap + settings.avif_ssim_margin) / 10_000.0;
            assert!(
                pick.target - jpeg_ssim <= most + 1e-6,
                "{name} {size}: target {} vs JPEG {jpeg_ssim}",
                pick.target
            );
            assert!(
                (1..=AVIF_MAX_ENCODES).contains(&pick.encodes),
                "{name}: {pick:?}"
            );
            assert!(
                pick.file.len() * 10 <= jpeg.len() * 8,
                "{name} {size}: AVIF {} bytes, JPEG {}",
                pick.file.len(),
                jpeg.len()
            );
            // what encode() serves is the search's pick
            assert_eq!(
                encode(&bitmap, OutputFormat::Avif, &settings).unwrap(),
                pick.file
            );
        }
    }
}

#[test]
fn an_unreachable_avif_target_gives_the_closest_encode_not_an_error() {
    let bitmap = pixels("coffee.png", 64);
    let settings = EncodeSettings {
        avif_error_cut: 90,
        avif_quantizer: 250,
        ..EncodeSettings::default()
    };
    let pick = avif_search(&bitmap, &settings).unwrap();
    assert!(pick.encodes <= AVIF_MAX_ENCODES);
    assert!(
        pick.quantizer < 250,
        "it moved towards the target: {pick:?}"
    );
    assert_eq!(&pick.file[4..12], b"ftypavif");
}

#[test]
fn webp_is_as_close_to_the_reference_as_the_jpeg() {
    for name in ["coffee.png", "chelsea.png"] {
        let bitmap = pixels(name, 128);
        let (w, h) = (bitmap.width as usize, bitmap.height as usize);
        let ssim_of = |format| {
            let file = encode(&bitmap, format, &EncodeSettings::default()).unwrap();
            ssim::Ssim::of(&bitmap.data, common::rgb(&file).as_raw(), w, h)
        };
        let (jpeg, webp) = (ssim_of(OutputFormat::Jpeg), ssim_of(OutputFormat::WebP));
        assert!(
            jpeg.gaussian > 0.8 && jpeg.gaussian < 1.0,
            "{name}: JPEG SSIM {jpeg:?}"
        );
        // under each window on its own, as the search requires
        assert!(
            webp.gaussian >= jpeg.gaussian && webp.uniform >= jpeg.uniform,
            "{name}: WebP SSIM {webp:?} < JPEG {jpeg:?}"
        );
    }
}

#[test]
fn a_lower_quality_is_a_smaller_file() {
    let bitmap = pixels("coffee.png", 128);
    let low = EncodeSettings {
        webp_match_jpeg: false,
        webp_quality: 30,
        avif_match_jpeg: false,
        avif_quantizer: 200,
        ..EncodeSettings::default()
    };
    let high = EncodeSettings {
        webp_match_jpeg: false,
        webp_quality: 95,
        avif_match_jpeg: false,
        avif_quantizer: 40,
        ..EncodeSettings::default()
    };
    for format in [OutputFormat::WebP, OutputFormat::Avif] {
        let (l, h) = (
            encode(&bitmap, format, &low).unwrap().len(),
            encode(&bitmap, format, &high).unwrap().len(),
        );
        assert!(l < h, "{format}: q30 {l} bytes, q95 {h} bytes");
    }
}

#[test]
fn odd_and_tiny_sizes_encode() {
    for (w, h) in [(1, 1), (1, 7), (3, 2), (17, 1), (33, 31)] {
        let data = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
        let bitmap = Bitmap::new(w, h, Layout::Rgb8, data).unwrap();
        for format in OutputFormat::ALL {
            let file = encode(&bitmap, format, &EncodeSettings::default())
                .unwrap_or_else(|e| panic!("{format} {w}x{h}: {e}"));
            if format == OutputFormat::Avif {
                assert_eq!(avif_dimensions(&file), (w, h));
            } else {
                assert_eq!(common::rgb(&file).dimensions(), (w, h), "{format}");
            }
        }
    }
}

#[test]
fn wrong_inputs_are_errors_not_panics() {
    let rgba = Bitmap::new(2, 2, Layout::Rgba8, vec![0; 16]).unwrap();
    let wide = Bitmap {
        width: 20_000,
        height: 1,
        layout: Layout::Rgb8,
        data: vec![0; 60_000],
    };
    let empty = Bitmap {
        width: 0,
        height: 0,
        layout: Layout::Rgb8,
        data: Vec::new(),
    };
    assert!(avif_search(&rgba, &EncodeSettings::default()).is_err());
    assert!(avif_search(&empty, &EncodeSettings::default()).is_err());
    assert!(avif_search(&wide, &EncodeSettings::default()).is_err());
    for format in OutputFormat::ALL {
        assert!(encode(&rgba, format, &EncodeSettings::default()).is_err());
        assert!(encode(&empty, format, &EncodeSettings::default()).is_err());
        if format != OutputFormat::Jpeg {
            assert!(encode(&wide, format, &EncodeSettings::default()).is_err());
        }
    }
}

/// The JPEG's 4:2:0 chroma is the mean of each 2×2 block (libjpeg's downsampling), not its
/// top-left sample: one-pixel red and blue stripes keep both colours, where a point sample
/// would keep only the red and turn the whole thumbnail reddish.
#[test]
fn jpeg_chroma_is_the_mean_of_each_two_by_two_block() {
    let (w, h) = (64u32, 64u32);
    let data = (0..w * h)
        .flat_map(|i| if i % 2 == 0 { [255, 0, 0] } else { [0, 0, 255] })
        .collect();
    let bitmap = Bitmap::new(w, h, Layout::Rgb8, data).unwrap();
    let file = encode(&bitmap, OutputFormat::Jpeg, &EncodeSettings::default()).unwrap();
    let rgb = common::rgb(&file);
    let mean = |c: usize| rgb.pixels().map(|p| f64::from(p[c])).sum::<f64>() / f64::from(w * h);
    let (red, blue) = (mean(0), mean(2));
    assert!(
        (red - blue).abs() < 16.0,
        "mean red {red:.1}, mean blue {blue:.1}: the chroma leans to one stripe"
    );
}
