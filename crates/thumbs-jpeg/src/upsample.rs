//! Chroma upsampling at the reduced resolution (ITU T.81 A.1.1: component dimensions are
//! `ceil(X · Hi / Hmax)`; the standard leaves the reconstruction filter to the decoder).
//!
//! 2× ratios use libjpeg's "fancy" triangle filter (jdsample.c h2v1/h1v2/h2v2: weights 3/4 and
//! 1/4, centred samples), which avoids the blocky colour edges of plain replication; other integer
//! ratios (4:1:1, 4× vertical) replicate.

/// A component's samples at the reduced scale: `width × height` valid samples in rows of `stride`.
#[derive(Clone, Copy)]
pub(crate) struct Plane<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub width: usize,
    pub height: usize,
}

impl Plane<'_> {
    /// The valid samples of row `y`.
    fn row(&self, y: usize) -> &[u8] {
        &self.data[y * self.stride..y * self.stride + self.width]
    }
}

/// Upsamples a [`Plane`] by the integer ratios `(rh, rv)`, one output row at a time, so that
/// the assembly converts each row while it is still in cache instead of writing and reading
/// back a whole plane per component.
pub(crate) struct Upsampler<'a> {
    p: Plane<'a>,
    rh: usize,
    rv: usize,
    /// Column sums of the 2× filters, scaled by 4 (vertical triangle).
    colsum: Vec<u16>,
}

