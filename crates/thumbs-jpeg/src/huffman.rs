//! Huffman decoding (ITU T.81 Annex C table specification, F.2.2.3 decoding procedure) and the
//! entropy-coded segment bit reader (F.2.2.5, byte stuffing F.1.2.3, markers B.1.1.2).
//!
//! The bit reader keeps a 64-bit, MSB-aligned buffer refilled eight bytes at a time when no 0xFF
//! byte is in sight. Codes up to `LOOKAHEAD` bits long resolve with one table load; AC tables also
//! carry a "fast AC" table that decodes run, size and the extended value of short codes at once,
//! DC tables a "fast DC" one that does the same for the difference. Coefficients nobody reads
//! are stepped over with a multi-symbol skip table (`SKIP_BITS` of lookahead resolve every code
//! that lies in the window at once, longer than the `LOOKAHEAD` ones included, with its
//! magnitude bits even where they run past the window's end, so every lookup steps over at
//! least one symbol unless the code is longer than the window).

use crate::error::Error;

/// Bits resolved by one lookup.
pub(crate) const LOOKAHEAD: u32 = 10;
const LOOKUP_SIZE: usize = 1 << LOOKAHEAD;
/// Bits of lookahead of one multi-symbol skip lookup (it may consume up to 12 + 15).
pub(crate) const SKIP_BITS: u32 = 12;
const SKIP_SIZE: usize = 1 << SKIP_BITS;
/// A skip-table entry: bits consumed in the low five bits, zigzag advance above them (ZRL counts
/// 16, an EOB nothing), and this flag when the last symbol resolved is an EOB.
const SKIP_EOB: u16 = 1 << 12;

/// The multi-symbol skip table of an AC table.
pub(crate) type SkipTable = [u16; SKIP_SIZE];

/// A decoding table built from a DHT segment (T.81 B.2.4.2, C.2).
#[derive(Clone)]
pub(crate) struct HuffTable {
    /// `(code length << 8) | symbol` for codes of at most LOOKAHEAD bits, else 0.
    lookup: Box<[u16; LOOKUP_SIZE]>,
    /// For AC tables: `(value << 16) | (run << 8) | total bits` when code plus magnitude bits fit
    /// in LOOKAHEAD and the symbol is not EOB/ZRL, else 0.
    fast_ac: Box<[i32; LOOKUP_SIZE]>,
    /// For DC tables: `(difference << 16) | total bits` when code plus magnitude bits fit in
    /// LOOKAHEAD, else 0.
    fast_dc: Box<[i32; LOOKUP_SIZE]>,
    /// For AC tables whose values are dropped: every complete symbol in a `SKIP_BITS` window
    /// (see `SKIP_EOB`). Built on first use: only sequential scans with a band skip with it.
    skip: std::sync::OnceLock<Box<SkipTable>>,
    /// The same for a progressive AC first scan: entries end before an end-of-band run
    /// (EOB1-EOB14, which carry extra bits and span blocks); EOB0 ends the block as EOB does.
    skip_progressive: std::sync::OnceLock<Box<SkipTable>>,
    /// Largest code of each length (-1 if none), T.81 F.2.2.3 MAXCODE; index 17 is a sentinel.
    maxcode: [i32; 18],
    /// `VALPTR - MINCODE` per length: symbol index = code + valoffset.
    valoffset: [i32; 17],
    values: [u8; 256],
}

