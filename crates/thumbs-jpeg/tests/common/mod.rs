//! Reference comparison: a full decode by `jpeg-decoder`, box-averaged by the scale factor.

#![allow(dead_code)]

use std::path::PathBuf;

use thumbs_jpeg::{Limits, PixelFormat, Scale, decode_scaled};

pub fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Full-size reference pixels (jpeg-decoder: CMYK comes out inverted, i.e. 0 = no ink, like
/// ours for Adobe files).
pub fn reference(bytes: &[u8]) -> (usize, usize, usize, Vec<u8>) {
    let mut d = jpeg_decoder::Decoder::new(bytes);
    let px = d.decode().expect("reference decode");
    let info = d.info().unwrap();
    let ch = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        jpeg_decoder::PixelFormat::CMYK32 => 4,
        f => panic!("{f:?}"),
    };
    (usize::from(info.width), usize::from(info.height), ch, px)
}

/// Box-averages `px` by `d` (edge boxes average what is there).
pub fn box_average(w: usize, h: usize, ch: usize, px: &[u8], d: usize) -> (usize, usize, Vec<f64>) {
    let (ow, oh) = (w.div_ceil(d), h.div_ceil(d));
    let mut out = vec![0f64; ow * oh * ch];
    for oy in 0..oh {
        for ox in 0..ow {
            for c in 0..ch {
                let (mut s, mut n) = (0f64, 0f64);
                for y in oy * d..((oy + 1) * d).min(h) {
                    for x in ox * d..((ox + 1) * d).min(w) {
                        s += f64::from(px[(y * w + x) * ch + c]);
                        n += 1.0;
                    }
                }
                out[(oy * ow + ox) * ch + c] = s / n;
            }
        }
    }
    (ow, oh, out)
}

/// Mean absolute error per channel of our decode at `scale` against the box-averaged reference.
pub fn mae(bytes: &[u8], scale: Scale) -> Vec<f64> {
    let (w, h, ch, px) = reference(bytes);
    let d = scale.denominator() as usize;
    let (ow, oh, refp) = box_average(w, h, ch, &px, d);
    let ours = decode_scaled(bytes, scale, &Limits::default()).expect("decode_scaled");
    assert_eq!((ours.width as usize, ours.height as usize), (ow, oh));
    assert_eq!(ours.format.channels(), ch, "{:?}", ours.format);
    assert!(!ours.truncated);
    let _ = PixelFormat::Gray8;
    let mut err = vec![0f64; ch];
    for (i, (&a, &b)) in ours.pixels.iter().zip(&refp).enumerate() {
        err[i % ch] += (f64::from(a) - b).abs();
    }
    err.iter().map(|e| e / (ow * oh) as f64).collect()
}
