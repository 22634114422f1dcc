//! Scaled inverse DCT (ITU T.81 A.3.3) producing an N×N block (N = 1, 2, 4, 8) that is exactly
//! the k×k box average (k = 8/N) of the full 8×8 IDCT, as libjpeg-turbo's jidctred.c does.
//!
//! T.81's IDCT is separable and orthonormal:
//! `f(x,y) = Σ_u Σ_v b(x,u) b(y,v) F(v,u)` with `b(x,u) = C(u)/2 · cos((2x+1)uπ/16)`, C(0) = 1/√2.
//! Averaging k neighbouring outputs averages the basis: `t(x,u) = 1/k Σ_j b(x·k + j, u)`. Over a
//! whole block every non-DC basis sums to zero, so N = 1 is the DC alone (`F(0,0)/8`) and the AC
//! coefficients can go unread; for N = 2 the even AC frequencies vanish too (jidctred's 2×2 uses
//! only coefficients 0, 1, 3, 5, 7), for N = 4 frequency 4 vanishes.

/// Box-averaged cosine bases for one output block shape (`nx × ny`; they differ for chroma that
/// is decoded straight at luma resolution, e.g. 2×1 at 1/8 for 4:2:2).
#[derive(Clone)]
pub(crate) struct Idct {
    /// Output block width and height.
    pub nx: usize,
    pub ny: usize,
    /// `tx[x][u]` and `ty[y][v]`, see the module doc.
    tx: [[f32; 8]; 8],
    ty: [[f32; 8]; 8],
}

/// `t[x][u] = 1/k Σ_j C(u)/2 · cos((2(x·k + j) + 1)uπ/16)`, k = 8/n; or, with `centre`, the
/// basis sampled at the centre of each output sample's k source samples (`x·k + (k-1)/2`).
fn basis(n: usize, centre: bool) -> [[f32; 8]; 8] {
    let k = 8 / n;
    let mut t = [[0f32; 8]; 8];
    for (x, row) in t.iter_mut().enumerate().take(n) {
        for (u, v) in row.iter_mut().enumerate() {
            let c = if u == 0 {
                std::f64::consts::FRAC_1_SQRT_2
            } else {
                1.0
            };
            let s = if centre {
                let px = (x * k) as f64 + (k - 1) as f64 / 2.0;
                ((2.0 * px + 1.0) * u as f64 * std::f64::consts::PI / 16.0).cos()
            } else {
                let mut s = 0.0;
                for j in 0..k {
                    let px = x * k + j;
                    s += (((2 * px + 1) * u) as f64 * std::f64::consts::PI / 16.0).cos();
                }
                s / k as f64
            };
            *v = (c / 2.0 * s) as f32;
        }
    }
    t
}

impl Idct {
    /// `nx` and `ny` must each be 1, 2, 4 or 8. `centre`: sample the continuous IDCT at the
    /// centre of each output sample instead of averaging it over the k×k source samples; only
    /// for a band-limited decode, whose kept frequencies are all below the output's Nyquist
    /// limit (nothing aliases), where it keeps their full amplitude instead of the box filter's
    /// attenuation (about 0.91 for the first AC frequency at 1/4).
    pub(crate) fn new(nx: usize, ny: usize, centre: bool) -> Idct {
        Idct {
            nx,
            ny,
            tx: basis(nx, centre),
            ty: basis(ny, centre),
        }
    }

    /// Only the DC term matters (1×1 output).
    pub(crate) fn dc_only(&self) -> bool {
        self.nx == 1 && self.ny == 1
    }

    /// At most [`SPARSE`] output samples: each nonzero coefficient is added straight into the
    /// output block (`nx·ny` multiply-adds), which beats the separable transform when most
    /// coefficients are zero and the block is small.
    pub(crate) fn sparse(&self) -> bool {
        self.nx * self.ny <= SPARSE
    }

