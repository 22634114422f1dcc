//! Sequential (baseline and extended Huffman) block decoding, T.81 F.2.2: DC difference, then
//! run/size AC symbols straight into the reduced-size IDCT and the component plane.
//!
//! Only the coefficients up to the decode's band (zigzag index `keep`) are read; the rest of a
//! block is still entropy-decoded (it must be, to find the next block) but through the skip table,
//! which consumes each code and its magnitude bits in one step without forming the value.

use crate::component::{BlockDecoder, Comp, ZIGZAG};
use crate::huffman::{BitReader, HuffTable};
use crate::idct::{Idct, SPARSE, SparseTable, accumulate};

pub(crate) struct Sequential<'t> {
    /// Frame component of each scan component.
    pub index: [usize; 4],
    pub dc: [&'t HuffTable; 4],
    pub ac: [&'t HuffTable; 4],
    /// Highest zigzag index read (0..=63).
    pub keep: usize,
    /// Per scan component: the sparse IDCT table, or `None` for the separable transform.
    pub sparse: [Option<Box<SparseTable>>; 4],
    /// Dequantisation per scan component, natural order (separable transform only).
    pub q: [[f32; 64]; 4],
    pub blk: [i32; 64],
    pub fc: [f32; 64],
}

/// Decodes the AC symbols of a block from zigzag index 1 while the index is at most `keep`,
/// handing each coefficient to `put(k, value)`; returns the index reached (64 at the end of the
/// block). F.2.2.2, with short codes and their magnitude resolved by one table lookup.
#[inline(always)]
fn read_ac(
    r: &mut BitReader,
    ac: &HuffTable,
    keep: usize,
    mut put: impl FnMut(usize, i32),
) -> usize {
    let mut k = 1usize;
    while k <= keep {
        if r.nbits() < 32 {
            r.refill();
        }
        let f = r.fast_ac(ac);
        if f != 0 {
            k += ((f >> 8) & 0xFF) as usize;
            if k > 63 {
                return 64;
            }
            if k <= keep {
                put(k, f >> 16);
            }
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
            return 64; // EOB
        }
        k += run;
        if k > 63 {
            return 64;
        }
        let v = r.receive_extend(s);
        if k <= keep {
            put(k, v);
        }
        k += 1;
    }
    k
}

/// Consumes the rest of a block from zigzag index `k` without forming any value.
#[inline(always)]
fn skip_ac(r: &mut BitReader, ac: &HuffTable, mut k: usize) {
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
            return;
        }
        r.skip(s);
        k += run + 1;
    }
}

/// The AC coefficients of a block added one by one into its `L` output samples.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn sparse_block<const L: usize>(
    r: &mut BitReader,
    ac: &HuffTable,
    keep: usize,
    t: &SparseTable,
    dc: i32,
    idct: &Idct,
    out: &mut [u8],
    stride: usize,
) {
    let mut acc = [0f32; L];
    accumulate(&mut acc, &t[0], dc as f32);
    let k = read_ac(r, ac, keep, |k, v| accumulate(&mut acc, &t[k], v as f32));
    skip_ac(r, ac, k);
    idct.store(&acc, out, stride);
}

impl BlockDecoder for Sequential<'_> {
    #[inline]
    fn block(&mut self, r: &mut BitReader, comps: &mut [Comp], sc: usize, bx: usize, by: usize) {
        let c = &mut comps[self.index[sc]];
        let ac = self.ac[sc];
        r.refill();
        let s = u32::from(r.decode(self.dc[sc]));
        c.dc_pred = c.dc_pred.wrapping_add(r.receive_extend(s));
        // A 1×1 output reads only the DC (the AC terms average out over the block, idct.rs).
        let keep = if c.idct.dc_only() { 0 } else { self.keep };
        let stride = c.pbw * c.idct.nx;
        let at = by * c.idct.ny * stride + bx * c.idct.nx;
        if let Some(t) = &self.sparse[sc] {
            let out = &mut c.plane[at..];
            if c.idct.nx * c.idct.ny <= 4 {
                sparse_block::<4>(r, ac, keep, t, c.dc_pred, &c.idct, out, stride);
            } else {
                sparse_block::<SPARSE>(r, ac, keep, t, c.dc_pred, &c.idct, out, stride);
            }
            return;
        }
        let blk = &mut self.blk;
        blk[0] = c.dc_pred;
        let k = read_ac(r, ac, keep, |k, v| blk[usize::from(ZIGZAG[k])] = v);
        skip_ac(r, ac, k);
        // The separable transform reads all 64 and clears them, so `blk` is all zero between
        // blocks.
        let q = &self.q[sc];
        for ((f, b), &q) in self.fc.iter_mut().zip(blk.iter_mut()).zip(q) {
            *f = *b as f32 * q;
            *b = 0;
        }
        c.idct.transform(&self.fc, &mut c.plane[at..], stride);
    }

    fn restart(&mut self, comps: &mut [Comp]) {
        for c in comps {
            c.dc_pred = 0;
        }
    }
}
