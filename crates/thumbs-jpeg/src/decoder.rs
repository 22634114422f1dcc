//! The decode driver: frame geometry (T.81 A.2), the scan/MCU loop with restart intervals
//! (T.81 E.2.4, F.2.1.3.1), the sequential (baseline/extended Huffman) block decoder (F.2.2) and
//! the assembly of the output image (upsampling + colour conversion).

use crate::colour;
use crate::error::Error;
use crate::huffman::{BitReader, HuffTable, parse_dht};
use crate::idct::Idct;
use crate::markers::{self, ColourTransform, Frame, Scan};
use crate::progressive::{self, AcFirst, AcRefine, DcFirst, DcRefine};
use crate::upsample::{Plane, upsample};
use crate::{Decoded, Limits, PixelFormat, Scale};

/// `ZIGZAG[k]` is the natural (row-major) index of the k-th coefficient in zigzag order
/// (T.81 Figure A.6).
pub(crate) const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// One frame component with its block grid and buffers.
pub(crate) struct Comp {
    pub h: usize,
    pub v: usize,
    pub tq: usize,
    /// Component size in samples at full scale (T.81 A.1.1).
    pub width: usize,
    pub height: usize,
    /// Blocks covering the component (the extent of a non-interleaved scan, A.2.2).
    pub bw: usize,
    pub bh: usize,
    /// Blocks covering whole MCUs (the extent of an interleaved scan, A.2.3).
    pub pbw: usize,
    pub pbh: usize,
    pub dc_pred: i32,
    /// The block's output shape: N×N, or more for subsampled chroma decoded straight at the
    /// luma resolution (libjpeg-turbo's trick: a 4:2:0 chroma block at 1/8 gives 2×2 samples).
    pub idct: Idct,
    /// Samples at the reduced scale, `pbw·nx × pbh·ny`.
    pub plane: Vec<u8>,
    /// Progressive only: kept coefficients, `nn` per block.
    pub coefs: Vec<i16>,
    /// Progressive only, when an AC scan is decoded: nonzero history per block.
    pub masks: Vec<u64>,
}

/// Decodes the blocks of one scan; the MCU loop calls it in scan order.
pub(crate) trait BlockDecoder {
    fn block(&mut self, r: &mut BitReader, comps: &mut [Comp], sc: usize, bx: usize, by: usize);
    /// A restart marker: reset DC predictions and end-of-band runs (T.81 F.2.1.3.1, G.1.2.2).
    fn restart(&mut self, comps: &mut [Comp]);
}

/// How a scan ended.
struct ScanResult {
    /// MCUs decoded before the data ran out.
    mcus: usize,
    /// MCUs in one row of this scan.
    row: usize,
    /// The data ran out before the last MCU.
    exhausted: bool,
}

/// The MCU loop (T.81 A.2.2 non-interleaved, A.2.3 interleaved order) with restart handling.
fn run_scan<D: BlockDecoder>(
    d: &mut D,
    comps: &mut [Comp],
    scan: &Scan,
    mcux: usize,
    mcuy: usize,
    restart_interval: usize,
    data: &[u8],
) -> ScanResult {
    let mut r = BitReader::new(data);
    let single = scan.comps.len() == 1;
    let (mx, my) = if single {
        let c = &comps[scan.comps[0].index];
        (c.bw, c.bh)
    } else {
        (mcux, mcuy)
    };
    let mut shape = [(0usize, 0usize); 4];
    for (s, sc) in shape.iter_mut().zip(&scan.comps) {
        *s = (comps[sc.index].h, comps[sc.index].v);
    }
    let total = mx * my;
    let (mut x, mut y) = (0usize, 0usize);
    for m in 0..total {
        if restart_interval > 0 && m > 0 && m % restart_interval == 0 {
            r.restart();
            d.restart(comps);
        }
        if r.overrun() && r.at_end() {
            return ScanResult {
                mcus: m,
                row: mx,
                exhausted: true,
            };
        }
        if single {
            d.block(&mut r, comps, 0, x, y);
        } else {
            for (sc, &(h, v)) in shape[..scan.comps.len()].iter().enumerate() {
                for yy in 0..v {
                    for xx in 0..h {
                        d.block(&mut r, comps, sc, x * h + xx, y * v + yy);
                    }
                }
            }
        }
        x += 1;
        if x == mx {
            x = 0;
            y += 1;
        }
    }
    ScanResult {
        mcus: total,
        row: mx,
        exhausted: r.overrun() && r.at_end(),
    }
}