    /// The output block of each coefficient, dequantised: `t[k][y·nx + x]` for zigzag index `k`,
    /// `q` the quantisation table in zigzag order (as DQT stores it). Only for [`Idct::sparse`].
    pub(crate) fn sparse_table(&self, q: &[u16; 64]) -> Box<SparseTable> {
        let mut t = Box::new([[0f32; SPARSE]; 64]);
        for (k, row) in t.iter_mut().enumerate() {
            let nat = usize::from(crate::component::ZIGZAG[k]);
            let (v, u) = (nat / 8, nat % 8);
            let qk = f32::from(q[k]);
            for y in 0..self.ny {
                for x in 0..self.nx {
                    row[y * self.nx + x] = self.ty[y][v] * self.tx[x][u] * qk;
                }
            }
        }
        t
    }

    /// Writes a block accumulated with a [`SparseTable`] (level shift and clamp, T.81 A.3.1), row
    /// by row with a row length known at compile time ([`put_row`]). Never inlined: taking the
    /// accumulator by reference in a call keeps it one vector value for the accumulating loop;
    /// inlined, the row-by-row reads of the smaller shapes made LLVM split it into scalar lanes
    /// there (a 4×4 block's 16 multiply-adds per coefficient became 16 scalar ones plus spills).
    #[inline(never)]
    pub(crate) fn store<const L: usize>(&self, acc: &[f32; L], out: &mut [u8], stride: usize) {
        #[inline(always)]
        fn rows<const NX: usize>(acc: &[f32], ny: usize, out: &mut [u8], stride: usize) {
            for y in 0..ny {
                put_row::<NX>(&acc[y * NX..], &mut out[y * stride..]);
            }
        }
        match self.nx {
            1 => rows::<1>(acc, self.ny, out, stride),
            2 => pairs(acc, self.ny, out, stride),
            4 => rows::<4>(acc, self.ny, out, stride),
            _ => rows::<8>(acc, self.ny, out, stride),
        }
    }

    /// The row pass of each coefficient, dequantised, for the separable path (blocks larger
    /// than [`SPARSE`]): `t.row[k][x] = tx[x][u] · q[k]` and `t.v[k] = v` for zigzag index `k`
    /// at natural position `(v, u)`, `q` in zigzag order (as DQT stores it).
    pub(crate) fn row_table(&self, q: &[u16; 64]) -> Box<RowTable> {
        let mut t = Box::new(RowTable {
            row: [[0f32; 8]; 64],
            v: [0; 64],
        });
        for (k, &qk) in q.iter().enumerate() {
            let nat = usize::from(crate::component::ZIGZAG[k]);
            let (v, u) = (nat / 8, nat % 8);
            for (r, tx) in t.row[k].iter_mut().zip(&self.tx[..self.nx]) {
                *r = tx[u] * f32::from(qk);
            }
            t.v[k] = v as u8;
        }
        t
    }

    /// The column pass of the separable path and the store: `out[y][x] = Σ_v ty[y][v] ·
    /// rows.tmp[v][x]` over the rows below `rows.hi` (the others are zero), level-shifted,
    /// rounded and clamped like [`Idct::store`]. Every loop runs over eight lanes, so it
    /// vectorises on any target with 128-bit vectors (SSE2, NEON).
    #[inline(always)]
    pub(crate) fn store_rows(&self, rows: &Rows, out: &mut [u8], stride: usize) {
        let hi = rows.hi.min(8);
        for y in 0..self.ny {
            let ty = &self.ty[y];
            let mut acc = [0f32; 8];
            for (t, &w) in rows.tmp[..hi].iter().zip(ty) {
                for (a, &r) in acc.iter_mut().zip(t) {
                    *a += w * r;
                }
            }
            let o = &mut out[y * stride..];
            match self.nx {
                8 => put_row::<8>(&acc, o),
                4 => put_row::<4>(&acc, o),
                2 => put_row::<2>(&acc, o),
                _ => put_row::<1>(&acc, o),
            }
        }
    }

