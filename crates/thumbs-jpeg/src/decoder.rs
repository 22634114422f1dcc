//! The decode driver: header and limits, the walk over marker segments and scans (T.81 B.2),
//! the final transform of a progressive decode's coefficients, and the assembly of the output
//! image (upsampling + colour conversion). Geometry and the memory budget are in geometry.rs,
//! one scan in scan.rs.

use crate::colour;
use crate::component::{Comp, Kernel};
use crate::error::Error;
use crate::geometry::Geometry;
use crate::huffman::parse_dht;
use crate::idct::{Idct, Rows, SPARSE, SparseTable, accumulate, dc_sample};
use crate::markers::{self, ColourTransform, Frame, Scan};
use crate::progressive::{self, Refine};
use crate::scan::{ScanFrame, Tables, decode_scan};
use crate::upsample::{self, Plane, Upsampler};
use crate::{Decoded, Limits, PixelFormat, Scale};

/// Decodes `bytes` at `scale`, reading zigzag coefficients `0..=keep`. See
/// [`crate::decode_scaled`].
pub(crate) fn decode(
    bytes: &[u8],
    scale: Scale,
    keep: u8,
    half_chroma: bool,
    limits: &Limits,
) -> Result<Decoded, Error> {
    decode_with(bytes, scale, keep, refinement(scale), half_chroma, limits)
}

/// [`decode`] with the refinement scans past the band chosen by the caller.
fn decode_with(
    bytes: &[u8],
    scale: Scale,
    keep: u8,
    refine: Refine,
    half_chroma: bool,
    limits: &Limits,
) -> Result<Decoded, Error> {
    let header = markers::read_header(bytes)?;
    let too_large = Error::TooLarge {
        width: header.width,
        height: header.height,
        components: header.components,
    };
    if u64::from(header.width) * u64::from(header.height) > limits.max_pixels {
        return Err(too_large);
    }
    let (segs, eoi) = markers::walk(bytes, false)?;
    let frame: Frame = segs
        .iter()
        .find(|s| matches!(s.marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF))
        .map(|s| markers::parse_frame(s.marker, &bytes[s.payload.clone()]))
        .ok_or(Error::Format("no frame header"))??;
    let n = 8 / scale.denominator() as usize;
    let half_chroma = half_chroma && header.colour == ColourTransform::YCbCr;
    let geo = Geometry::new(&frame, n, usize::from(keep.min(63)), half_chroma)?;

    // Parse every scan header up front: the progressive plan needs the whole script.
    let mut scans = Vec::new();
    for s in segs.iter().filter(|s| s.marker == markers::SOS) {
        if scans.len() >= markers::MAX_SCANS {
            return Err(Error::Format("too many scans"));
        }
        let payload = &bytes[s.payload.clone()];
        scans.push(markers::parse_scan(payload, &frame, s.data.clone())?);
    }
    if scans.is_empty() {
        return Err(Error::Truncated);
    }
    let plan = if frame.progressive {
        progressive::plan_scans(&scans, &geo.keeps(&frame), refine)
    } else {
        vec![true; scans.len()]
    };
    let masks = frame.progressive
        && scans
            .iter()
            .zip(&plan)
            .any(|(s, &d)| d && s.ss > 0 && s.ah > 0);

    // Check the memory we are about to allocate before allocating any of it.
    let (out_w, out_h) = scale.output_size(header.width, header.height);
    let (out_w, out_h) = (out_w as usize, out_h as usize);
    if geo.bytes_needed(&frame, (out_w, out_h), masks) > limits.max_bytes {
        return Err(too_large);
    }
    let mut comps = geo.components(&frame, masks);

    let mut tables = Tables::new();
    let sf = ScanFrame {
        progressive: frame.progressive,
        mcux: geo.mcux,
        mcuy: geo.mcuy,
        keep: geo.keep,
    };
    let (mut truncated, all_scanned) =
        run_scans(bytes, &segs, &scans, &plan, sf, &mut tables, &mut comps)?;
    if !eoi && (frame.progressive || !all_scanned) {
        truncated = true;
    }
    if frame.progressive {
        finish_progressive(&mut comps, &tables.qt, geo.kept());
    }
    for c in comps.iter_mut().filter(|c| c.halved) {
        let (stride, width, height) = c.extent();
        upsample::sharpen(&mut c.plane, stride, width, height);
    }
    let (format, pixels) = assemble(
        &comps,
        header.colour,
        header.adobe_transform.is_some(),
        &geo,
        out_w,
        out_h,
    );
    Ok(Decoded {
        width: out_w as u32,
        height: out_h as u32,
        format,
        pixels,
        truncated,
        scale,
    })
}