/// Sequential Huffman decoding of one block (T.81 F.2.2.1 DC, F.2.2.2 AC) straight into the
/// reduced-size IDCT and the component plane.
struct Sequential<'t> {
    index: [usize; 4],
    dc: [&'t HuffTable; 4],
    ac: [&'t HuffTable; 4],
    /// Dequantisation per scan component, natural order.
    q: [[f32; 64]; 4],
    blk: [i32; 64],
    fc: [f32; 64],
}

impl BlockDecoder for Sequential<'_> {
    #[inline]
    fn block(&mut self, r: &mut BitReader, comps: &mut [Comp], sc: usize, bx: usize, by: usize) {
        let c = &mut comps[self.index[sc]];
        let ac = self.ac[sc];
        r.refill();
        let s = u32::from(r.decode(self.dc[sc]));
        c.dc_pred = c.dc_pred.wrapping_add(r.receive_extend(s));
        let blk = &mut self.blk;
        blk[0] = c.dc_pred;
        let mut k = 1usize;
        if c.idct.dc_only() {
            // The AC coefficients must be decoded to find the next block, but nothing reads them:
            // only advance (F.2.2.2 with the values dropped).
            while k < 64 {
                if r.nbits() < 32 {
                    r.refill();
                }
                let adv = r.skip_ac(ac);
                if adv != 0 {
                    k += adv;
                    continue;
                }
                let rs = r.decode(ac);
                let (run, s) = (usize::from(rs >> 4), u32::from(rs & 15));
                if s == 0 {
                    if run == 15 {
                        k += 16;
                        continue;
                    }
                    break;
                }
                r.skip(s);
                k += run + 1;
            }
        } else {
            while k < 64 {
                if r.nbits() < 32 {
                    r.refill();
                }
                let f = r.fast_ac(ac);
                if f != 0 {
                    k += ((f >> 8) & 0xFF) as usize;
                    if k > 63 {
                        break;
                    }
                    blk[usize::from(ZIGZAG[k])] = f >> 16;
                    k += 1;
                    continue;
                }
                let rs = r.decode(ac);
                let (run, s) = (usize::from(rs >> 4), u32::from(rs & 15));
                if s == 0 {
                    if run == 15 {
                        k += 16; // ZRL
                        continue;
                    }
                    break; // EOB
                }
                k += run;
                if k > 63 {
                    break;
                }
                blk[usize::from(ZIGZAG[k])] = r.receive_extend(s);
                k += 1;
            }
        }
        // A 1×1 output reads only the DC (the AC terms average out over the block, idct.rs).
        // Larger outputs read all 64 and clear them, so `blk` is all zero between blocks.
        let q = &self.q[sc];
        if c.idct.dc_only() {
            self.fc[0] = blk[0] as f32 * q[0];
        } else {
            for ((f, b), &q) in self.fc.iter_mut().zip(blk.iter_mut()).zip(q) {
                *f = *b as f32 * q;
                *b = 0;
            }
        }
        let stride = c.pbw * c.idct.nx;
        let at = by * c.idct.ny * stride + bx * c.idct.nx;
        c.idct.transform(&self.fc, &mut c.plane[at..], stride);
    }

    fn restart(&mut self, comps: &mut [Comp]) {
        for c in comps {
            c.dc_pred = 0;
        }
    }
}

fn ceil_div(a: usize, b: usize) -> usize {
    a.div_ceil(b)
}

