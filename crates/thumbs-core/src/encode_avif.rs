//! RGB pixels → AVIF: our own RGB → YCbCr, the rav1e AV1 encoder (pure Rust) and the
//! `avif-serialize` container writer.
//!
//! rav1e is built without its assembly (no nasm in the build, and the arm64 cross-build stays a
//! plain `cargo lambda build`) and without its thread pool: a Lambda function at 1024 MB has
//! well under one vCPU, so threads would only add scheduling.
//!
//! Colour: BT.601 YCbCr, full range, sRGB transfer and BT.709 (sRGB) primaries, 8 or 10 bits,
//! 4:2:0 or 4:4:4 ([`AvifTuning`]). The AV1 sequence header carries all of it (matrix, range,
//! transfer, primaries, subsampling) and the `av1C` box the subsampling and depth. These values
//! are `avif-serialize`'s defaults, so it writes no `colr` box: decoders (libavif, Chrome,
//! Firefox) then take the sequence header's, and Safari assumes BT.601 without one. No
//! metadata (EXIF) is written.
//!
//! Every encode also returns the frame rav1e reconstructed (`Packet::rec`, after the loop
//! filters: exactly what a decoder produces) converted back to RGB, so the quality search in
//! `encode.rs` can measure an encode without an AV1 decoder.
//!
//! rav1e is deterministic: the same pixels and settings give the same bytes.
//! Settings chosen by measurement (docs/performance.md "Formats").

use rav1e::prelude::*;

use crate::colour::{Bitmap, Layout};
use crate::error::Error;

/// Largest side accepted (AV1 allows 65536; this keeps one encode's memory bounded the same
/// way the JPEG encoder's 65535 limit does — thumbnails never come close).
const MAX_SIDE: u32 = 16_384;

/// BT.601 luma weights (R, G, B): the matrix signalled in the file.
const KR: f32 = 0.299;
const KB: f32 = 0.114;
const KG: f32 = 1.0 - KR - KB;

/// rav1e's knobs besides the quantizer (`EncodeSettings` carries the measured values).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AvifTuning {
    /// rav1e speed preset, 0 (slowest, smallest) – 10 (fastest).
    pub speed: u8,
    /// 4:2:0 chroma (as the JPEG) instead of 4:4:4.
    pub subsampled: bool,
    /// 10-bit samples instead of 8.
    pub ten_bit: bool,
}

/// One AVIF encode: the file and what a decoder shows of it, as RGB8.
pub(crate) struct AvifEncode {
    pub file: Vec<u8>,
    pub rec_rgb: Vec<u8>,
}

/// Encode an sRGB [`Layout::Rgb8`] bitmap as AVIF at rav1e `quantizer` (0 lossless-ish – 255,
/// AV1's base_q_idx).
pub(crate) fn encode_avif(
    bitmap: &Bitmap,
    quantizer: u8,
    tuning: &AvifTuning,
) -> Result<AvifEncode, Error> {
    debug_assert_eq!(bitmap.layout, Layout::Rgb8);
    if bitmap.width == 0 || bitmap.height == 0 {
        return Err(Error::Encode("an empty image has no AVIF".into()));
    }
    if bitmap.width > MAX_SIDE || bitmap.height > MAX_SIDE {
        return Err(Error::Encode(format!(
            "{}x{} is too large for AVIF (at most {MAX_SIDE} per side)",
            bitmap.width, bitmap.height
        )));
    }
    let expected = bitmap.width as usize * bitmap.height as usize * 3;
    if bitmap.data.len() != expected {
        return Err(Error::Encode(format!(
            "{} bytes for a {}x{} RGB bitmap, expected {expected}",
            bitmap.data.len(),
            bitmap.width,
            bitmap.height
        )));
    }
    let depth: u8 = if tuning.ten_bit { 10 } else { 8 };
    let (av1, rec_rgb) = if tuning.ten_bit {
        encode_av1::<u16>(bitmap, quantizer, tuning, depth)?
    } else {
        encode_av1::<u8>(bitmap, quantizer, tuning, depth)?
    };
    let mut container = avif_serialize::Aviffy::new();
    container
        // profile 0 (main) for 4:2:0, 1 (high) for 4:4:4: what rav1e writes in the sequence
        .set_seq_profile(u8::from(!tuning.subsampled))
        .set_chroma_subsampling((tuning.subsampled, tuning.subsampled))
        .set_matrix_coefficients(avif_serialize::constants::MatrixCoefficients::Bt601)
        .set_transfer_characteristics(avif_serialize::constants::TransferCharacteristics::Srgb)
        .set_color_primaries(avif_serialize::constants::ColorPrimaries::Bt709)
        .set_full_color_range(true);
    let mut file = Vec::with_capacity(av1.len() + 400);
    container
        .write(&mut file, &av1, None, bitmap.width, bitmap.height, depth)
        .map_err(|e| Error::Encode(format!("AVIF container: {e}")))?;
    Ok(AvifEncode { file, rec_rgb })
}

