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
    /// Chroma (components 1 and 2; set only for a YCbCr frame) decoded at half the luma output
    /// resolution in each direction where the block shape allows it, and upsampled.
    pub half_chroma: bool,
}

impl Geometry {
    pub(crate) fn new(
        frame: &Frame,
        n: usize,
        keep: usize,
        half_chroma: bool,
    ) -> Result<Geometry, Error> {
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
            half_chroma,
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

    /// Output block side for a component subsampled by `r` (halved by `half`): subsampled
    /// chroma is decoded straight at the luma resolution where the IDCT has that size (see
    /// `Comp::idct`). At 1/8 progressive only the DC is kept, so subsampled chroma stays 1×1 and
    /// is upsampled instead.
    fn side(&self, r: usize, half: bool) -> usize {
        let m = self.n * r;
        let m = if half { (m / 2).max(1) } else { m };
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

    /// Output block width and height of component `i`. With `half_chroma`, a chroma
    /// component is decoded at half the luma output resolution (then sharpened, and upsampled
    /// row by row in the assembly: upsample.rs) where that measured faster:
    /// - 2×2 or 2×1 blocks become 1×1: only the DC is read, and a progressive file's chroma AC
    ///   scans are skipped unread;
    /// - blocks 8 samples wide or tall (and at least 4 both ways) halve: the sparse transform
    ///   instead of the separable one;
    /// - 4×4 blocks become 2×2 in a sequential file (each coefficient read adds into 4
    ///   samples instead of 16) and in a progressive one at 1/4 (the short final sum); in a
    ///   progressive file at 1/2, with twice the coefficients kept, the upsampling cost more
    ///   than the smaller blocks saved.
    ///
    /// Elsewhere (4×2 blocks, say) the upsampling costs more than halving saves. Only at
    /// reduced scales, where the decode leaves the luma at least 1.4× the thumbnail
    /// (`Scale::for_thumbnail`), so that the chroma stays above the resolution a 4:2:0
    /// thumbnail stores; a full-scale decode may be the thumbnail's own size.
    fn sides(&self, i: usize, c: &FrameComponent) -> (usize, usize) {
        let (rh, rv) = self.ratio(c);
        let half = self.halved(i, c);
        (self.side(rh, half), self.side(rv, half))
    }

    /// Whether component `i` is decoded at half resolution (see [`Geometry::sides`]).
    fn halved(&self, i: usize, c: &FrameComponent) -> bool {
        let (rh, rv) = self.ratio(c);
        let (mh, mv) = (self.n * rh, self.n * rv);
        let pow2 = mh.is_power_of_two() && mv.is_power_of_two();
        let to_dc = mh <= 2 && mv <= 2 && mh * mv > 1;
        let smaller = mh.min(mv) >= 4 && (mh.max(mv) >= 8 || !self.progressive || self.n <= 2);
        self.half_chroma && i > 0 && self.n < 8 && pow2 && (to_dc || smaller)
    }

    /// Highest zigzag index read per component: the band, or the DC alone for a component
    /// whose blocks are 1×1 (their AC terms average out, idct.rs).
    pub(crate) fn keeps(&self, frame: &Frame) -> Vec<usize> {
        frame
            .comps
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if self.sides(i, c) == (1, 1) {
                    0
                } else {
                    self.keep
                }
            })
            .collect()
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
        for (i, c) in frame.comps.iter().enumerate() {
            let (bw, bh) = self.blocks(c);
            let blocks = (bw * bh) as u64;
            let (sh, sv) = self.sides(i, c);
            total += blocks * (sh * sv) as u64;
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
            .enumerate()
            .map(|(i, fc)| {
                let (ch, cv) = (usize::from(fc.h), usize::from(fc.v));
                let width = (w * ch).div_ceil(self.hmax);
                let height = (h * cv).div_ceil(self.vmax);
                let (pbw, pbh) = self.blocks(fc);
                let blocks = pbw * pbh;
                // A band-limited decode samples the IDCT at output-sample centres (idct.rs).
                let (sh, sv) = self.sides(i, fc);
                let idct = Idct::new(sh, sv, self.keep < 63);
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
                    halved: self.halved(i, fc),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(progressive: bool, luma: (u8, u8)) -> Frame {
        let comp = |id, (h, v)| FrameComponent { id, h, v, tq: 0 };
        Frame {
            progressive,
            width: 4000,
            height: 3000,
            comps: vec![comp(1, luma), comp(2, (1, 1)), comp(3, (1, 1))],
        }
    }

    /// Chroma block shapes (width, height) with and without halving, per sampling and scale
    /// (the rule of `Geometry::sides`); luma never changes, and the per-component band drops to
    /// the DC for 1×1 blocks.
    #[test]
    fn chroma_is_halved_where_it_saves_work() {
        // (luma sampling, n = 8 / denominator, chroma side without, with halving)
        let cases = [
            ((1, 1), 1, (1, 1), (1, 1)),
            ((1, 1), 2, (2, 2), (1, 1)),
            ((1, 1), 4, (4, 4), (2, 2)),
            ((1, 1), 8, (8, 8), (8, 8)),
            ((2, 2), 1, (2, 2), (1, 1)),
            ((2, 2), 2, (4, 4), (2, 2)),
            ((2, 2), 4, (8, 8), (4, 4)),
            ((2, 2), 8, (8, 8), (8, 8)),
            ((2, 1), 1, (2, 1), (1, 1)),
            ((2, 1), 2, (4, 2), (4, 2)),
            ((2, 1), 4, (8, 4), (4, 2)),
            ((2, 1), 8, (8, 8), (8, 8)),
        ];
        for (luma, n, plain, halved) in cases {
            let f = frame(false, luma);
            // A progressive file keeps 4×4 chroma at 1/2 (its band there is twice as wide).
            let pf = frame(true, luma);
            let g = Geometry::new(&pf, n, 9, true).unwrap();
            let want = if plain == (4, 4) && n == 4 {
                plain
            } else {
                halved
            };
            assert_eq!(g.sides(1, &pf.comps[1]), want, "progressive {luma:?} n={n}");
            for (half, want) in [(false, plain), (true, halved)] {
                let g = Geometry::new(&f, n, 9, half).unwrap();
                assert_eq!(g.sides(1, &f.comps[1]), want, "{luma:?} n={n} half={half}");
                assert_eq!(g.sides(0, &f.comps[0]), (n, n), "{luma:?} n={n}");
                let keep = if want == (1, 1) { 0 } else { g.keep };
                assert_eq!(g.keeps(&f)[1..], [keep, keep], "{luma:?} n={n} half={half}");
            }
        }
        // At 1/8 progressive every block is 1×1 and only the DC is read, halved or not.
        let g = Geometry::new(&frame(true, (2, 2)), 1, 9, true).unwrap();
        assert_eq!(g.keeps(&frame(true, (2, 2))), [0, 0, 0]);
    }
}
