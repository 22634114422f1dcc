//! Chroma upsampling at the reduced resolution (ITU T.81 A.1.1: component dimensions are
//! `ceil(X · Hi / Hmax)`; the standard leaves the reconstruction filter to the decoder).
//!
//! 2× ratios use libjpeg's "fancy" triangle filter (jdsample.c h2v1/h1v2/h2v2: weights 3/4 and
//! 1/4, centred samples), which avoids the blocky colour edges of plain replication; other integer
//! ratios (4:1:1, 4× vertical) replicate.

/// A component's samples at the reduced scale: `width × height` valid samples in rows of `stride`.
pub(crate) struct Plane<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub width: usize,
    pub height: usize,
}

/// Upsamples `p` by the integer ratios `(rh, rv)` to exactly `out_w × out_h` samples.
pub(crate) fn upsample(p: &Plane<'_>, rh: usize, rv: usize, out_w: usize, out_h: usize) -> Vec<u8> {
    let mut out = vec![0u8; out_w * out_h];
    if out_w == 0 || out_h == 0 || p.width == 0 || p.height == 0 {
        return out;
    }
    let row = |y: usize| &p.data[y * p.stride..y * p.stride + p.width];
    if rh <= 2 && rv <= 2 {
        // Column sums scaled by 4 (vertical triangle), then the horizontal pass divides by 16.
        let mut colsum = vec![0u16; p.width];
        for (y, orow) in out.chunks_exact_mut(out_w).enumerate() {
            let cy = (y / rv).min(p.height - 1);
            let cur = row(cy);
            if rv == 2 {
                let ny = if y % 2 == 0 {
                    cy.saturating_sub(1)
                } else {
                    (cy + 1).min(p.height - 1)
                };
                let nb = row(ny);
                for ((c, &a), &b) in colsum.iter_mut().zip(cur).zip(nb) {
                    *c = 3 * u16::from(a) + u16::from(b);
                }
            } else {
                for (c, &a) in colsum.iter_mut().zip(cur) {
                    *c = 4 * u16::from(a);
                }
            }
            if rh == 2 {
                let last = p.width - 1;
                for (x, o) in orow.iter_mut().enumerate() {
                    let i = (x / 2).min(last);
                    let n = if x % 2 == 0 {
                        i.saturating_sub(1)
                    } else {
                        (i + 1).min(last)
                    };
                    let bias = if x % 2 == 0 { 8 } else { 7 };
                    *o = ((3 * u32::from(colsum[i]) + u32::from(colsum[n]) + bias) >> 4) as u8;
                }
            } else {
                let last = p.width - 1;
                for (x, o) in orow.iter_mut().enumerate() {
                    *o = ((u32::from(colsum[x.min(last)]) + 2) >> 2) as u8;
                }
            }
        }
    } else {
        for (y, orow) in out.chunks_exact_mut(out_w).enumerate() {
            let src = row((y / rv).min(p.height - 1));
            for (x, o) in orow.iter_mut().enumerate() {
                *o = src[(x / rh).min(p.width - 1)];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triangle_keeps_flat_areas_and_edges() {
        let data = [10u8, 10, 200, 200, 10, 10, 200, 200];
        let p = Plane {
            data: &data,
            stride: 4,
            width: 4,
            height: 2,
        };
        let out = upsample(&p, 2, 2, 8, 4);
        assert_eq!(&out[0..8], &[10, 10, 10, 57, 153, 200, 200, 200]);
        assert_eq!(&out[24..32], &[10, 10, 10, 57, 153, 200, 200, 200]);
        let rep = upsample(&p, 4, 1, 13, 2);
        assert_eq!(rep[12], 200);
    }
}