/// rav1e's settings for one still picture at `speed`: its preset, minus what only helps video.
fn speed_settings(speed: u8) -> SpeedSettings {
    let mut settings = SpeedSettings::from_preset(speed.min(10));
    settings.multiref = false;
    settings.rdo_lookahead_frames = 1;
    settings.scene_detection_mode = SceneDetectionSpeed::None;
    settings.motion.include_near_mvs = false;
    settings
}

/// The AV1 payload and the reconstruction as RGB8, with samples of type `P` (u8 for 8 bits,
/// u16 for 10).
fn encode_av1<P: Pixel>(
    bitmap: &Bitmap,
    quantizer: u8,
    tuning: &AvifTuning,
    depth: u8,
) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let (width, height) = (bitmap.width as usize, bitmap.height as usize);
    let failed = |what: String| Error::Encode(format!("rav1e: {what}"));
    let config = Config::new()
        .with_encoder_config(EncoderConfig {
            width,
            height,
            bit_depth: usize::from(depth),
            chroma_sampling: if tuning.subsampled {
                ChromaSampling::Cs420
            } else {
                ChromaSampling::Cs444
            },
            chroma_sample_position: ChromaSamplePosition::Unknown,
            pixel_range: PixelRange::Full,
            color_description: Some(ColorDescription {
                color_primaries: ColorPrimaries::BT709,
                transfer_characteristics: TransferCharacteristics::SRGB,
                matrix_coefficients: MatrixCoefficients::BT601,
            }),
            still_picture: true,
            quantizer: usize::from(quantizer),
            min_quantizer: quantizer,
            bitrate: 0,
            tune: Tune::Psychovisual,
            tiles: 1,
            speed_settings: speed_settings(tuning.speed),
            ..EncoderConfig::default()
        })
        .with_threads(1);
    let mut ctx: Context<P> = config
        .new_context()
        .map_err(|e| failed(format!("config: {e}")))?;
    let mut frame = ctx.new_frame();
    write_planes(bitmap, tuning.subsampled, depth, &mut frame);
    ctx.send_frame(frame)
        .map_err(|e| failed(format!("send: {e}")))?;
    ctx.flush();
    let mut data = Vec::new();
    let mut rec = None;
    loop {
        match ctx.receive_packet() {
            Ok(mut packet) => {
                data.append(&mut packet.data);
                if packet.rec.is_some() {
                    rec = packet.rec;
                }
            }
            Err(EncoderStatus::Encoded) => {}
            Err(EncoderStatus::LimitReached) => break,
            Err(e) => return Err(failed(format!("encode: {e}"))),
        }
    }
    let rec = rec.ok_or_else(|| failed("no reconstructed frame".into()))?;
    if data.is_empty() {
        return Err(failed("no data".into()));
    }
    Ok((
        data,
        planes_to_rgb(&rec, width, height, tuning.subsampled, depth),
    ))
}