/// Which refinement scans reaching past its band a progressive decode at `scale` reads (see
/// `progressive::plan_scans`). At 1/2 all but the last bit's: the band holds up to 15
/// coefficients, and without them the 512 px SSIM of such photos (1536-3071 px) was up to
/// 0.002 below Pillow's; the first refinement recovers three quarters of that for ~1.25× the
/// time, the last one the rest for ~2×, which would take some below 1.25× Pillow's time. At
/// 1/4 none: the 6 coefficients there gain 0.0003-0.0006 for 2-3× the decode time of large
/// photos. At 1/8 only the DC is read. At full scale (photos under 1536 px, whose band for a
/// 512 px thumbnail still reaches u + v = 5 or more) none: the full decode is above Pillow's
/// SSIM there already, and reading them doubled the time of one such photo. Measured in
/// docs/performance.md ("Refinement scans at 1/2").
fn refinement(scale: Scale) -> Refine {
    match scale {
        Scale::Half => Refine::AllButLastBit,
        Scale::Full | Scale::Quarter | Scale::Eighth => Refine::None,
    }
}

/// Walks the segments in order: tables as they come, each planned scan decoded with the tables
/// in force. Returns whether the data ran out early, and whether every component got a scan.
fn run_scans(
    bytes: &[u8],
    segs: &[markers::Segment],
    scans: &[Scan],
    plan: &[bool],
    sf: ScanFrame,
    t: &mut Tables,
    comps: &mut [Comp],
) -> Result<(bool, bool), Error> {
    let mut scan_no = 0usize;
    let mut truncated = false;
    let mut first_decoded = true;
    let mut scanned = [false; 4];
    for seg in segs {
        let p = &bytes[seg.payload.clone()];
        match seg.marker {
            markers::DQT => markers::parse_dqt(p, &mut t.qt)?,
            markers::DHT => parse_dht(p, &mut t.dc, &mut t.ac)?,
            markers::DRI => t.restart_interval = usize::from(markers::parse_dri(p)?),
            markers::DNL => return Err(Error::Unsupported("DNL marker")),
            markers::SOS => {
                let i = scan_no;
                scan_no += 1;
                if !plan[i] {
                    continue;
                }
                let scan = &scans[i];
                let res = decode_scan(scan, sf, t, comps, &bytes[scan.data.clone()])?;
                for sc in &scan.comps {
                    scanned[sc.index] = true;
                }
                if res.exhausted {
                    if first_decoded && res.mcus < res.row {
                        return Err(Error::Truncated);
                    }
                    truncated = true;
                }
                first_decoded = false;
            }
            _ => {}
        }
    }
    Ok((truncated, scanned[..comps.len()].iter().all(|&s| s)))
}