impl HuffTable {
    /// Builds the table from the 16 code-length counts and the symbol values (T.81 C.2).
    pub(crate) fn new(counts: &[u8; 16], symbols: &[u8]) -> Result<HuffTable, Error> {
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if total > 256 || symbols.len() < total {
            return Err(Error::Format("bad Huffman table"));
        }
        let mut values = [0u8; 256];
        values[..total].copy_from_slice(&symbols[..total]);
        let mut lookup = Box::new([0u16; LOOKUP_SIZE]);
        let mut maxcode = [-1i32; 18];
        let mut valoffset = [0i32; 17];
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = usize::from(counts[len as usize - 1]);
            valoffset[len as usize] = k as i32 - code as i32;
            for _ in 0..n {
                // C.2: codes of a length must fit in that many bits. Checked before the code
                // indexes `lookup` (an overfull DHT used to panic here; found by fuzz/ pipeline).
                if code >= (1 << len) {
                    return Err(Error::Format("bad Huffman table (overfull)"));
                }
                if len <= LOOKAHEAD {
                    let shift = LOOKAHEAD - len;
                    let first = (code << shift) as usize;
                    let entry = ((len as u16) << 8) | u16::from(values[k]);
                    for e in &mut lookup[first..first + (1 << shift)] {
                        *e = entry;
                    }
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                maxcode[len as usize] = code as i32 - 1;
            }
            // C.2: codes of a length must fit in that many bits (all-ones is reserved).
            if code > (1 << len) {
                return Err(Error::Format("bad Huffman table (overfull)"));
            }
            code <<= 1;
        }
        maxcode[17] = i32::MAX;
        let mut fast_ac = Box::new([0i32; LOOKUP_SIZE]);
        let mut fast_dc = Box::new([0i32; LOOKUP_SIZE]);
        for (i, (f, d)) in fast_ac.iter_mut().zip(fast_dc.iter_mut()).enumerate() {
            let e = lookup[i];
            if e == 0 {
                continue;
            }
            let len = u32::from(e >> 8);
            let rs = (e & 0xFF) as u8;
            let (run, size) = (u32::from(rs >> 4), u32::from(rs & 15));
            if len + size > LOOKAHEAD {
                continue;
            }
            let bits = ((i as u32) >> (LOOKAHEAD - len - size)) & ((1 << size) - 1);
            let v = extend(bits, size);
            // A DC symbol is a size alone (T.81 F.2.2.1); anything above 11 is corrupt.
            if run == 0 {
                *d = (v << 16) | (len + size) as i32;
            }
            if size != 0 {
                *f = (v << 16) | ((run as i32) << 8) | (len + size) as i32;
            }
        }
        Ok(HuffTable {
            lookup,
            fast_ac,
            fast_dc,
            skip: std::sync::OnceLock::new(),
            skip_progressive: std::sync::OnceLock::new(),
            maxcode,
            valoffset,
            values,
        })
    }
}

impl HuffTable {
    /// The code at the top of the 16-bit, MSB-aligned window `w` if its length is in `lens`
    /// (and no shorter code matched): its length and symbol (T.81 F.2.2.3 DECODE on a window
    /// instead of a stream).
    fn code_in(&self, w: u32, lens: std::ops::RangeInclusive<u32>) -> Option<(u32, u8)> {
        let (first, last) = (*lens.start(), (*lens.end()).min(16));
        (first..=last).find_map(|len| {
            let code = (w >> (16 - len)) as i32;
            (code <= self.maxcode[len as usize]).then(|| {
                let i = (code + self.valoffset[len as usize]) as usize;
                (len, self.values[i & 255])
            })
        })
    }

    /// The multi-symbol skip table (built once per table, on first use).
    pub(crate) fn skip_table(&self) -> &SkipTable {
        self.skip.get_or_init(|| self.build_skip(false))
    }

    /// [`HuffTable::skip_table`] for progressive AC first scans (see `skip_progressive`).
    pub(crate) fn skip_table_progressive(&self) -> &SkipTable {
        self.skip_progressive.get_or_init(|| self.build_skip(true))
    }

    fn build_skip(&self, progressive: bool) -> Box<SkipTable> {
        let mut t = Box::new([0u16; SKIP_SIZE]);
        for (i, entry) in t.iter_mut().enumerate() {
            let (mut pos, mut adv, mut eob) = (0u32, 0u16, 0u16);
            while pos < SKIP_BITS && adv < 64 {
                let rem = SKIP_BITS - pos;
                // The rest of the window, MSB-aligned in 16 bits (zero past its end).
                let w = (((i as u32) << pos) & (SKIP_SIZE as u32 - 1)) << (16 - SKIP_BITS);
                // The code must lie in the window (codes longer than the short-code
                // lookup's included); its magnitude bits need not: they are only stepped
                // over, and the reader holds at least 32 bits (12 + 15 fit).
                let Some((len, rs)) = self.code_in(w, 1..=rem) else {
                    break;
                };
                let rs = u16::from(rs);
                if progressive && rs & 15 == 0 && rs != 0x00 && rs != 0xF0 {
                    break; // EOBn: its run is the caller's to decode
                }
                let size = u32::from(rs & 15);
                pos += len + size;
                match rs {
                    0x00 => {
                        eob = SKIP_EOB;
                        break;
                    }
                    0xF0 => adv += 16,
                    _ => adv += (rs >> 4) + 1,
                }
            }
            *entry = eob | (adv << 5) | pos as u16;
        }
        t
    }
}