    /// Transforms `coef` (dequantised, natural order: `coef[v*8 + u]`; for 1×1 only `coef[0]`
    /// is read) into `out[y*stride + x]`, level-shifted by +128 and clamped (T.81 A.3.1). The
    /// plain separable transform, kept as the reference of the sparse and row-table paths.
    #[cfg(test)]
    pub(crate) fn transform(&self, coef: &[f32], out: &mut [u8], stride: usize) {
        let (nx, ny) = (self.nx, self.ny);
        if nx == 1 && ny == 1 {
            out[0] = clamp(coef[0] / 8.0);
            return;
        }
        // Rows: tmp[v][x] = Σ_u tx[x][u] · F[v][u]; all-zero rows (most of them) are skipped.
        let mut tmp = [0f32; 64];
        let mut rows = [0usize; 8];
        let mut nrows = 0;
        for v in 0..8 {
            let row = &coef[v * 8..v * 8 + 8];
            if row.iter().all(|&c| c == 0.0) {
                continue;
            }
            rows[nrows] = v;
            nrows += 1;
            for x in 0..nx {
                let tx = &self.tx[x];
                let mut s = 0f32;
                for u in 0..8 {
                    s += tx[u] * row[u];
                }
                tmp[v * 8 + x] = s;
            }
        }
        // Columns: out[y][x] = Σ_v ty[y][v] · tmp[v][x]
        for y in 0..ny {
            let ty = &self.ty[y];
            let o = &mut out[y * stride..y * stride + nx];
            for (x, px) in o.iter_mut().enumerate() {
                let mut s = 0f32;
                for &v in &rows[..nrows] {
                    s += ty[v] * tmp[v * 8 + x];
                }
                *px = clamp(s);
            }
        }
    }
}

/// `1.5 · 2^23`: for |x| < 2^22, `x + MAGIC` has `x` rounded to the nearest integer (ties to
/// even) in its low mantissa bits.
const MAGIC: f32 = 12_582_912.0;

/// Level shift, round and clamp of one output row (the first `N` of `acc` into the first `N` of
/// `out`) without a saturating float-to-int conversion (which costs a compare-and-fix-up per
/// sample), in steps that compile to plain lane-wise instructions on every target (SSE2, NEON):
/// a float clamp to ±1024 (`maxps`, `minps`), the magic-number rounding (the low 16 bits of the
/// sum's bits are the rounded value in two's complement), and a clamp of those `i16`s to 0..=255
/// (`packuswb`), stored straight into the row. LLVM's SLP vectoriser is easily put off here: an
/// integer clamp of `i32`s needs SSE4.1, `f32::max`/`min` or a float clamp straight to 0..=255
/// let it sink the selects past the conversion, and converting a whole block into a local array
/// that is then copied row by row made it give up; each of those compiled to scalar code with a
/// branch-free select per sample. Rounds exact halves to even where [`clamp`] rounds them up;
/// anything out of range (only corrupt data gets there, NaN included) still ends in 0..=255.
#[inline(always)]
fn put_row<const N: usize>(acc: &[f32], out: &mut [u8]) {
    let (Some(acc), Some(out)) = (acc.first_chunk::<N>(), out.first_chunk_mut::<N>()) else {
        return;
    };
    let mut h = [0i16; N];
    for (p, &a) in h.iter_mut().zip(acc) {
        let c = (a + 128.0).clamp(-1024.0, 1024.0);
        *p = (c + MAGIC).to_bits() as i16;
    }
    for (p, &v) in out.iter_mut().zip(&h) {
        *p = v.clamp(0, 255) as u8;
    }
}

