//! Colour conversion to the output pixel formats (T.871 JFIF YCbCr, Adobe Technical Note 5116
//! for APP14 RGB / CMYK / YCCK), in 16-bit fixed point as libjpeg's jdcolor.c does.

/// `x · 2^16`, rounded.
const fn fix(x: f64) -> i32 {
    (x * 65536.0 + 0.5) as i32
}

const CR_R: i32 = fix(1.402);
const CB_G: i32 = fix(0.344_136_286);
const CR_G: i32 = fix(0.714_136_286);
const CB_B: i32 = fix(1.772);
const HALF: i32 = 1 << 15;

/// YCbCr → RGB (T.871 section 7), integer: R = Y + 1.402 Cr', G = Y − 0.344 Cb' − 0.714 Cr',
/// B = Y + 1.772 Cb', with Cb' = Cb − 128.
#[inline(always)]
pub(crate) fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let y = i32::from(y);
    let cb = i32::from(cb) - 128;
    let cr = i32::from(cr) - 128;
    let r = y + ((CR_R * cr + HALF) >> 16);
    let g = y + ((-CB_G * cb - CR_G * cr + HALF) >> 16);
    let b = y + ((CB_B * cb + HALF) >> 16);
    [
        r.clamp(0, 255) as u8,
        g.clamp(0, 255) as u8,
        b.clamp(0, 255) as u8,
    ]
}

/// Pixels per step of [`row_ycbcr`].
const LANES: usize = 16;

/// The fractional parts of the constants above, split off so that every product of a row
/// conversion fits 16-bit lanes: `CR_R = 2^16 + R_FRAC`, `CB_B = 2^17 + B_FRAC` and
/// `CR_G = 2^16 - G_CR`. Since `(2^16·n·c + x) >> 16 = n·c + (x >> 16)`, the split sums are
/// exactly [`ycbcr_to_rgb`]'s (the row tests compare every chroma pair).
const R_FRAC: i16 = (CR_R - (1 << 16)) as i16;
const B_FRAC: i16 = (CB_B - (1 << 17)) as i16;
const G_CB: i32 = -CB_G;
const G_CR: i32 = (1 << 16) - CR_G;

/// `(2c · k) >> 16`, then `(t + 1) >> 1`: `(c · k + 2^15) >> 16` rounded as [`ycbcr_to_rgb`]
/// rounds, from a 16 × 16-bit high-half product (SSE2's `pmulhw`, NEON's `vqdmulh` family),
/// which is what LLVM makes of it on fixed-length 16-bit loops.
#[inline(always)]
fn mul_round(c: i16, k: i16) -> i16 {
    let t = ((i32::from(2 * c) * i32::from(k)) >> 16) as i16;
    (t + 1) >> 1
}

/// Writes interleaved YCbCr → RGB for one row: [`ycbcr_to_rgb`] for every pixel, `LANES` at a
/// time in loops of a fixed length, so that the products (16-bit high halves, [`mul_round`],
/// and one 16 × 16 → 32-bit sum for green), the clamps (SSE2's saturating packs) and the three
/// planes run lane-wise (SSE2, NEON); only the interleave is per pixel.
pub(crate) fn row_ycbcr(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
    let n = out.len() / 3;
    let (y, cb, cr) = (
        &y[..n.min(y.len())],
        &cb[..n.min(cb.len())],
        &cr[..n.min(cr.len())],
    );
    let mut chunks = out
        .chunks_exact_mut(3 * LANES)
        .zip(y.chunks_exact(LANES))
        .zip(cb.chunks_exact(LANES).zip(cr.chunks_exact(LANES)));
    let mut done = 0;
    for ((o, y), (cb, cr)) in &mut chunks {
        let mut rgb = [[0u8; LANES]; 3];
        for i in 0..LANES {
            let yy = i16::from(y[i]);
            let b = i16::from(cb[i]) - 128;
            let r = i16::from(cr[i]) - 128;
            let g = (G_CB * i32::from(b) + G_CR * i32::from(r) + HALF) >> 16;
            // Within -180..=440: no lane overflows before the clamp.
            let v = [
                yy + r + mul_round(r, R_FRAC),
                yy - r + g as i16,
                yy + 2 * b + mul_round(b, B_FRAC),
            ];
            for (p, v) in rgb.iter_mut().zip(v) {
                p[i] = v.clamp(0, 255) as u8;
            }
        }
        for (i, o) in o.chunks_exact_mut(3).enumerate() {
            o.copy_from_slice(&[rgb[0][i], rgb[1][i], rgb[2][i]]);
        }
        done += LANES;
    }
    for (((o, &y), &cb), &cr) in out[3 * done..]
        .chunks_exact_mut(3)
        .zip(&y[done..])
        .zip(&cb[done..])
        .zip(&cr[done..])
    {
        o.copy_from_slice(&ycbcr_to_rgb(y, cb, cr));
    }
}