impl<'a> Upsampler<'a> {
    pub(crate) fn new(p: Plane<'a>, rh: usize, rv: usize) -> Upsampler<'a> {
        let colsum = vec![0u16; p.width];
        Upsampler { p, rh, rv, colsum }
    }

    /// Writes output row `y` (`orow.len()` samples wide).
    pub(crate) fn row(&mut self, y: usize, orow: &mut [u8]) {
        let (p, rh, rv, colsum) = (&self.p, self.rh, self.rv, &mut self.colsum);
        if orow.is_empty() || p.width == 0 || p.height == 0 {
            orow.fill(0);
            return;
        }
        let cy = (y / rv).min(p.height - 1);
        if rh > 2 || rv > 2 {
            let src = p.row(cy);
            for (x, o) in orow.iter_mut().enumerate() {
                *o = src[(x / rh).min(p.width - 1)];
            }
            return;
        }
        let cur = p.row(cy);
        if rv == 2 {
            let ny = if y.is_multiple_of(2) {
                cy.saturating_sub(1)
            } else {
                (cy + 1).min(p.height - 1)
            };
            let nb = p.row(ny);
            for ((c, &a), &b) in colsum.iter_mut().zip(cur).zip(nb) {
                *c = 3 * u16::from(a) + u16::from(b);
            }
        } else {
            for (c, &a) in colsum.iter_mut().zip(cur) {
                *c = 4 * u16::from(a);
            }
        }
        let last = p.width - 1;
        if rh == 2 {
            // Output x comes from input x / 2 (3/4) and its neighbour on x's side (1/4),
            // clamped at the edges.
            let at = |x: usize| {
                let i = (x / 2).min(last);
                let n = if x.is_multiple_of(2) {
                    i.saturating_sub(1)
                } else {
                    (i + 1).min(last)
                };
                let bias = if x.is_multiple_of(2) { 8 } else { 7 };
                ((3 * u32::from(colsum[i]) + u32::from(colsum[n]) + bias) >> 4) as u8
            };
            // Inputs 1 ..= last - 1 have both neighbours: their two outputs need no
            // clamping, a pair at a time; the edges and any tail go through `at`.
            let out_w = orow.len();
            let pairs = last.min(out_w / 2);
            for (x, o) in orow.iter_mut().enumerate().take(2) {
                *o = at(x);
            }
            if pairs > 1 {
                let mid = orow[2..2 * pairs].chunks_exact_mut(2);
                // In 16 bits (at most 4 · 4 · 255 + 8 = 4088): twice the lanes of 32.
                for (o, c) in mid.zip(colsum.windows(3)) {
                    let m = 3 * c[1];
                    o[0] = ((m + c[0] + 8) >> 4) as u8;
                    o[1] = ((m + c[2] + 7) >> 4) as u8;
                }
            }
            for (x, o) in orow.iter_mut().enumerate().skip(2 * pairs.max(1)) {
                *o = at(x);
            }
        } else {
            for (x, o) in orow.iter_mut().enumerate() {
                *o = ((u32::from(colsum[x.min(last)]) + 2) >> 2) as u8;
            }
        }
    }
}

/// Sharpens a plane in place, `(1 + 2k)·s - k·(left + right)` and then the same down each
/// column, k = 1/4, edges replicated, for chroma decoded at half resolution
/// (`Geometry::sides`). Each of its samples is the mean over twice the width and height it
/// would otherwise cover, and the triangle filter that upsamples it blurs it again; this
/// filter followed by the triangle does what a cubic (Keys) upsampler does, at a quarter of
/// its cost because it runs on the small plane. Over 62 photos it recovered most of the
/// 512 px RGB SSIM the halving had cost; k = 1/8, closer to the cubic, recovered a little
/// less on 4:4:4 photos (docs/performance.md).
pub(crate) fn sharpen(plane: &mut [u8], stride: usize, width: usize, height: usize) {
    if width == 0 || height == 0 {
        return;
    }
    // Row y's horizontal pass, ×4: 6·s - left - right, in -510..=1530.
    let across = |plane: &[u8], y: usize, out: &mut [i16]| {
        let row = &plane[y * stride..y * stride + width];
        let at = |x: usize| {
            let (l, r) = (row[x.saturating_sub(1)], row[(x + 1).min(width - 1)]);
            6 * i16::from(row[x]) - i16::from(l) - i16::from(r)
        };
        // The inner samples three at a time without clamping (it vectorises), then the ends.
        for (o, w) in out[1..].iter_mut().zip(row.windows(3)) {
            *o = 6 * i16::from(w[1]) - i16::from(w[0]) - i16::from(w[2]);
        }
        out[0] = at(0);
        out[width - 1] = at(width - 1);
    };
    let mut above = vec![0i16; width];
    let mut here = vec![0i16; width];
    let mut below = vec![0i16; width];
    across(plane, 0, &mut here);
    above.copy_from_slice(&here);
    for y in 0..height {
        // Row y + 1 (or row y again at the bottom) is read before row y is written.
        across(plane, (y + 1).min(height - 1), &mut below);
        let out = &mut plane[y * stride..y * stride + width];
        for (((o, &a), &h), &b) in out.iter_mut().zip(&above).zip(&here).zip(&below) {
            // ×16: 6·h - a - b lies in -6120..=10200.
            let v = 6 * h - a - b;
            *o = ((i32::from(v) + 8) >> 4).clamp(0, 255) as u8;
        }
        std::mem::swap(&mut above, &mut here);
        std::mem::swap(&mut here, &mut below);
    }
}

/// Upsamples `p` by the integer ratios `(rh, rv)` to exactly `out_w × out_h` samples (the
/// whole plane: the tests' view of [`Upsampler`]).
#[cfg(test)]
pub(crate) fn upsample(p: &Plane<'_>, rh: usize, rv: usize, out_w: usize, out_h: usize) -> Vec<u8> {
    let mut out = vec![0u8; out_w * out_h];
    let mut up = Upsampler::new(*p, rh, rv);
    if out_w > 0 {
        for (y, orow) in out.chunks_exact_mut(out_w).enumerate() {
            up.row(y, orow);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The triangle filter sample by sample, with every index clamped: what `upsample` must
    /// produce however it splits a row.
    fn reference(p: &Plane<'_>, rv: usize, out_w: usize, out_h: usize) -> Vec<u8> {
        let at = |x: usize, y: usize| u32::from(p.data[y * p.stride + x]);
        let (lastx, lasty) = (p.width - 1, p.height - 1);
        let mut out = Vec::new();
        for y in 0..out_h {
            let cy = (y / rv).min(lasty);
            let ny = match (rv, y % 2) {
                (1, _) => cy,
                (_, 0) => cy.saturating_sub(1),
                _ => (cy + 1).min(lasty),
            };
            let col = |x: usize| 3 * at(x, cy) + at(x, ny);
            let col = |x: usize| if rv == 1 { 4 * at(x, cy) } else { col(x) };
            for x in 0..out_w {
                let i = (x / 2).min(lastx);
                let n = if x.is_multiple_of(2) {
                    i.saturating_sub(1)
                } else {
                    (i + 1).min(lastx)
                };
                let bias = if x.is_multiple_of(2) { 8 } else { 7 };
                out.push(((3 * col(i) + col(n) + bias) >> 4) as u8);
            }
        }
        out
    }

    /// `n` pseudo-random samples.
    fn noise(seed: u32, n: usize) -> Vec<u8> {
        let mut rng = crate::test_rng::XorShift::new(seed);
        (0..n).map(|_| rng.next_u32() as u8).collect()
    }

    #[test]
    fn twofold_rows_match_the_clamped_filter_at_every_width() {
        let data = noise(0x51ED_270B, 64 * 5);
        for width in 1..=40 {
            for height in 1..=5 {
                let p = Plane {
                    data: &data,
                    stride: 64,
                    width,
                    height,
                };
                for rv in [1, 2] {
                    for out_w in 1..=2 * width + 3 {
                        let out_h = rv * height;
                        assert_eq!(
                            upsample(&p, 2, rv, out_w, out_h),
                            reference(&p, rv, out_w, out_h),
                            "width {width} height {height} rv {rv} out_w {out_w}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn sharpen_matches_the_clamped_filter_at_every_size() {
        let data = noise(0x5A4A, 24 * 9);
        for width in 1..=20 {
            for height in 1..=9 {
                let mut got = data.clone();
                sharpen(&mut got, 24, width, height);
                let at = |x: isize, y: isize| {
                    let x = x.clamp(0, width as isize - 1) as usize;
                    let y = y.clamp(0, height as isize - 1) as usize;
                    i32::from(data[y * 24 + x])
                };
                let across = |x: isize, y: isize| 6 * at(x, y) - at(x - 1, y) - at(x + 1, y);
                for y in 0..9 {
                    for x in 0..24 {
                        let want = if x < width && y < height {
                            let (x, y) = (x as isize, y as isize);
                            let v = 6 * across(x, y) - across(x, y - 1) - across(x, y + 1);
                            ((v + 8) >> 4).clamp(0, 255) as u8
                        } else {
                            data[y * 24 + x]
                        };
                        assert_eq!(got[y * 24 + x], want, "{width}x{height} at ({x}, {y})");
                    }
                }
            }
        }
    }

    #[test]
    fn sharpen_keeps_flat_areas_and_steepens_an_edge() {
        let mut plane = [[50u8; 4], [50; 4], [150; 4], [150; 4]].concat();
        sharpen(&mut plane, 4, 4, 4);
        assert_eq!(&plane[..4], &[50; 4]);
        assert_eq!(&plane[12..], &[150; 4]);
        // Next to the edge each side moves away from the other: (6·50 - 50 - 150) / 4.
        assert_eq!(&plane[4..12], &[[25; 4], [175; 4]].concat());
    }

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