/// Dequantises and inverse-transforms a progressive decode's kept coefficients into the planes.
/// A nonzero coefficient whose last `al` bits never arrived (refinement scans skipped, or a
/// truncated file) lies in `[v, v ± (2^al - 1)]`: it is taken at the middle of that interval.
fn finish_progressive(comps: &mut [Comp], qt: &[[u16; 64]; 4], nn: usize) {
    for c in comps {
        let mut bias = [0f32; 64];
        for (b, &al) in bias.iter_mut().zip(&c.al) {
            *b = ((1u32 << al.min(15)) - 1) as f32 / 2.0;
        }
        let (nx, ny) = (c.idct.nx, c.idct.ny);
        let stride = c.pbw * nx;
        // Every block inside the component (`bw × bh`, all that `extent` lets a reader see)
        // is stored below, so the plane needs no mid-grey fill (zeroed memory, which a fresh
        // mapping gives without a pass over it).
        c.plane = vec![0; c.pbw * c.pbh * nx * ny];
        let kernel = c.kernel(qt);
        let value = |k: usize, v: i16| biased(v, bias[k]);
        if let (1, 1, 1, Kernel::Sparse(t)) = (nn, nx, ny, &kernel) {
            // The DC alone into 1×1 blocks (progressive at 1/8): the sparse path's sum has one
            // term, so each sample is its block's DC, level-shifted.
            for (row, coefs) in c
                .plane
                .chunks_exact_mut(stride)
                .zip(c.coefs.chunks_exact(c.pbw))
                .take(c.bh)
            {
                for (p, &v) in row[..c.bw].iter_mut().zip(&coefs[..c.bw]) {
                    *p = dc_sample(t, value(0, v));
                }
            }
        } else if let (Kernel::Sparse(t), true) = (&kernel, nx * ny <= 8) {
            // Small blocks (1/4 scale, or chroma at 1/8 and 1/4 decoded at luma resolution):
            // every kept coefficient through a sum as short as the block, zeros included.
            let plane = &mut c.plane;
            let (coefs, idct, bw, bh, pbw) = (&c.coefs, &c.idct, c.bw, c.bh, c.pbw);
            let dims = (bw, bh, pbw);
            // 2×2 blocks with the bands of `Scale::max_band` at 1/8 and 1/4 (u + v ≤ 1 or 2:
            // 3 or 6 coefficients), the blocks of every thumbnail decoded at 1/4, get a sum of
            // fixed length; any other takes the general loop.
            match (nx * ny <= 4, nn, crate::scan::allowed!(NO_FIXED_BAND)) {
                (true, 3, true) => finish_fixed::<4, 3>(plane, coefs, dims, idct, t, &bias),
                (true, 6, true) => finish_fixed::<4, 6>(plane, coefs, dims, idct, t, &bias),
                (true, _, _) => finish_small::<4>(plane, coefs, dims, nn, idct, t, &bias),
                (false, _, _) => finish_small::<8>(plane, coefs, dims, nn, idct, t, &bias),
            }
        } else {
            for by in 0..c.bh {
                for bx in 0..c.bw {
                    let b = by * c.pbw + bx;
                    let blk = &c.coefs[b * nn..(b + 1) * nn];
                    let at = by * ny * stride + bx * nx;
                    match &kernel {
                        Kernel::Sparse(t) => {
                            let mut acc = [0f32; SPARSE];
                            for (k, &v) in blk.iter().enumerate() {
                                if v != 0 {
                                    accumulate(&mut acc, &t[k], value(k, v));
                                }
                            }
                            c.idct.store(&acc, &mut c.plane[at..], stride);
                        }
                        Kernel::Rows(t) => {
                            let mut rows = Rows::new();
                            for (k, &v) in blk.iter().enumerate() {
                                if v != 0 {
                                    rows.add(t, k, value(k, v));
                                }
                            }
                            c.idct.store_rows(&rows, &mut c.plane[at..], stride);
                        }
                    }
                }
            }
        }
        c.coefs = Vec::new();
        c.masks = Vec::new();
    }
}

/// A kept coefficient `v` whose last bits may be missing, taken at the middle of the interval
/// they leave open: `bias` further from zero (half that interval's width), zero staying zero.
/// Written without a branch on the sign (random across coefficients, so a branch mispredicts
/// often): the bias takes the coefficient's sign, and is zero for a zero.
#[inline(always)]
fn biased(v: i16, bias: f32) -> f32 {
    let f = f32::from(v);
    let b = if v != 0 { bias } else { 0.0 };
    f + b.copysign(f)
}

/// [`finish_progressive`] for blocks of at most `L` samples (`L` is 4 or 8): the sum runs
/// over `L` lanes, not the largest block's 16, and adds every kept coefficient, zeros
/// included (a zero adds ±0.0, which leaves every sample as skipping it does). A block whose
/// AC coefficients are all zero is filled with its DC sample. (Blocks of 16 samples keep the
/// general loop: there, both summing the zeros and the DC fill measured slower.)
fn finish_small<const L: usize>(
    plane: &mut [u8],
    coefs: &[i16],
    (bw, bh, pbw): (usize, usize, usize),
    nn: usize,
    idct: &Idct,
    t: &SparseTable,
    bias: &[f32; 64],
) {
    let (nx, ny) = (idct.nx, idct.ny);
    let stride = pbw * nx;
    for by in 0..bh {
        for bx in 0..bw {
            let b = by * pbw + bx;
            let blk = &coefs[b * nn..(b + 1) * nn];
            let at = by * ny * stride + bx * nx;
            if let Some((&dc, ac)) = blk.split_first()
                && ac.iter().all(|&v| v == 0)
            {
                // The DC alone (smooth areas, and small coefficients whose last bits were
                // skipped): every sample is the one the sum would make from it.
                fill_block(
                    plane,
                    at,
                    stride,
                    (nx, ny),
                    dc_sample(t, biased(dc, bias[0])),
                );
                continue;
            }
            let mut acc = [0f32; L];
            for ((k, &v), row) in blk.iter().enumerate().zip(t.iter()) {
                accumulate(&mut acc, row, biased(v, bias[k]));
            }
            idct.store(&acc, &mut plane[at..], stride);
        }
    }
}