/// Interleaves `n` planes' rows into `out` unchanged.
pub(crate) fn row_interleave(rows: &[&[u8]], out: &mut [u8]) {
    let n = rows.len();
    for (c, r) in rows.iter().enumerate() {
        for (o, &v) in out.iter_mut().skip(c).step_by(n).zip(r.iter()) {
            *o = v;
        }
    }
}

/// YCCK → CMYK as libjpeg does (C = 255 − R, M = 255 − G, Y = 255 − B, K unchanged), then
/// `invert` flips all four so that 0 means "no ink" (Adobe files store inverted CMYK).
pub(crate) fn row_ycck(rows: [&[u8]; 4], invert: bool, out: &mut [u8]) {
    let [y, cb, cr, k] = rows;
    for ((((o, &y), &cb), &cr), &k) in out.chunks_exact_mut(4).zip(y).zip(cb).zip(cr).zip(k) {
        let [r, g, b] = ycbcr_to_rgb(y, cb, cr);
        let cmyk = [255 - r, 255 - g, 255 - b, k];
        for (o, v) in o.iter_mut().zip(cmyk) {
            *o = if invert { 255 - v } else { v };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_colours() {
        assert_eq!(ycbcr_to_rgb(128, 128, 128), [128, 128, 128]);
        assert_eq!(ycbcr_to_rgb(76, 85, 255), [254, 0, 0]);
        assert_eq!(ycbcr_to_rgb(255, 128, 128), [255, 255, 255]);
    }

    #[test]
    fn row_conversion_is_the_pixel_conversion() {
        let mut rng = crate::test_rng::XorShift::new(0x1234_5678);
        let mut next = || rng.next_u32() as u8;
        for n in [0usize, 1, 15, 16, 17, 40, 1001] {
            let (y, cb, cr): (Vec<u8>, Vec<u8>, Vec<u8>) =
                (0..n).map(|_| (next(), next(), next())).collect();
            let mut out = vec![0u8; 3 * n];
            row_ycbcr(&y, &cb, &cr, &mut out);
            for i in 0..n {
                assert_eq!(
                    out[3 * i..3 * i + 3],
                    ycbcr_to_rgb(y[i], cb[i], cr[i]),
                    "{n} {i}"
                );
            }
        }
    }

    /// Every (Cb, Cr) pair, at the luma values where the clamps bite and in between: the
    /// lane-wise row conversion gives the pixel conversion's bytes.
    #[test]
    fn row_conversion_is_the_pixel_conversion_for_every_chroma_pair() {
        let cb: Vec<u8> = (0..=255u8).flat_map(|b| [b; 256]).collect();
        let cr: Vec<u8> = (0..=255u8).cycle().take(256 * 256).collect();
        for luma in [0u8, 1, 16, 100, 128, 200, 235, 254, 255] {
            let y = vec![luma; cb.len()];
            let mut out = vec![0u8; 3 * cb.len()];
            row_ycbcr(&y, &cb, &cr, &mut out);
            for (i, px) in out.chunks_exact(3).enumerate() {
                assert_eq!(
                    px,
                    ycbcr_to_rgb(luma, cb[i], cr[i]),
                    "{luma} {} {}",
                    cb[i],
                    cr[i]
                );
            }
        }
    }
}
