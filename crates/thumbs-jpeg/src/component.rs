//! What every part of the decoder shares: the zigzag order, one frame component with its block
//! grid and buffers, and the interface of a scan's block decoder. Kept apart from the driver
//! (decoder.rs) and the scan decoders (sequential.rs, progressive.rs) so that they all depend on
//! this module and not on each other.

use crate::huffman::BitReader;
use crate::idct::{Idct, RowTable, SparseTable};

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
    /// Progressive only: kept coefficients, `nn` per block, in zigzag order.
    pub coefs: Vec<i16>,
    /// Progressive only, when an AC refinement scan is decoded: nonzero history per block.
    pub masks: Vec<u64>,
    /// Progressive only: per zigzag index, the point transform Al of the last scan that
    /// delivered its bits (the low Al bits are unknown when refinements were skipped).
    pub al: [u8; 64],
    /// Decoded at half the resolution it would otherwise have (chroma only, for a thumbnail:
    /// `Geometry::sides`), and sharpened before it is upsampled (`upsample::sharpen`).
    pub halved: bool,
}

impl Comp {
    /// The plane's row stride and its valid width and height, in samples.
    pub(crate) fn extent(&self) -> (usize, usize, usize) {
        (
            self.pbw * self.idct.nx,
            (self.width * self.idct.nx).div_ceil(8),
            (self.height * self.idct.ny).div_ceil(8),
        )
    }

    /// The sparse IDCT table of this component's quantisation table, if its blocks are small
    /// enough for the sparse path.
    pub(crate) fn sparse_table(&self, qt: &[[u16; 64]; 4]) -> Option<Box<SparseTable>> {
        self.idct
            .sparse()
            .then(|| self.idct.sparse_table(&qt[self.tq]))
    }

    /// The transform of this component's blocks: the sparse table for small blocks, the
    /// row table of the separable path for the others.
    pub(crate) fn kernel(&self, qt: &[[u16; 64]; 4]) -> Kernel {
        match self.sparse_table(qt) {
            Some(t) => Kernel::Sparse(t),
            None => Kernel::Rows(self.idct.row_table(&qt[self.tq])),
        }
    }
}

/// How a component's blocks are inverse-transformed (idct.rs): each coefficient added into the
/// output samples (blocks of at most `SPARSE` samples), or into its row of a separable transform.
pub(crate) enum Kernel {
    Sparse(Box<SparseTable>),
    Rows(Box<RowTable>),
}

/// Decodes the blocks of one scan; the MCU loop calls it in scan order.
pub(crate) trait BlockDecoder {
    fn block(&mut self, r: &mut BitReader, comps: &mut [Comp], sc: usize, bx: usize, by: usize);
    /// A restart marker: reset DC predictions and end-of-band runs (T.81 F.2.1.3.1, G.1.2.2).
    fn restart(&mut self, comps: &mut [Comp]);
}