/// Fills the `nx × ny` block at `at` with one sample (a block whose AC coefficients are all
/// zero).
#[inline(always)]
fn fill_block(plane: &mut [u8], at: usize, stride: usize, (nx, ny): (usize, usize), s: u8) {
    for y in 0..ny {
        if let Some(row) = plane.get_mut(at + y * stride..at + y * stride + nx) {
            row.fill(s);
        }
    }
}

/// [`finish_small`] for a band of exactly `NN` coefficients: the block is read as an array,
/// so the all-zero test and the sum are straight-line code over constants (the weights and
/// biases held in arrays of the band's size), with the same additions in the same order, so
/// the same samples.
fn finish_fixed<const L: usize, const NN: usize>(
    plane: &mut [u8],
    coefs: &[i16],
    (bw, bh, pbw): (usize, usize, usize),
    idct: &Idct,
    t: &SparseTable,
    bias: &[f32; 64],
) {
    let (nx, ny) = (idct.nx, idct.ny);
    let stride = pbw * nx;
    let weights: [[f32; L]; NN] = std::array::from_fn(|k| std::array::from_fn(|j| t[k][j]));
    let bias: [f32; NN] = std::array::from_fn(|k| bias[k]);
    for by in 0..bh {
        for bx in 0..bw {
            let b = by * pbw + bx;
            let Some(blk) = coefs.get(b * NN..).and_then(|c| c.first_chunk::<NN>()) else {
                return;
            };
            let at = by * ny * stride + bx * nx;
            if blk[1..].iter().all(|&v| v == 0) {
                fill_block(
                    plane,
                    at,
                    stride,
                    (nx, ny),
                    dc_sample(t, biased(blk[0], bias[0])),
                );
                continue;
            }
            let mut acc = [0f32; L];
            for k in 0..NN {
                let v = biased(blk[k], bias[k]);
                for (a, &w) in acc.iter_mut().zip(&weights[k]) {
                    *a += v * w;
                }
            }
            idct.store(&acc, &mut plane[at..], stride);
        }
    }
}