/// Decodes `bytes` at `scale`. See [`crate::decode_scaled`].
pub(crate) fn decode(bytes: &[u8], scale: Scale, limits: &Limits) -> Result<Decoded, Error> {
    let header = markers::read_header(bytes)?;
    let (w, h, nc) = (
        header.width as usize,
        header.height as usize,
        usize::from(header.components),
    );
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
    // Coefficients kept per block for progressive decoding: the DC at 1/8, all 64 otherwise
    // (the box-averaging IDCT reads the high odd frequencies too).
    let kn = if n == 1 { 1 } else { 64 };
    let hmax = frame
        .comps
        .iter()
        .map(|c| usize::from(c.h))
        .max()
        .unwrap_or(1);
    let vmax = frame
        .comps
        .iter()
        .map(|c| usize::from(c.v))
        .max()
        .unwrap_or(1);
    if frame
        .comps
        .iter()
        .any(|c| hmax % usize::from(c.h) != 0 || vmax % usize::from(c.v) != 0)
    {
        return Err(Error::Unsupported("non-integral chroma subsampling ratio"));
    }
    let (mcux, mcuy) = if nc == 1 {
        (ceil_div(w, 8), ceil_div(h, 8))
    } else {
        (ceil_div(w, 8 * hmax), ceil_div(h, 8 * vmax))
    };

    // Parse every scan header up front: the progressive plan needs the whole script.
    let mut scans = Vec::new();
    for s in segs.iter().filter(|s| s.marker == markers::SOS) {
        if scans.len() >= markers::MAX_SCANS {
            return Err(Error::Format("too many scans"));
        }
        scans.push(markers::parse_scan(
            &bytes[s.payload.clone()],
            &frame,
            s.data.clone(),
        )?);
    }
    if scans.is_empty() {
        return Err(Error::Truncated);
    }
    let kidx = progressive::kept_index(n);
    // Output block shape per component (see `Comp::idct`). At 1/8 progressive only the DC is
    // kept, so subsampled chroma stays 1×1 and is upsampled instead.
    let shape = |r: usize| -> usize {
        let m = n * r;
        if frame.progressive && n == 1 {
            1
        } else if matches!(m, 1 | 2 | 4 | 8) {
            m
        } else if m > 8 && m.is_multiple_of(8) {
            8
        } else {
            n
        }
    };
    let ratio = |c: &markers::FrameComponent| -> (usize, usize) {
        if nc == 1 {
            (1, 1)
        } else {
            (hmax / usize::from(c.h), vmax / usize::from(c.v))
        }
    };
    let plan = if frame.progressive {
        progressive::plan_scans(&scans, &kidx)
    } else {
        vec![true; scans.len()]
    };
    let need_masks = frame.progressive && scans.iter().zip(&plan).any(|(s, &d)| d && s.ss > 0);

    // Check the memory we are about to allocate before allocating any of it.
    let (out_w, out_h) = scale.output_size(header.width, header.height);
    let (out_w, out_h) = (out_w as usize, out_h as usize);
    let mut bytes_needed: u64 = (out_w * out_h * nc * 2) as u64;
    for c in &frame.comps {
        let blocks = (mcux * usize::from(c.h) * mcuy * usize::from(c.v)) as u64;
        let (rh, rv) = ratio(c);
        bytes_needed += blocks * (shape(rh) * shape(rv)) as u64;
        if frame.progressive {
            bytes_needed += blocks * kn as u64 * 2 + if need_masks { blocks * 8 } else { 0 };
        }
    }
    if bytes_needed > limits.max_bytes {
        return Err(too_large);
    }

    let mut comps: Vec<Comp> = frame
        .comps
        .iter()
        .map(|fc| {
            let (ch, cv) = (usize::from(fc.h), usize::from(fc.v));
            let width = ceil_div(w * ch, hmax);
            let height = ceil_div(h * cv, vmax);
            let (pbw, pbh) = if nc == 1 {
                (mcux, mcuy)
            } else {
                (mcux * ch, mcuy * cv)
            };
            let blocks = pbw * pbh;
            let (rh, rv) = ratio(fc);
            let idct = Idct::new(shape(rh), shape(rv));
            let plane_len = blocks * idct.nx * idct.ny;
            Comp {
                h: ch,
                v: cv,
                tq: usize::from(fc.tq),
                width,
                height,
                bw: ceil_div(width, 8),
                bh: ceil_div(height, 8),
                pbw,
                pbh,
                dc_pred: 0,
                plane: if frame.progressive {
                    Vec::new()
                } else {
                    vec![128; plane_len]
                },
                idct,
                coefs: if frame.progressive {
                    vec![0; blocks * kn]
                } else {
                    Vec::new()
                },
                masks: if need_masks {
                    vec![0; blocks]
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    if nc == 1 {
        // A one-component frame is always non-interleaved: MCU = one block (A.2.2).
        comps[0].h = 1;
        comps[0].v = 1;
    }

    let mut qt = [[0u16; 64]; 4];
    let mut dc: [Option<HuffTable>; 4] = Default::default();
    let mut ac: [Option<HuffTable>; 4] = Default::default();
    let mut restart_interval = 0usize;
    let mut scan_no = 0usize;
    let mut truncated = false;
    let mut first_decoded = true;
    let mut scanned = [false; 4];

    for seg in &segs {
        let p = &bytes[seg.payload.clone()];
        match seg.marker {
            markers::DQT => markers::parse_dqt(p, &mut qt)?,
            markers::DHT => parse_dht(p, &mut dc, &mut ac)?,
            markers::DRI => restart_interval = usize::from(markers::parse_dri(p)?),
            markers::DNL => return Err(Error::Unsupported("DNL marker")),
            markers::SOS => {
                let i = scan_no;
                scan_no += 1;
                if !plan[i] {
                    continue;
                }
                let scan = &scans[i];
                let data = &bytes[scan.data.clone()];
                let res = decode_scan(
                    scan,
                    &frame,
                    &mut comps,
                    (mcux, mcuy),
                    restart_interval,
                    data,
                    n,
                    &qt,
                    &dc,
                    &ac,
                    &kidx,
                )?;
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
    if !eoi && (frame.progressive || !scanned[..nc].iter().all(|&s| s)) {
        truncated = true;
    }

    if frame.progressive {
        // Dequantise and inverse-transform the kept coefficients into the planes.
        let mut fc = [0f32; 64];
        for c in &mut comps {
            let q = natural_q(&qt[c.tq]);
            let (nx, ny) = (c.idct.nx, c.idct.ny);
            let stride = c.pbw * nx;
            c.plane = vec![128; c.pbw * c.pbh * nx * ny];
            for by in 0..c.bh {
                for bx in 0..c.bw {
                    let b = by * c.pbw + bx;
                    let blk = &c.coefs[b * kn..(b + 1) * kn];
                    for ((f, &v), &q) in fc.iter_mut().zip(blk).zip(&q) {
                        *f = f32::from(v) * q;
                    }
                    let at = by * ny * stride + bx * nx;
                    c.idct.transform(&fc, &mut c.plane[at..], stride);
                }
            }
            c.coefs = Vec::new();
            c.masks = Vec::new();
        }
    }

    let (format, pixels) = assemble(
        &comps,
        header.colour,
        header.adobe_transform.is_some(),
        n,
        hmax,
        vmax,
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

fn natural_q(q: &[u16; 64]) -> [f32; 64] {
    let mut out = [0f32; 64];
    for k in 0..64 {
        out[usize::from(ZIGZAG[k])] = f32::from(q[k]);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn decode_scan(
    scan: &Scan,
    frame: &Frame,
    comps: &mut [Comp],
    (mcux, mcuy): (usize, usize),
    restart_interval: usize,
    data: &[u8],
    n: usize,
    qt: &[[u16; 64]; 4],
    dc: &[Option<HuffTable>; 4],
    ac: &[Option<HuffTable>; 4],
    kidx: &[u8; 64],
) -> Result<ScanResult, Error> {
    let missing = Error::Format("scan uses an undefined Huffman table");
    let mut index = [0usize; 4];
    for (i, sc) in scan.comps.iter().enumerate() {
        index[i] = sc.index;
    }
    let nn = if n == 1 { 1 } else { 64 };
    fn table(t: &[Option<HuffTable>; 4], id: u8) -> Result<&HuffTable, Error> {
        t[usize::from(id)]
            .as_ref()
            .ok_or(Error::Format("scan uses an undefined Huffman table"))
    }
    // Every branch runs its own block decoder over the same scan, MCU grid, restarts and data.
    macro_rules! run {
        ($d:expr) => {
            run_scan($d, comps, scan, mcux, mcuy, restart_interval, data)
        };
    }
    if !frame.progressive {
        let mut dcs = [None; 4];
        let mut acs = [None; 4];
        let mut q = [[0f32; 64]; 4];
        for (i, sc) in scan.comps.iter().enumerate() {
            dcs[i] = Some(table(dc, sc.td)?);
            acs[i] = Some(table(ac, sc.ta)?);
            q[i] = natural_q(&qt[comps[sc.index].tq]);
        }
        let first_dc = dcs[0].ok_or(missing.clone())?;
        let first_ac = acs[0].ok_or(missing.clone())?;
        let mut d = Sequential {
            index,
            dc: dcs.map(|t| t.unwrap_or(first_dc)),
            ac: acs.map(|t| t.unwrap_or(first_ac)),
            q,
            blk: [0; 64],
            fc: [0.0; 64],
        };
        return Ok(run!(&mut d));
    }
    let (ss, se, ah, al) = (
        usize::from(scan.ss),
        usize::from(scan.se),
        scan.ah,
        u32::from(scan.al),
    );
    if ss == 0 {
        if ah == 0 {
            let mut dcs = [None; 4];
            for (i, sc) in scan.comps.iter().enumerate() {
                dcs[i] = Some(table(dc, sc.td)?);
            }
            let first = dcs[0].ok_or(missing.clone())?;
            let mut d = DcFirst {
                index,
                dc: dcs.map(|t| t.unwrap_or(first)),
                al,
                nn,
            };
            Ok(run!(&mut d))
        } else {
            let mut d = DcRefine { index, al, nn };
            Ok(run!(&mut d))
        }
    } else {
        let act = table(ac, scan.comps[0].ta)?;
        if ah == 0 {
            let mut d = AcFirst {
                index: index[0],
                ac: act,
                ss,
                se,
                al,
                eobrun: 0,
                kidx: *kidx,
                nn,
            };
            Ok(run!(&mut d))
        } else {
            let mut d = AcRefine {
                index: index[0],
                ac: act,
                ss,
                se,
                al,
                eobrun: 0,
                kidx: *kidx,
                nn,
            };
            Ok(run!(&mut d))
        }
    }
}

/// Upsamples the chroma planes to the output size and converts to the output pixel format.
#[allow(clippy::too_many_arguments)]
fn assemble(
    comps: &[Comp],
    colour: ColourTransform,
    adobe: bool,
    n: usize,
    hmax: usize,
    vmax: usize,
    out_w: usize,
    out_h: usize,
) -> (PixelFormat, Vec<u8>) {
    // Each component at output resolution: either its own plane or an upsampled copy.
    let mut owned: Vec<Option<Vec<u8>>> = Vec::with_capacity(comps.len());
    for c in comps {
        let (rh, rv) = if comps.len() == 1 {
            (1, 1)
        } else {
            (n * hmax / c.h / c.idct.nx, n * vmax / c.v / c.idct.ny)
        };
        if rh == 1 && rv == 1 {
            owned.push(None);
        } else {
            let p = Plane {
                data: &c.plane,
                stride: c.pbw * c.idct.nx,
                width: ceil_div(c.width * c.idct.nx, 8),
                height: ceil_div(c.height * c.idct.ny, 8),
            };
            owned.push(Some(upsample(&p, rh, rv, out_w, out_h)));
        }
    }
    let rows = |y: usize| -> Vec<&[u8]> {
        comps
            .iter()
            .zip(&owned)
            .map(|(c, o)| match o {
                Some(v) => &v[y * out_w..(y + 1) * out_w],
                None => {
                    let stride = c.pbw * c.idct.nx;
                    &c.plane[y * stride..y * stride + out_w]
                }
            })
            .collect()
    };
    let (format, ch) = match colour {
        ColourTransform::Gray => (PixelFormat::Gray8, 1),
        ColourTransform::YCbCr | ColourTransform::Rgb => (PixelFormat::Rgb8, 3),
        ColourTransform::Cmyk | ColourTransform::Ycck => (PixelFormat::Cmyk8, 4),
    };
    let mut out = vec![0u8; out_w * out_h * ch];
    for (y, orow) in out.chunks_exact_mut(out_w * ch).enumerate() {
        let r = rows(y);
        match colour {
            ColourTransform::Gray | ColourTransform::Rgb => colour::row_interleave(&r, orow),
            ColourTransform::YCbCr => colour::row_ycbcr(r[0], r[1], r[2], orow),
            ColourTransform::Cmyk => {
                colour::row_interleave(&r, orow);
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