/// The rows of a block two samples wide (`ny` ≤ `L / 2`): all of them converted at once, then
/// stored two bytes a row. [`put_row`] two lanes at a time made LLVM sink its clamps past the
/// conversion into a compare and select per sample; so does it, in fact, for a whole block
/// converted into a local array, which is why a 2×2 block (every block at 1/4) takes [`quad`].
/// Larger blocks go through eight or sixteen lanes.
#[inline(always)]
fn pairs<const L: usize>(acc: &[f32; L], ny: usize, out: &mut [u8], stride: usize) {
    if let Some(acc) = acc.first_chunk::<4>()
        && L <= 4
    {
        let b = quad(acc);
        for (y, pair) in b.chunks_exact(2).take(ny).enumerate() {
            if let Some(o) = out
                .get_mut(y * stride..)
                .and_then(|o| o.first_chunk_mut::<2>())
            {
                *o = [pair[0], pair[1]];
            }
        }
        return;
    }
    let mut a = [0f32; SPARSE];
    a[..L].copy_from_slice(acc);
    let mut b = [0u8; SPARSE];
    if L <= 8 {
        put_row::<8>(&a, &mut b);
    } else {
        put_row::<SPARSE>(&a, &mut b);
    }
    for (y, pair) in b.chunks_exact(2).take(ny).enumerate() {
        if let Some(o) = out
            .get_mut(y * stride..)
            .and_then(|o| o.first_chunk_mut::<2>())
        {
            *o = [pair[0], pair[1]];
        }
    }
}

/// [`put_row`]'s four samples of a 2×2 block, clamped to 0..=255 in float before the
/// magic-number rounding, so that the low byte of the sum's bits is the sample and no integer
/// clamp follows. With `put_row`'s two clamps, LLVM turned this block's conversion (into a
/// local array, then two rows of two) into scalar code with three selects per sample, about
/// 130 instructions a block; this way it is one vector clamp and a select per sample, and the
/// three sizes of a 10 MP baseline photo at 1/4 take 4.6 % fewer instructions. The same
/// samples as `put_row`, ties and out-of-range values included (a test).
#[inline(always)]
fn quad(acc: &[f32; 4]) -> [u8; 4] {
    acc.map(|a| ((a + 128.0).clamp(0.0, 255.0) + MAGIC).to_bits() as u8)
}

/// The sample of a 1×1 block whose only coefficient is its (quantised) DC `dc`: what the
/// sparse path's sum and store make of it (`t[0]` is flat), without the block around it.
#[inline(always)]
pub(crate) fn dc_sample(t: &SparseTable, dc: f32) -> u8 {
    dc_sample_scaled(t[0][0], dc)
}

/// [`dc_sample`] with the table's one DC weight (`t[0][0]`) taken out beforehand.
#[inline(always)]
pub(crate) fn dc_sample_scaled(weight: f32, dc: f32) -> u8 {
    let mut out = [0u8; 1];
    put_row::<1>(&[dc * weight], &mut out);
    out[0]
}

/// Output samples of the largest block the sparse path handles (4×4).
pub(crate) const SPARSE: usize = 16;

/// Per zigzag coefficient, its dequantised contribution to each output sample of a block.
pub(crate) type SparseTable = [[f32; SPARSE]; 64];

/// The row pass of the separable path: per natural row `v` of the coefficient block, its
/// coefficients times the row basis (see [`Idct::row_table`]).
pub(crate) struct RowTable {
    pub row: [[f32; 8]; 64],
    pub v: [u8; 64],
}

/// A block's row-pass results, filled one coefficient at a time ([`Rows::add`]) and then
/// turned into samples by [`Idct::store_rows`].
pub(crate) struct Rows {
    pub tmp: [[f32; 8]; 8],
    /// One past the highest row with a coefficient.
    pub hi: usize,
}

impl Rows {
    #[inline(always)]
    pub(crate) fn new() -> Rows {
        Rows {
            tmp: [[0f32; 8]; 8],
            hi: 0,
        }
    }

    /// Adds zigzag coefficient `k` (`k < 64`) of value `value` into its row.
    #[inline(always)]
    pub(crate) fn add(&mut self, t: &RowTable, k: usize, value: f32) {
        let v = usize::from(t.v[k & 63]) & 7;
        for (a, &b) in self.tmp[v].iter_mut().zip(&t.row[k & 63]) {
            *a += value * b;
        }
        self.hi = self.hi.max(v + 1);
    }
}