/// RGB8 → full-range BT.601 YCbCr at `depth` bits into `frame`; with `subsampled`, each chroma
/// sample is the mean of its (up to) 2×2 pixels.
fn write_planes<P: Pixel>(bitmap: &Bitmap, subsampled: bool, depth: u8, frame: &mut Frame<P>) {
    let (width, height) = (bitmap.width as usize, bitmap.height as usize);
    let max = f32::from((1u16 << depth) - 1);
    let scale = max / 255.0;
    let mid = f32::from(1u16 << (depth - 1));
    let sample = |v: f32| P::cast_from(v.round().clamp(0.0, max) as u16);
    // Per pixel: Y, and Cb/Cr before the offset (so means of them stay linear).
    let mut cb = vec![0.0f32; width * height];
    let mut cr = vec![0.0f32; width * height];
    {
        let luma = &mut frame.planes[0];
        let stride = luma.cfg.stride;
        let out = luma.data_origin_mut();
        for (y, row) in bitmap.data.chunks_exact(width * 3).enumerate() {
            for (x, p) in row.chunks_exact(3).enumerate() {
                let (r, g, b) = (f32::from(p[0]), f32::from(p[1]), f32::from(p[2]));
                let l = KR * r + KG * g + KB * b;
                out[y * stride + x] = sample(l * scale);
                cb[y * width + x] = (b - l) / (2.0 * (1.0 - KB)) * scale;
                cr[y * width + x] = (r - l) / (2.0 * (1.0 - KR)) * scale;
            }
        }
    }
    let (cw, ch) = if subsampled {
        (width.div_ceil(2), height.div_ceil(2))
    } else {
        (width, height)
    };
    for (plane, values) in [(1, &cb), (2, &cr)] {
        let chroma = &mut frame.planes[plane];
        let stride = chroma.cfg.stride;
        let out = chroma.data_origin_mut();
        for cy in 0..ch {
            for cx in 0..cw {
                let v = if subsampled {
                    let (mut sum, mut n) = (0.0, 0.0);
                    for y in 2 * cy..(2 * cy + 2).min(height) {
                        for x in 2 * cx..(2 * cx + 2).min(width) {
                            sum += values[y * width + x];
                            n += 1.0;
                        }
                    }
                    sum / n
                } else {
                    values[cy * width + cx]
                };
                out[cy * stride + cx] = sample(v + mid);
            }
        }
    }
}