/// The skip-table entry for the window at the top of `bits`: the entry (0: no whole symbol
/// in the window), its zigzag advance, and 1 if it ends with an EOB (see `SKIP_EOB`).
#[inline(always)]
fn skip_entry(skip: &SkipTable, bits: u64) -> (u16, usize, usize) {
    let e = skip[(bits >> (64 - SKIP_BITS)) as usize];
    (e, usize::from((e >> 5) & 127), usize::from(e >> 12))
}

/// Parses a DHT segment (T.81 B.2.4.2) into the DC (class 0) and AC (class 1) table slots.
pub(crate) fn parse_dht(
    mut p: &[u8],
    dc: &mut [Option<HuffTable>; 4],
    ac: &mut [Option<HuffTable>; 4],
) -> Result<(), Error> {
    while !p.is_empty() {
        if p.len() < 17 {
            return Err(Error::Truncated);
        }
        let class = p[0] >> 4;
        let id = usize::from(p[0] & 15);
        if class > 1 || id > 3 {
            return Err(Error::Format("bad DHT class or id"));
        }
        let mut counts = [0u8; 16];
        counts.copy_from_slice(&p[1..17]);
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        if p.len() < 17 + total {
            return Err(Error::Truncated);
        }
        let t = HuffTable::new(&counts, &p[17..17 + total])?;
        if class == 0 {
            dc[id] = Some(t);
        } else {
            ac[id] = Some(t);
        }
        p = &p[17 + total..];
    }
    Ok(())
}

/// EXTEND (T.81 F.2.2.1, Figure F.12): the `size`-bit magnitude category value to a signed value.
#[inline(always)]
pub(crate) fn extend(v: u32, size: u32) -> i32 {
    if size == 0 {
        return 0;
    }
    let v = v as i32;
    if v < (1 << (size - 1)) {
        v - (1 << size) + 1
    } else {
        v
    }
}

