//! Frame geometry (T.81 A.1.1, A.2): sampling factors, the MCU grid, each component's block
//! grid and the shape of its output blocks at the chosen scale, and the memory budget of a
//! decode, checked before anything is allocated.

use crate::component::Comp;
use crate::error::Error;
use crate::idct::Idct;
use crate::markers::{Frame, FrameComponent};

/// The frame's layout at one decode scale.
pub(crate) struct Geometry {
    /// Output samples per block side for a full-resolution component: 8 / denominator.
    pub n: usize,
    pub hmax: usize,
    pub vmax: usize,
    /// MCUs across and down.
    pub mcux: usize,
    pub mcuy: usize,
    /// Components in the frame.
    pub nc: usize,
    /// Highest zigzag index the decode reads.
    pub keep: usize,
    pub progressive: bool,
}

impl Geometry {
    pub(crate) fn new(frame: &Frame, n: usize, keep: usize) -> Result<Geometry, Error> {
        let nc = frame.comps.len();
        let max = |f: fn(&FrameComponent) -> u8| {
            frame
                .comps
                .iter()
                .map(|c| usize::from(f(c)))
                .max()
                .unwrap_or(1)
        };
        let (hmax, vmax) = (max(|c| c.h), max(|c| c.v));
        if frame
            .comps
            .iter()
            .any(|c| hmax % usize::from(c.h) != 0 || vmax % usize::from(c.v) != 0)
        {
            return Err(Error::Unsupported("non-integral chroma subsampling ratio"));
        }
        let (w, h) = (frame.width as usize, frame.height as usize);
        let (mcux, mcuy) = if nc == 1 {
            (w.div_ceil(8), h.div_ceil(8))
        } else {
            (w.div_ceil(8 * hmax), h.div_ceil(8 * vmax))
        };
        // At 1/8 progressive only the DC is kept (the AC scans are skipped unread).
        let keep = if frame.progressive && n == 1 { 0 } else { keep };
        Ok(Geometry {
            n,
            hmax,
            vmax,
            mcux,
            mcuy,
            nc,
            keep,
            progressive: frame.progressive,
        })
    }

    /// Coefficients kept per block by a progressive decode.
    pub(crate) fn kept(&self) -> usize {
        self.keep + 1
    }

    /// Subsampling ratio of a component against the largest (1 for a one-component frame).
    fn ratio(&self, c: &FrameComponent) -> (usize, usize) {
        if self.nc == 1 {
            (1, 1)
        } else {
            (self.hmax / usize::from(c.h), self.vmax / usize::from(c.v))
        }
    }

    /// Output block side for a component subsampled by `r`: subsampled chroma is decoded
    /// straight at the luma resolution where the IDCT has that size (see `Comp::idct`). At 1/8
    /// progressive only the DC is kept, so subsampled chroma stays 1×1 and is upsampled instead.
    fn side(&self, r: usize) -> usize {
        let m = self.n * r;
        if self.progressive && self.n == 1 {
            1
        } else if matches!(m, 1 | 2 | 4 | 8) {
            m
        } else if m > 8 && m.is_multiple_of(8) {
            8
        } else {
            self.n
        }
    }

    /// Blocks of a component, whole MCUs.
    fn blocks(&self, c: &FrameComponent) -> (usize, usize) {
        if self.nc == 1 {
            (self.mcux, self.mcuy)
        } else {
            (self.mcux * usize::from(c.h), self.mcuy * usize::from(c.v))
        }
    }

    /// Bytes a decode allocates (planes, coefficient store, history masks, output): checked
    /// against the caller's budget before any of it is allocated.
    pub(crate) fn bytes_needed(&self, frame: &Frame, out: (usize, usize), masks: bool) -> u64 {
        let mut total = (out.0 * out.1 * self.nc * 2) as u64;
        for c in &frame.comps {
            let (bw, bh) = self.blocks(c);
            let blocks = (bw * bh) as u64;
            let (rh, rv) = self.ratio(c);
            total += blocks * (self.side(rh) * self.side(rv)) as u64;
            if self.progressive {
                total += blocks * self.kept() as u64 * 2 + if masks { blocks * 8 } else { 0 };
            }
        }
        total
    }

    /// The components with their buffers: planes for a sequential decode, coefficients (and
    /// history masks if `masks`) for a progressive one.
    pub(crate) fn components(&self, frame: &Frame, masks: bool) -> Vec<Comp> {
        let (w, h) = (frame.width as usize, frame.height as usize);
        let mut comps: Vec<Comp> = frame
            .comps
            .iter()
            .map(|fc| {
                let (ch, cv) = (usize::from(fc.h), usize::from(fc.v));
                let width = (w * ch).div_ceil(self.hmax);
                let height = (h * cv).div_ceil(self.vmax);
                let (pbw, pbh) = self.blocks(fc);
                let blocks = pbw * pbh;
                let (rh, rv) = self.ratio(fc);
                // A band-limited decode samples the IDCT at output-sample centres (idct.rs).
                let idct = Idct::new(self.side(rh), self.side(rv), self.keep < 63);
                let plane_len = blocks * idct.nx * idct.ny;
                Comp {
                    h: ch,
                    v: cv,
                    tq: usize::from(fc.tq),
                    width,
                    height,
                    bw: width.div_ceil(8),
                    bh: height.div_ceil(8),
                    pbw,
                    pbh,
                    dc_pred: 0,
                    plane: if self.progressive {
                        Vec::new()
                    } else {
                        vec![128; plane_len]
                    },
                    idct,
                    coefs: if self.progressive {
                        vec![0; blocks * self.kept()]
                    } else {
                        Vec::new()
                    },
                    masks: if masks { vec![0; blocks] } else { Vec::new() },
                    al: [0; 64],
                }
            })
            .collect();
        if self.nc == 1 {
            // A one-component frame is always non-interleaved: MCU = one block (A.2.2).
            comps[0].h = 1;
            comps[0].v = 1;
        }
        comps
    }
}
