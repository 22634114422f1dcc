//! Sequential (baseline and extended Huffman) block decoding, T.81 F.2.2: DC difference, then
//! run/size AC symbols straight into the reduced-size IDCT and the component plane.
//!
//! Only the coefficients up to the decode's band (zigzag index `keep`) are read; the rest of a
//! block is still entropy-decoded (it must be, to find the next block) but through the skip table,
//! whose one lookup consumes every complete code + magnitude pair in the next 12 bits without
//! forming any value (`BitReader::skip_rest`). The kept symbols are read by
//! `BitReader::read_ac`, which holds the bit buffer in locals.
//!
//! Two block decoders: [`Sequential`] chooses the transform per component; [`SequentialDc`],
//! for scans whose blocks are all 1×1 (1/8), is small enough to inline into the MCU loop.

use crate::component::{BlockDecoder, Comp, Kernel};
use crate::huffman::{BitReader, HuffTable, SkipTable};
use crate::idct::{
    Idct, RowTable, Rows, SPARSE, SparseTable, accumulate, dc_sample, dc_sample_scaled,
};

pub(crate) struct Sequential<'t> {
    /// Frame component of each scan component.
    pub index: [usize; 4],
    pub dc: [&'t HuffTable; 4],
    pub ac: [&'t HuffTable; 4],
    /// The multi-symbol skip table of each AC table.
    pub skip: [&'t SkipTable; 4],
    /// Highest zigzag index read (0..=63).
    pub keep: usize,
    /// Per scan component: its transform (sparse, or the row table of the separable path).
    pub kernel: [Option<Kernel>; 4],
}

/// The AC coefficients of a block added one by one into its `L` output samples.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn sparse_block<const L: usize>(
    r: &mut BitReader,
    ac: &HuffTable,
    skip: &SkipTable,
    keep: usize,
    t: &SparseTable,
    dc: i32,
    idct: &Idct,
    out: &mut [u8],
    stride: usize,
) {
    let mut acc = [0f32; L];
    accumulate(&mut acc, &t[0], dc as f32);
    let k = r.read_ac(ac, keep, |k, v| accumulate(&mut acc, &t[k], v as f32));
    r.skip_rest(ac, skip, k);
    idct.store(&acc, out, stride);
}

/// The coefficients of a block added into the rows of the separable transform (blocks larger
/// than [`SPARSE`] samples: chroma decoded straight at the luma resolution, full-scale luma).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn row_block(
    r: &mut BitReader,
    ac: &HuffTable,
    skip: &SkipTable,
    keep: usize,
    t: &RowTable,
    dc: i32,
    idct: &Idct,
    out: &mut [u8],
    stride: usize,
) {
    let mut rows = Rows::new();
    rows.add(t, 0, dc as f32);
    let k = r.read_ac(ac, keep, |k, v| rows.add(t, k, v as f32));
    r.skip_rest(ac, skip, k);
    idct.store_rows(&rows, out, stride);
}

impl BlockDecoder for Sequential<'_> {
    #[inline]
    fn block(&mut self, r: &mut BitReader, comps: &mut [Comp], sc: usize, bx: usize, by: usize) {
        let c = &mut comps[self.index[sc]];
        let (ac, skip) = (self.ac[sc], self.skip[sc]);
        r.refill();
        c.dc_pred = c.dc_pred.wrapping_add(r.dc_diff(self.dc[sc]));
        // A 1×1 output reads only the DC (the AC terms average out over the block, idct.rs).
        let keep = if c.idct.dc_only() { 0 } else { self.keep };
        let stride = c.pbw * c.idct.nx;
        let at = by * c.idct.ny * stride + bx * c.idct.nx;
        let out = &mut c.plane[at..];
        match &self.kernel[sc] {
            Some(Kernel::Sparse(t)) if keep == 0 && c.idct.dc_only() => {
                // The DC alone into a 1×1 block (1/8): its one sample, then the AC symbols
                // stepped over; the sparse sum and store would do the same work per sample.
                out[0] = dc_sample(t, c.dc_pred as f32);
                r.skip_rest(ac, skip, 1);
            }
            Some(Kernel::Sparse(t)) => {
                let n = c.idct.nx * c.idct.ny;
                if n <= 4 {
                    sparse_block::<4>(r, ac, skip, keep, t, c.dc_pred, &c.idct, out, stride);
                } else if n <= 8 {
                    sparse_block::<8>(r, ac, skip, keep, t, c.dc_pred, &c.idct, out, stride);
                } else {
                    sparse_block::<SPARSE>(r, ac, skip, keep, t, c.dc_pred, &c.idct, out, stride);
                }
            }
            Some(Kernel::Rows(t)) => {
                row_block(r, ac, skip, keep, t, c.dc_pred, &c.idct, out, stride)
            }
            // Every scan component has a kernel (scan.rs); a block without one decodes nothing.
            None => {}
        }
    }

    fn restart(&mut self, comps: &mut [Comp]) {
        for c in comps {
            c.dc_pred = 0;
        }
    }
}

/// A sequential scan whose components all have 1×1 output blocks (1/8 scale, or chroma halved
/// to 1×1): per block the DC difference, its one sample, and the AC symbols stepped over with
/// the skip table. Small enough to inline into the MCU loop, unlike [`Sequential`]'s block with
/// its transform variants, whose call per block weighs on blocks whose AC part is often one
/// EOB (a 16 MP baseline photo at 1/8 has 2 bytes of data per block): inlined, the three
/// sizes of such photos took 4-9 % less time (docs/performance.md, eleventh round).
pub(crate) struct SequentialDc<'t> {
    pub index: [usize; 4],
    pub dc: [&'t HuffTable; 4],
    pub ac: [&'t HuffTable; 4],
    pub skip: [&'t SkipTable; 4],
    /// Each scan component's DC weight (its sparse table's `t[0][0]`, see `dc_sample`).
    pub weight: [f32; 4],
}

impl BlockDecoder for SequentialDc<'_> {
    #[inline(always)]
    fn block(&mut self, r: &mut BitReader, comps: &mut [Comp], sc: usize, bx: usize, by: usize) {
        let c = &mut comps[self.index[sc]];
        r.refill();
        c.dc_pred = c.dc_pred.wrapping_add(r.dc_diff(self.dc[sc]));
        // 1×1 blocks: the plane's stride is its width in blocks.
        if let Some(out) = c.plane.get_mut(by * c.pbw + bx) {
            *out = dc_sample_scaled(self.weight[sc], c.dc_pred as f32);
        }
        r.skip_rest(self.ac[sc], self.skip[sc], 1);
    }

    fn restart(&mut self, comps: &mut [Comp]) {
        for c in comps {
            c.dc_pred = 0;
        }
    }
}