/// Reads an entropy-coded segment. Past a marker or the end of the data it feeds zero bits and
/// counts them, so a truncated or corrupt stream decodes to something without ever panicking.
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Valid bits, MSB first.
    bits: u64,
    nbits: u32,
    /// Zero bytes fed since a marker or the end of the data stopped us.
    padding: u32,
    stopped: bool,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> BitReader<'a> {
        BitReader {
            data,
            pos: 0,
            bits: 0,
            nbits: 0,
            padding: 0,
            stopped: false,
        }
    }

    /// Tops the buffer up to at least 57 bits.
    #[inline(always)]
    pub(crate) fn refill(&mut self) {
        if self.nbits >= 57 {
            return;
        }
        if let Some(b) = self.data.get(self.pos..self.pos + 8) {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            let w = u64::from_be_bytes(a);
            let x = !w;
            let has_ff = x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080;
            if has_ff == 0 {
                let k = (64 - self.nbits) / 8;
                self.bits |= (w >> (64 - 8 * k)) << (64 - 8 * k - self.nbits);
                self.nbits += 8 * k;
                self.pos += k as usize;
                return;
            }
        }
        self.refill_slow();
    }

    #[cold]
    fn refill_slow(&mut self) {
        while self.nbits <= 56 {
            let byte = if self.stopped || self.pos >= self.data.len() {
                self.stopped = true;
                self.padding = self.padding.saturating_add(1);
                0
            } else {
                let b = self.data[self.pos];
                if b == 0xFF {
                    if self.data.get(self.pos + 1) == Some(&0) {
                        self.pos += 2;
                        0xFF
                    } else {
                        // A marker (or a lone 0xFF at the end): stop here, T.81 F.1.2.3.
                        self.stopped = true;
                        self.padding = self.padding.saturating_add(1);
                        0
                    }
                } else {
                    self.pos += 1;
                    b
                }
            };
            self.bits |= u64::from(byte) << (56 - self.nbits);
            self.nbits += 8;
        }
    }

    /// True once bits that came from padding (not from the data) have been consumed: the scan's
    /// data ran out.
    #[inline(always)]
    pub(crate) fn overrun(&self) -> bool {
        self.padding.saturating_mul(8) > self.nbits
    }

    /// True if the reader has reached the end of its data (not a restart marker inside it).
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    #[inline(always)]
    fn peek(&self, n: u32) -> u32 {
        (self.bits >> (64 - n)) as u32
    }

    #[inline(always)]
    fn consume(&mut self, n: u32) {
        // `n <= 32 <= nbits` holds because callers refill before each symbol (at most 16 + 16
        // bits); `min` keeps a broken invariant from underflowing.
        let n = n.min(self.nbits);
        self.bits <<= n;
        self.nbits -= n;
    }

    /// Decodes one Huffman symbol (T.81 F.2.2.3 DECODE). Needs >= 16 buffered bits.
    #[inline(always)]
    pub(crate) fn decode(&mut self, t: &HuffTable) -> u8 {
        let e = t.lookup[self.peek(LOOKAHEAD) as usize];
        if e != 0 {
            self.consume(u32::from(e >> 8));
            return e as u8;
        }
        self.decode_slow(t)
    }

    #[cold]
    fn decode_slow(&mut self, t: &HuffTable) -> u8 {
        // The short-code lookup found no code of up to LOOKAHEAD bits.
        if let Some((len, symbol)) = t.code_in(self.peek(16), LOOKAHEAD + 1..=16) {
            self.consume(len);
            return symbol;
        }
        // No such code: corrupt data. Consume 16 bits and carry on, as libjpeg does.
        self.consume(16);
        0
    }

    /// RECEIVE + EXTEND (T.81 F.2.2.1): `size` bits as a signed coefficient value.
    #[inline(always)]
    pub(crate) fn receive_extend(&mut self, size: u32) -> i32 {
        if size == 0 {
            return 0;
        }
        let size = size.min(16);
        let v = self.peek(size);
        self.consume(size);
        extend(v, size)
    }

    /// Tops up a bit buffer that a loop holds in locals (`bits`, `nbits`) to keep it in
    /// registers, through the reader, when fewer than 32 bits are left.
    #[inline(always)]
    fn refill_locals(&mut self, bits: &mut u64, nbits: &mut u32) {
        if *nbits < 32 {
            self.bits = *bits;
            self.nbits = *nbits;
            self.refill();
            (*bits, *nbits) = (self.bits, self.nbits);
        }
    }

    /// Decodes a block's AC symbols (sequential, T.81 F.2.2.2) from zigzag index 1 while the
    /// index is at most `keep`, handing each coefficient to `put(k, value)`; returns the index
    /// reached (64 at the end of the block). Short codes and their magnitude resolve with one
    /// lookup of the fast AC table. The bit buffer lives in locals, written back only around
    /// the slow paths (a refill, a long code), so that the per-symbol chain of lookup, shift
    /// and next lookup stays in registers instead of going through the reader in memory.
    #[inline(always)]
    pub(crate) fn read_ac(
        &mut self,
        t: &HuffTable,
        keep: usize,
        mut put: impl FnMut(usize, i32),
    ) -> usize {
        let (mut bits, mut nbits) = (self.bits, self.nbits);
        let mut k = 1usize;
        while k <= keep {
            // At least 32 bits after this, so no code + magnitude below overruns `nbits`.
            self.refill_locals(&mut bits, &mut nbits);
            let f = t.fast_ac[(bits >> (64 - LOOKAHEAD)) as usize];
            if f != 0 {
                let n = (f & 0xFF) as u32;
                bits <<= n;
                nbits -= n;
                k += ((f >> 8) & 0xFF) as usize;
                if k > 63 {
                    k = 64;
                    break;
                }
                if k <= keep {
                    put(k, f >> 16);
                }
                k += 1;
                continue;
            }
            self.bits = bits;
            self.nbits = nbits;
            let rs = self.decode(t);
            let (run, s) = (usize::from(rs >> 4), u32::from(rs & 15));
            if s == 0 {
                (bits, nbits) = (self.bits, self.nbits);
                if run == 15 {
                    k += 16; // ZRL
                    continue;
                }
                k = 64; // EOB
                break;
            }
            k += run;
            if k > 63 {
                (bits, nbits) = (self.bits, self.nbits);
                k = 64;
                break;
            }
            let v = self.receive_extend(s);
            (bits, nbits) = (self.bits, self.nbits);
            if k <= keep {
                put(k, v);
            }
            k += 1;
        }
        self.bits = bits;
        self.nbits = nbits;
        k
    }

    /// Steps over the rest of a block's AC symbols from zigzag index `k` (sequential, T.81
    /// F.2.2.2) without forming any value: each lookup of the skip table consumes every complete
    /// symbol of the next `SKIP_BITS` bits. The bit buffer lives in locals here so that it stays
    /// in registers across the loop.
    #[inline(always)]
    pub(crate) fn skip_rest(&mut self, t: &HuffTable, skip: &SkipTable, mut k: usize) {
        let (mut bits, mut nbits) = (self.bits, self.nbits);
        while k < 64 {
            self.refill_locals(&mut bits, &mut nbits);
            let (e, adv, eob) = skip_entry(skip, bits);
            // Whole entry only when its symbols all belong to this block: before each symbol the
            // index is still at most 63.
            if e != 0 && k + adv + eob <= 64 {
                let n = u32::from(e & 31);
                bits <<= n;
                nbits -= n;
                k = if eob != 0 { 64 } else { k + adv };
                continue;
            }
            // A long code, or the block ends inside the window: one symbol the normal way.
            self.bits = bits;
            self.nbits = nbits;
            let rs = self.decode(t);
            let (run, s) = (usize::from(rs >> 4), u32::from(rs & 15));
            if s == 0 && run != 15 {
                (bits, nbits) = (self.bits, self.nbits);
                break; // EOB
            }
            self.skip(s);
            k += if s == 0 { 16 } else { run + 1 };
            (bits, nbits) = (self.bits, self.nbits);
        }
        self.bits = bits;
        self.nbits = nbits;
    }

    /// Steps over the symbols of an AC first scan's band (G.1.2.2) from zigzag index `k` up to
    /// `end` (one past the band's last index) with `skip` (a progressive skip table), as long
    /// as whole table entries do. Returns the index reached and whether the block ended (EOB0
    /// read, or `end` reached); otherwise the next symbol is the caller's (an EOBn, a code
    /// longer than the window, or one whose entry would run past `end`).
    #[inline(always)]
    pub(crate) fn skip_band(
        &mut self,
        skip: &SkipTable,
        mut k: usize,
        end: usize,
    ) -> (usize, bool) {
        let (mut bits, mut nbits) = (self.bits, self.nbits);
        let mut ended = false;
        while k < end {
            self.refill_locals(&mut bits, &mut nbits);
            let (e, adv, eob) = skip_entry(skip, bits);
            if e == 0 || k + adv + eob > end {
                break;
            }
            let n = u32::from(e & 31);
            bits <<= n;
            nbits -= n;
            if eob != 0 {
                ended = true;
                break;
            }
            k += adv;
        }
        self.bits = bits;
        self.nbits = nbits;
        (k, ended || k >= end)
    }

    /// Drops `n` bits (a coefficient value nobody reads).
    #[inline(always)]
    pub(crate) fn skip(&mut self, n: u32) {
        self.consume(n.min(16));
    }

    /// Drops `n` bits, any number, refilling as it goes (correction bits nobody reads).
    #[inline(always)]
    pub(crate) fn skip_many(&mut self, mut n: u32) {
        while n > 0 {
            if self.nbits < 32 {
                self.refill();
            }
            let t = n.min(32);
            self.consume(t);
            n -= t;
        }
    }

    /// RECEIVE (T.81 F.2.2.4): `n` raw bits.
    #[inline(always)]
    pub(crate) fn receive(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        let n = n.min(16);
        let v = self.peek(n);
        self.consume(n);
        v
    }

    /// Decodes an AC symbol with the fast table: `(value << 16) | (run << 8) | bits` for a
    /// short code and its magnitude (consumed), else 0 (the symbol takes the normal path).
    #[inline(always)]
    pub(crate) fn fast_ac(&mut self, t: &HuffTable) -> i32 {
        let f = t.fast_ac[self.peek(LOOKAHEAD) as usize];
        if f != 0 {
            self.consume((f & 0xFF) as u32);
        }
        f
    }

    /// Decodes a DC difference (T.81 F.2.2.1: DECODE, then RECEIVE and EXTEND) with one lookup
    /// when code and magnitude bits fit in LOOKAHEAD. Needs >= 32 buffered bits.
    #[inline(always)]
    pub(crate) fn dc_diff(&mut self, t: &HuffTable) -> i32 {
        let f = t.fast_dc[self.peek(LOOKAHEAD) as usize];
        if f != 0 {
            self.consume((f & 0xFF) as u32);
            return f >> 16;
        }
        let s = u32::from(self.decode(t));
        self.receive_extend(s)
    }

    pub(crate) fn nbits(&self) -> u32 {
        self.nbits
    }

    /// Handles a restart marker (T.81 F.2.1.3.1 / E.2.4): drops the padding bits of the interval,
    /// steps over RSTn (and any garbage or fill before it) and resets the stop state.
    pub(crate) fn restart(&mut self) {
        self.bits = 0;
        self.nbits = 0;
        self.padding = 0;
        self.stopped = false;
        let d = self.data;
        let mut p = self.pos;
        loop {
            while p < d.len() && d[p] != 0xFF {
                p += 1;
            }
            while p < d.len() && d[p] == 0xFF {
                p += 1;
            }
            if p >= d.len() {
                self.pos = d.len();
                return;
            }
            if (0xD0..=0xD7).contains(&d[p]) {
                self.pos = p + 1;
                return;
            }
            // 0xFF00 (stuffed data we had not reached) or another marker: keep searching; the
            // slice ends at the first non-RST marker, so this only happens in corrupt data.
            p += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_matches_t81() {
        assert_eq!(extend(0, 1), -1);
        assert_eq!(extend(1, 1), 1);
        assert_eq!(extend(0b00, 2), -3);
        assert_eq!(extend(0b11, 2), 3);
        assert_eq!(extend(0b011, 3), -4);
    }

    #[test]
    fn reader_unstuffs_and_stops_at_markers() {
        let d = [0xAB, 0xFF, 0x00, 0xCD, 0xFF, 0xD9];
        let mut r = BitReader::new(&d);
        r.refill();
        assert_eq!(r.receive(8), 0xAB);
        assert_eq!(r.receive(8), 0xFF);
        assert_eq!(r.receive(8), 0xCD);
        assert!(!r.overrun());
        assert_eq!(r.receive(8), 0);
        assert!(r.overrun());
    }

    /// The AC tables of a real file (libjpeg's standard tables).
    fn fixture_ac_tables() -> Vec<HuffTable> {
        let f = include_bytes!("../tests/fixtures/coffee-420.jpg");
        let (mut dc, mut ac) = (Default::default(), Default::default());
        let mut i = 2;
        while i + 4 <= f.len() && f[i] == 0xFF && f[i + 1] != 0xDA {
            let len = usize::from(u16::from_be_bytes([f[i + 2], f[i + 3]]));
            if f[i + 1] == 0xC4 {
                parse_dht(&f[i + 4..i + 2 + len], &mut dc, &mut ac).unwrap();
            }
            i += 2 + len;
        }
        let tables: Vec<HuffTable> = ac.into_iter().flatten().collect();
        assert!(!tables.is_empty());
        tables
    }

    /// The rest of a block one symbol at a time, the plain F.2.2.2 way.
    fn skip_one_by_one(r: &mut BitReader, t: &HuffTable, mut k: usize) {
        while k < 64 {
            r.refill();
            let rs = r.decode(t);
            let (run, s) = (usize::from(rs >> 4), u32::from(rs & 15));
            if s == 0 && run != 15 {
                return;
            }
            r.skip(s);
            k += if s == 0 { 16 } else { run + 1 };
        }
    }

    /// Eight blocks' rest from zigzag index `k` on, stepped over with the skip table and one
    /// symbol at a time: both must end on the same bit every time.
    fn assert_skips_agree(t: &HuffTable, data: &[u8], k: usize) {
        let skip = t.skip_table();
        let (mut a, mut b) = (BitReader::new(data), BitReader::new(data));
        for block in 0..8 {
            a.refill();
            b.refill();
            a.skip_rest(t, skip, k);
            skip_one_by_one(&mut b, t, k);
            assert_eq!(a.nbits() == 0, b.nbits() == 0);
            a.refill();
            b.refill();
            assert_eq!(a.receive(16), b.receive(16), "k {k}, block {block}");
        }
    }

    /// A random AC table that T.81 C.2 accepts: random code-length counts that never fill a
    /// length (the all-ones code stays free), random distinct run/size symbols (EOB and ZRL
    /// among them).
    fn random_ac_table(rng: &mut crate::test_rng::XorShift) -> HuffTable {
        let mut counts = [0u8; 16];
        let (mut free, mut total) = (2u32, 0usize);
        for c in counts.iter_mut() {
            let n = (rng.next_u32() % free).min(162 - total as u32);
            *c = n as u8;
            total += n as usize;
            free = ((free - n) * 2).min(1 << 12);
        }
        let mut symbols: Vec<u8> = vec![0x00, 0xF0];
        while symbols.len() < total {
            let rs = rng.next_u32() as u8;
            if rs & 15 != 0 && !symbols.contains(&rs) {
                symbols.push(rs);
            }
        }
        // shuffle, so EOB and ZRL get codes of any length
        for i in (1..symbols.len()).rev() {
            symbols.swap(i, rng.next_u32() as usize % (i + 1));
        }
        HuffTable::new(&counts, &symbols[..total]).expect("a valid table")
    }

    #[test]
    fn multi_symbol_skip_matches_single_symbols_on_random_tables() {
        let mut rng = crate::test_rng::XorShift::new(0x2545_F491);
        let data: Vec<u8> = (0..4096)
            .map(|_| (rng.next_u32() as u8).min(0xFE))
            .collect();
        for _ in 0..64 {
            let t = random_ac_table(&mut rng);
            for start in 0..64 {
                let k = 1 + rng.next_u32() as usize % 63;
                assert_skips_agree(&t, &data[start..], k);
            }
        }
    }

    #[test]
    fn multi_symbol_skip_ends_where_single_symbols_do() {
        let mut rng = crate::test_rng::XorShift::new(0x9E37_79B9);
        let mut sparse = vec![0u8; 1 << 14];
        let mut dense = vec![0u8; 1 << 14];
        for (s, d) in sparse.iter_mut().zip(&mut dense) {
            let x = rng.next_u32();
            // Sparse ones make long blocks of short codes, dense ones long codes (11 and 12
            // bits among them, which the skip table resolves past the short-code lookup); no
            // 0xFF so no stuffing.
            *s = (x as u8) & (x >> 8) as u8 & 0xFE;
            *d = ((x >> 16) as u8).min(0xFE);
        }
        let t = &fixture_ac_tables()[0];
        let long = (0u32..1 << 16)
            .filter_map(|w| t.code_in(w, 1..=16))
            .any(|(len, _)| len > LOOKAHEAD && len <= SKIP_BITS);
        assert!(
            long,
            "the fixture's table has codes the skip table must resolve itself"
        );
        for (t, data) in fixture_ac_tables()
            .into_iter()
            .flat_map(|t| [(t.clone(), &sparse), (t, &dense)])
        {
            for start in 0..200 {
                for k in [1usize, 6, 30, 63] {
                    assert_skips_agree(&t, &data[start..], k);
                }
            }
        }
    }
}