/// A reconstructed frame → RGB8, as a decoder converts it (BT.601 full range; 4:2:0 chroma
/// taken from the sample covering each pixel).
fn planes_to_rgb<P: Pixel>(
    frame: &Frame<P>,
    width: usize,
    height: usize,
    subsampled: bool,
    depth: u8,
) -> Vec<u8> {
    let max = f32::from((1u16 << depth) - 1);
    let to_8 = 255.0 / max;
    let mid = f32::from(1u16 << (depth - 1));
    let shift = usize::from(subsampled);
    let [y_plane, cb_plane, cr_plane] = &frame.planes;
    let get = |plane: &Plane<P>, x: usize, y: usize| -> f32 {
        let v: u32 = plane.p(x, y).into();
        v as f32
    };
    let byte = |v: f32| (v * to_8).round().clamp(0.0, 255.0) as u8;
    let mut out = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let l = get(y_plane, x, y);
            let cb = get(cb_plane, x >> shift, y >> shift) - mid;
            let cr = get(cr_plane, x >> shift, y >> shift) - mid;
            let r = l + 2.0 * (1.0 - KR) * cr;
            let b = l + 2.0 * (1.0 - KB) * cb;
            let g = (l - KR * r - KB * b) / KG;
            out.extend_from_slice(&[byte(r), byte(g), byte(b)]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::ssim::ssim_rgb;

    /// A colourful test card: gradients, a hard edge and saturated patches.
    fn card(width: u32, height: u32) -> Bitmap {
        let mut data = Vec::with_capacity((width * height * 3) as usize);
        for y in 0..height {
            for x in 0..width {
                let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
                let edge = if x > width / 2 { 200.0 } else { 30.0 };
                let r = 255.0 * fx;
                let g = if y < height / 3 { edge } else { 255.0 * fy };
                let b = 128.0 + 100.0 * (fx * 9.0 + fy * 5.0).sin();
                data.extend_from_slice(&[r as u8, g as u8, b as u8]);
            }
        }
        Bitmap::new(width, height, Layout::Rgb8, data).unwrap()
    }

    const TUNINGS: [AvifTuning; 4] = [
        AvifTuning {
            speed: 10,
            subsampled: true,
            ten_bit: true,
        },
        AvifTuning {
            speed: 10,
            subsampled: true,
            ten_bit: false,
        },
        AvifTuning {
            speed: 10,
            subsampled: false,
            ten_bit: true,
        },
        AvifTuning {
            speed: 10,
            subsampled: false,
            ten_bit: false,
        },
    ];

    /// The body of the first box of type `kind` (searched, not walked: fine for our files).
    fn find_box<'a>(file: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
        let at = file.windows(4).position(|w| w == kind)?;
        let size = u32::from_be_bytes(file[at - 4..at].try_into().unwrap()) as usize;
        file.get(at + 4..at - 4 + size)
    }

    #[test]
    fn the_container_signals_what_was_encoded() {
        for tuning in TUNINGS {
            let file = encode_avif(&card(37, 23), 100, &tuning).unwrap().file;
            assert_eq!(&file[4..12], b"ftypavif");
            let ispe = find_box(&file, b"ispe").expect("ispe");
            assert_eq!(&ispe[4..12], &[0, 0, 0, 37, 0, 0, 0, 23]);
            let av1c = find_box(&file, b"av1C").expect("av1C");
            assert_eq!(av1c[0], 0x81, "marker and version");
            assert_eq!(av1c[1] >> 5, u8::from(!tuning.subsampled), "seq_profile");
            let flags = av1c[2];
            assert_eq!(flags >> 6 & 1, u8::from(tuning.ten_bit), "high_bitdepth");
            assert_eq!(flags >> 5 & 1, 0, "twelve_bit");
            assert_eq!(flags >> 4 & 1, 0, "monochrome");
            assert_eq!(flags >> 3 & 1, u8::from(tuning.subsampled), "subsampling_x");
            assert_eq!(flags >> 2 & 1, u8::from(tuning.subsampled), "subsampling_y");
            let pixi = find_box(&file, b"pixi").expect("pixi");
            let depth = if tuning.ten_bit { 10 } else { 8 };
            assert_eq!(&pixi[4..], &[3, depth, depth, depth]);
            assert!(find_box(&file, b"Exif").is_none(), "no EXIF");
        }
    }

    #[test]
    fn a_higher_quantizer_is_a_smaller_file_further_from_the_pixels() {
        let bitmap = card(64, 48);
        for tuning in TUNINGS {
            let ssim_of = |e: &AvifEncode| ssim_rgb(&bitmap.data, &e.rec_rgb, 64, 48);
            let (fine, coarse) = (
                encode_avif(&bitmap, 30, &tuning).unwrap(),
                encode_avif(&bitmap, 180, &tuning).unwrap(),
            );
            assert!(fine.file.len() > coarse.file.len(), "{tuning:?}");
            let (f, c) = (ssim_of(&fine), ssim_of(&coarse));
            assert!(f > 0.98 && f > c, "{tuning:?}: {f} vs {c}");
        }
    }

    /// The reconstruction the search measures is what an independent decoder shows: libavif's
    /// `avifdec` (Debian libavif-bin), when it is installed.
    #[test]
    fn the_reconstruction_is_what_avifdec_decodes() {
        let probe = std::process::Command::new("avifdec")
            .arg("--version")
            .output();
        if !probe.is_ok_and(|o| o.status.success()) {
            eprintln!("avifdec not installed: reconstruction not cross-checked");
            return;
        }
        let dir = std::env::temp_dir().join(format!("thumbs-avif-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bitmap = card(61, 45);
        for (i, tuning) in TUNINGS.iter().enumerate() {
            let encoded = encode_avif(&bitmap, 120, tuning).unwrap();
            let (avif, png) = (dir.join(format!("{i}.avif")), dir.join(format!("{i}.png")));
            std::fs::write(&avif, &encoded.file).unwrap();
            let status = std::process::Command::new("avifdec")
                .args(["--depth", "8"])
                .arg(&avif)
                .arg(&png)
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "{tuning:?}: avifdec failed");
            let decoded = image::open(&png).unwrap().into_rgb8();
            assert_eq!(decoded.dimensions(), (61, 45));
            let decoded = decoded.into_raw();
            let same = ssim_rgb(&encoded.rec_rgb, &decoded, 61, 45);
            assert!(same > 0.999, "{tuning:?}: rec vs avifdec SSIM {same}");
            // The colours too, not just the grey SSIM sees: a wrong matrix or range would
            // shift each channel's mean. Pixel by pixel, 4:2:0 differs where libavif
            // interpolates chroma between samples and we take the nearest.
            let channel_mean = |rgb: &[u8], c: usize| {
                rgb.iter()
                    .skip(c)
                    .step_by(3)
                    .map(|&v| f64::from(v))
                    .sum::<f64>()
                    / (rgb.len() / 3) as f64
            };
            for c in 0..3 {
                let (ours, theirs) = (channel_mean(&encoded.rec_rgb, c), channel_mean(&decoded, c));
                assert!(
                    (ours - theirs).abs() < 1.0,
                    "{tuning:?}: channel {c} mean {ours} vs {theirs}"
                );
            }
            let mean = encoded
                .rec_rgb
                .iter()
                .zip(&decoded)
                .map(|(a, b)| f64::from(a.abs_diff(*b)))
                .sum::<f64>()
                / decoded.len() as f64;
            let limit = if tuning.subsampled { 4.0 } else { 1.0 };
            assert!(mean < limit, "{tuning:?}: mean channel difference {mean}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