/// `acc += v · row`: one coefficient into a block of at most `L` samples (4, 8 or 16: a fixed
/// length, so it vectorises on any target with 128-bit vectors, SSE2 on x86-64, NEON on arm64).
#[inline(always)]
pub(crate) fn accumulate<const L: usize>(acc: &mut [f32; L], row: &[f32; SPARSE], v: f32) {
    for (a, &t) in acc.iter_mut().zip(&row[..L]) {
        *a += v * t;
    }
}

#[cfg(test)]
#[inline(always)]
fn clamp(v: f32) -> u8 {
    // `as` saturates (and maps NaN to 0), so corrupt coefficients cannot panic here.
    ((v + 128.5) as i32).clamp(0, 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 8-point transform of a block's forward DCT gives the block back (orthonormality), and
    /// the N-point transform of the same coefficients is the k×k box average.
    #[test]
    fn scaled_idct_is_the_box_average() {
        let mut px = [0f32; 64];
        for y in 0..8 {
            for x in 0..8 {
                px[y * 8 + x] = (x * 9 + y * 5) as f32 - 60.0;
            }
        }
        // forward DCT, T.81 A.3.3
        let mut f = [0f32; 64];
        for v in 0..8 {
            for u in 0..8 {
                let cu = if u == 0 { 0.5f32.sqrt() } else { 1.0 };
                let cv = if v == 0 { 0.5f32.sqrt() } else { 1.0 };
                let mut s = 0.0;
                for y in 0..8 {
                    for x in 0..8 {
                        s += px[y * 8 + x]
                            * (((2 * x + 1) * u) as f32 * std::f32::consts::PI / 16.0).cos()
                            * (((2 * y + 1) * v) as f32 * std::f32::consts::PI / 16.0).cos();
                    }
                }
                f[v * 8 + u] = 0.25 * cu * cv * s;
            }
        }
        let mut out = [0u8; 64];
        Idct::new(8, 8, false).transform(&f, &mut out, 8);
        for i in 0..64 {
            assert!((f32::from(out[i]) - (px[i] + 128.0)).abs() <= 1.0);
        }
        for n in [1usize, 2, 4] {
            let k = 8 / n;
            let mut o = [0u8; 16];
            Idct::new(n, n, false).transform(&f, &mut o, n);
            for y in 0..n {
                for x in 0..n {
                    let mut avg = 0.0;
                    for yy in 0..k {
                        for xx in 0..k {
                            avg += px[(y * k + yy) * 8 + x * k + xx];
                        }
                    }
                    avg = avg / (k * k) as f32 + 128.0;
                    assert!((f32::from(o[y * n + x]) - avg).abs() <= 1.0, "n={n}");
                }
            }
        }
    }

    /// The sparse and row-table paths give the plain separable transform's samples (within
    /// rounding) for every block shape the decoder uses, on random sparse blocks.
    #[test]
    fn sparse_and_row_paths_match_the_separable_transform() {
        let mut rng = crate::test_rng::XorShift::new(0x9E37_79B9);
        let mut next = || rng.next_u32();
        let mut q = [0u16; 64];
        for (k, v) in q.iter_mut().enumerate() {
            *v = 2 + (k as u16) / 2;
        }
        for (nx, ny) in [
            (8, 8),
            (8, 4),
            (4, 8),
            (8, 2),
            (2, 8),
            (4, 4),
            (4, 2),
            (2, 2),
            (1, 1),
        ] {
            for centre in [false, true] {
                let idct = Idct::new(nx, ny, centre);
                let sparse = idct.sparse().then(|| idct.sparse_table(&q));
                let rows_t = idct.row_table(&q);
                for _ in 0..200 {
                    let mut zz = [0i32; 64];
                    let n = 1 + next() as usize % 12;
                    for _ in 0..n {
                        let k = next() as usize % 64;
                        zz[k] = (next() % 61) as i32 - 30;
                    }
                    if idct.dc_only() {
                        // A 1×1 output reads the DC alone (sequential.rs).
                        zz = [0; 64];
                    }
                    zz[0] = (next() % 201) as i32 - 100;
                    let mut nat = [0f32; 64];
                    for k in 0..64 {
                        nat[usize::from(crate::component::ZIGZAG[k])] =
                            (zz[k] * i32::from(q[k])) as f32;
                    }
                    let mut want = [0u8; 64];
                    idct.transform(&nat, &mut want, 8);
                    let mut got = [0u8; 64];
                    match &sparse {
                        Some(t) => {
                            let mut acc = [0f32; SPARSE];
                            for (k, &v) in zz.iter().enumerate() {
                                accumulate(&mut acc, &t[k], v as f32);
                            }
                            idct.store(&acc, &mut got, 8);
                        }
                        None => {
                            let mut rows = Rows::new();
                            for (k, &v) in zz.iter().enumerate() {
                                if v != 0 {
                                    rows.add(&rows_t, k, v as f32);
                                }
                            }
                            idct.store_rows(&rows, &mut got, 8);
                        }
                    }
                    // Row-table path on small blocks too (it must work for any shape).
                    let mut via_rows = [0u8; 64];
                    let mut rows = Rows::new();
                    for (k, &v) in zz.iter().enumerate() {
                        rows.add(&rows_t, k, v as f32);
                    }
                    idct.store_rows(&rows, &mut via_rows, 8);
                    for y in 0..ny {
                        for x in 0..nx {
                            let i = y * 8 + x;
                            assert!(got[i].abs_diff(want[i]) <= 1, "{nx}x{ny} {zz:?}");
                            assert!(via_rows[i].abs_diff(want[i]) <= 1, "{nx}x{ny} {zz:?}");
                        }
                    }
                }
            }
        }
    }

    /// Accumulator values only corrupt data produces: each must still end in 0..=255.
    const WILD: [f32; 7] = [
        f32::INFINITY,
        f32::NEG_INFINITY,
        1e30,
        -1e30,
        5e6,
        -5e6,
        f32::NAN,
    ];

    #[test]
    fn block_conversion_matches_the_scalar_clamp_but_for_ties() {
        let mut v = -400.0f32;
        while v < 400.0 {
            let mut p = [0u8];
            put_row::<1>(&[v], &mut p);
            let [p] = p;
            if v.fract().abs() == 0.5 {
                assert!(p.abs_diff(clamp(v)) <= 1, "{v}");
            } else {
                assert_eq!(p, clamp(v), "{v}");
            }
            v += 0.015625;
        }
        let mut p = [0u8; 3];
        put_row::<3>(&[0.5, 1.5, -0.5], &mut p);
        assert_eq!(p, [128, 130, 128]);
        let mut p = [0u8; 7];
        put_row::<7>(&WILD, &mut p);
        assert_eq!(p, [255, 0, 255, 0, 255, 0, 0]);
    }

    /// A 2×2 block's conversion gives `put_row`'s samples everywhere: in range (every
    /// sixty-fourth, so every tie), just outside it, and far outside it, NaN included.
    #[test]
    fn quad_conversion_equals_put_row() {
        let mut values = Vec::new();
        let mut v = -1100.0f32;
        while v < 1100.0 {
            values.push(v);
            v += 0.015625;
        }
        values.extend(WILD);
        values.extend([-128.5, 127.5, 126.5]);
        for q in values.chunks(4) {
            let mut acc = [0f32; 4];
            acc[..q.len()].copy_from_slice(q);
            let mut want = [0u8; 4];
            put_row::<4>(&acc, &mut want);
            assert_eq!(quad(&acc), want, "{acc:?}");
        }
    }
}