/// Converts to the output pixel format row by row, upsampling the chroma rows that need it
/// as it goes (no whole upsampled plane is made).
fn assemble(
    comps: &[Comp],
    colour: ColourTransform,
    adobe: bool,
    geo: &Geometry,
    out_w: usize,
    out_h: usize,
) -> (PixelFormat, Vec<u8>) {
    let (n, hmax, vmax) = (geo.n, geo.hmax, geo.vmax);
    // Each component at output resolution: its own plane's rows, or rows upsampled one at a
    // time into a buffer of its own.
    let mut ups: Vec<Option<(Upsampler<'_>, Vec<u8>)>> = comps
        .iter()
        .map(|c| {
            let (rh, rv) = if comps.len() == 1 {
                (1, 1)
            } else {
                (n * hmax / c.h / c.idct.nx, n * vmax / c.v / c.idct.ny)
            };
            (rh != 1 || rv != 1).then(|| {
                let (stride, width, height) = c.extent();
                let p = Plane {
                    data: &c.plane,
                    stride,
                    width,
                    height,
                };
                (Upsampler::new(p, rh, rv), vec![0u8; out_w])
            })
        })
        .collect();
    let (format, ch) = match colour {
        ColourTransform::Gray => (PixelFormat::Gray8, 1),
        ColourTransform::YCbCr | ColourTransform::Rgb => (PixelFormat::Rgb8, 3),
        ColourTransform::Cmyk | ColourTransform::Ycck => (PixelFormat::Cmyk8, 4),
    };
    let mut out = vec![0u8; out_w * out_h * ch];
    for (y, orow) in out.chunks_exact_mut(out_w * ch).enumerate() {
        for (up, buf) in ups.iter_mut().flatten() {
            up.row(y, buf);
        }
        // A frame has at most 4 components (markers.rs).
        let mut rows: [&[u8]; 4] = [&[]; 4];
        for ((row, c), u) in rows.iter_mut().zip(comps).zip(&ups) {
            *row = match u {
                Some((_, buf)) => buf,
                None => {
                    let stride = c.pbw * c.idct.nx;
                    &c.plane[y * stride..y * stride + out_w]
                }
            };
        }
        let r = &rows[..comps.len().min(4)];
        match colour {
            ColourTransform::Gray | ColourTransform::Rgb => colour::row_interleave(r, orow),
            ColourTransform::YCbCr => colour::row_ycbcr(r[0], r[1], r[2], orow),
            ColourTransform::Cmyk => {
                colour::row_interleave(r, orow);
                if adobe {
                    for v in orow.iter_mut() {
                        *v = 255 - *v;
                    }
                }
            }
            ColourTransform::Ycck => colour::row_ycck([r[0], r[1], r[2], r[3]], adobe, orow),
        }
    }
    (format, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pixels of `decode` run with one of the test switches set to `on`, reset after.
    fn with_switch(
        switch: &'static std::thread::LocalKey<std::cell::Cell<bool>>,
        on: bool,
        decode: impl FnOnce() -> Decoded,
    ) -> Vec<u8> {
        switch.with(|c| c.set(on));
        let d = decode();
        switch.with(|c| c.set(false));
        d.pixels
    }

    /// With every refinement scan read, a band-limited progressive decode is its baseline
    /// twin's (the same quantised coefficients) pixel for pixel: the history walk and the bulk
    /// correction bits past the band land where the one-by-one procedure does.
    #[test]
    fn refined_band_decodes_equal_the_baseline_twin() {
        let limits = Limits::default();
        let base = include_bytes!("../tests/fixtures/coffee-420.jpg");
        for (name, prog) in [
            (
                "progressive",
                &include_bytes!("../tests/fixtures/coffee-420-progressive.jpg")[..],
            ),
            (
                "progressive-restart",
                &include_bytes!("../tests/fixtures/coffee-420-progressive-restart.jpg")[..],
            ),
        ] {
            for scale in [Scale::Quarter, Scale::Half] {
                for band in [2u8, 5, 9, 20] {
                    let a = decode_with(base, scale, band, Refine::None, false, &limits).unwrap();
                    for refine in [Refine::All, Refine::AllButLastBit, Refine::None] {
                        let b = decode_with(prog, scale, band, refine, false, &limits).unwrap();
                        let same = a.pixels == b.pixels;
                        assert_eq!(
                            same,
                            refine == Refine::All,
                            "{name} {scale:?} {band} {refine:?}"
                        );
                    }
                }
            }
        }
    }

    /// Stepping over an AC first scan's symbols past the band with the skip table gives the
    /// pixels of decoding them one by one, for every progressive fixture, band and scale
    /// (restart intervals, 4:4:4, grey, CMYK and a custom scan script included), with and
    /// without halved chroma.
    #[test]
    fn band_skip_in_first_scans_equals_symbol_by_symbol() {
        let limits = Limits::default();
        let fixtures: [&[u8]; 7] = [
            include_bytes!("../tests/fixtures/coffee-420-progressive.jpg"),
            include_bytes!("../tests/fixtures/coffee-420-progressive-restart.jpg"),
            include_bytes!("../tests/fixtures/coffee-444-progressive.jpg"),
            include_bytes!("../tests/fixtures/coffee-gray-progressive.jpg"),
            include_bytes!("../tests/fixtures/coffee-cmyk-progressive.jpg"),
            include_bytes!("../tests/fixtures/coffee-420-script.jpg"),
            include_bytes!("../tests/fixtures/astronaut-progressive.jpg"),
        ];
        let decode = |bytes, scale, band, half, no_skip: bool| {
            with_switch(&crate::scan::NO_BAND_SKIP, no_skip, || {
                decode_with(bytes, scale, band, Refine::None, half, &limits).unwrap()
            })
        };
        for (i, bytes) in fixtures.iter().enumerate() {
            for scale in [Scale::Quarter, Scale::Half, Scale::Full] {
                for band in [2u8, 5, 9, 20, 35] {
                    for half in [false, true] {
                        assert!(
                            decode(bytes, scale, band, half, false)
                                == decode(bytes, scale, band, half, true),
                            "fixture {i} {scale:?} band {band} half {half}"
                        );
                    }
                }
            }
        }
    }

    /// The inlined decoder of sequential scans whose blocks are all 1×1 gives the general
    /// block decoder's pixels, for every baseline fixture (every subsampling, restart
    /// intervals, non-interleaved scans, grey, CMYK) at 1/8, and at the scales where halved
    /// chroma or a non-interleaved chroma scan has 1×1 blocks.
    #[test]
    fn inlined_dc_blocks_equal_the_general_block_decoder() {
        let limits = Limits::default();
        let fixtures: [&[u8]; 9] = [
            include_bytes!("../tests/fixtures/coffee-420.jpg"),
            include_bytes!("../tests/fixtures/coffee-420-restart.jpg"),
            include_bytes!("../tests/fixtures/coffee-420-noninterleaved.jpg"),
            include_bytes!("../tests/fixtures/coffee-422.jpg"),
            include_bytes!("../tests/fixtures/coffee-411.jpg"),
            include_bytes!("../tests/fixtures/coffee-440.jpg"),
            include_bytes!("../tests/fixtures/coffee-444.jpg"),
            include_bytes!("../tests/fixtures/coffee-gray.jpg"),
            include_bytes!("../tests/fixtures/coffee-cmyk.jpg"),
        ];
        let decode = |bytes, scale, half, general: bool| {
            with_switch(&crate::scan::NO_DC_BLOCKS, general, || {
                decode_with(bytes, scale, 0, Refine::None, half, &limits).unwrap()
            })
        };
        for (i, bytes) in fixtures.iter().enumerate() {
            for scale in [Scale::Eighth, Scale::Quarter] {
                for half in [false, true] {
                    let inlined = decode(bytes, scale, half, false);
                    assert!(!inlined.is_empty());
                    assert!(
                        inlined == decode(bytes, scale, half, true),
                        "fixture {i} {scale:?} half {half}"
                    );
                }
            }
        }
    }

    /// The fixed-length sums of 2×2 progressive blocks give the general loop's pixels on
    /// every progressive fixture (4:2:0 with and without restarts, a hand-written script,
    /// 4:4:4, grey, CMYK), with and without halved chroma, at the bands that select them.
    #[test]
    fn fixed_band_sums_equal_the_general_loop() {
        let limits = Limits::default();
        let fixtures: [&[u8]; 7] = [
            include_bytes!("../tests/fixtures/coffee-420-progressive.jpg"),
            include_bytes!("../tests/fixtures/coffee-420-progressive-restart.jpg"),
            include_bytes!("../tests/fixtures/coffee-420-script.jpg"),
            include_bytes!("../tests/fixtures/coffee-444-progressive.jpg"),
            include_bytes!("../tests/fixtures/coffee-gray-progressive.jpg"),
            include_bytes!("../tests/fixtures/coffee-cmyk-progressive.jpg"),
            include_bytes!("../tests/fixtures/astronaut-progressive.jpg"),
        ];
        let decode = |bytes, scale, band, half, general: bool| {
            with_switch(&crate::scan::NO_FIXED_BAND, general, || {
                decode_with(bytes, scale, band, Refine::None, half, &limits).unwrap()
            })
        };
        for (i, bytes) in fixtures.iter().enumerate() {
            for (scale, band) in [(Scale::Quarter, 5), (Scale::Quarter, 2), (Scale::Eighth, 2)] {
                for half in [false, true] {
                    let fixed = decode(bytes, scale, band, half, false);
                    assert!(!fixed.is_empty());
                    assert!(
                        fixed == decode(bytes, scale, band, half, true),
                        "fixture {i} {scale:?} band {band} half {half}"
                    );
                }
            }
        }
    }

    /// At 1/8 a progressive decode reads the DC alone, whole (DC refinements are always read),
    /// and fills each block with its one value: the pixels of the baseline twin, whose blocks
    /// are the same 1×1 IDCT when no component is subsampled.
    #[test]
    fn dc_alone_decodes_equal_the_baseline_twin() {
        let limits = Limits::default();
        for (base, prog) in [
            (
                &include_bytes!("../tests/fixtures/coffee-444.jpg")[..],
                &include_bytes!("../tests/fixtures/coffee-444-progressive.jpg")[..],
            ),
            (
                &include_bytes!("../tests/fixtures/coffee-gray.jpg")[..],
                &include_bytes!("../tests/fixtures/coffee-gray-progressive.jpg")[..],
            ),
        ] {
            let a = decode_with(base, Scale::Eighth, 0, Refine::None, false, &limits).unwrap();
            let b = decode_with(prog, Scale::Eighth, 0, Refine::None, false, &limits).unwrap();
            assert_eq!((a.width, a.height), (b.width, b.height));
            assert!(a.pixels == b.pixels);
        }
    }
}
