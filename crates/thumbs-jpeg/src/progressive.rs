//! Progressive DCT decoding (ITU T.81 Annex G) into a coefficient store that keeps only what the
//! chosen scale reads, and the plan of which scans can be skipped without decoding them.
//!
//! Per block the store keeps the coefficients of the decode's band, zigzag indices `0..nn`
//! (`nn = 1` at 1/8: the DC alone) plus, when an AC refinement scan is decoded, a 64-bit
//! "nonzero so far" mask: successive-approximation refinement (G.1.2.3) must know which
//! coefficients of its band are already nonzero, even those we drop. Without that mask to
//! keep, an AC first scan steps over the symbols past the band with the multi-symbol skip
//! table (its progressive variant, which leaves end-of-band runs to the normal decode).

use crate::component::{BlockDecoder, Comp};
use crate::huffman::{BitReader, HuffTable, SkipTable};
use crate::markers::Scan;

/// Which of the AC refinement scans that reach past the band a progressive decode reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refine {
    None,
    /// All but those that carry the last bit (`Al = 0`): in libjpeg's standard script, the
    /// luma refinement from bit 2 to bit 1, not the final luma and chroma ones.
    AllButLastBit,
    /// Every one (the decoder's tests: the pixels of the baseline twin).
    #[cfg(test)]
    All,
}

/// Which scans to decode, for a decode that reads zigzag indices `0..=keep`.
///
/// A scan whose band starts above `keep` contributes nothing. An AC refinement scan whose band
/// reaches past `keep` needs the nonzero history of its whole band (G.1.2.3), i.e. the first
/// scans of coefficients we do not read. When `refine` asks for it, it is decoded all the
/// same, with those first scans (iterated to a fixed point): their symbols are parsed for the
/// history, the values past the band dropped, and the refinement's correction bits past the
/// band stepped over in bulk (`AcRefine`). Otherwise it is skipped, and the kept coefficients lack their
/// last bits, which the final transform reconstructs at the middle of their interval
/// (decoder.rs). At `keep == 0` (the DC alone) no AC scan is needed either way.
pub(crate) fn plan_scans(scans: &[Scan], keeps: &[usize], refine: Refine) -> Vec<bool> {
    let mut decode: Vec<bool> = scans
        .iter()
        .map(|s| {
            let keep = s.comps.iter().map(|c| keeps[c.index]).max().unwrap_or(0);
            let (ss, se) = (usize::from(s.ss), usize::from(s.se));
            let wanted = match refine {
                Refine::None => false,
                Refine::AllButLastBit => s.al > 0,
                #[cfg(test)]
                Refine::All => true,
            };
            let reaches = s.ah == 0 || se <= keep || (wanted && keep > 0);
            ss == 0 || keep == 63 || (ss <= keep && reaches)
        })
        .collect();
    loop {
        let mut changed = false;
        for (i, s) in scans.iter().enumerate() {
            if !decode[i] || s.ss == 0 || s.ah == 0 {
                continue;
            }
            for (j, t) in scans[..i].iter().enumerate() {
                let same_comp =
                    t.comps.first().map(|c| c.index) == s.comps.first().map(|c| c.index);
                if !decode[j] && t.ss != 0 && same_comp && t.ss <= s.se && s.ss <= t.se {
                    decode[j] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            return decode;
        }
    }
}

/// DC first scan (G.1.2.1): DIFF decoded as in sequential mode, stored shifted left by Al.
pub(crate) struct DcFirst<'t> {
    pub index: [usize; 4],
    pub dc: [&'t HuffTable; 4],
    pub al: u32,
    pub nn: usize,
}

impl BlockDecoder for DcFirst<'_> {
    // Inlined into the MCU loop so that the bit reader stays in registers across blocks: a DC
    // scan is one short symbol per block, and a call per block doubled its time.
    #[inline(always)]
    fn block(&mut self, r: &mut BitReader, comps: &mut [Comp], sc: usize, bx: usize, by: usize) {
        let c = &mut comps[self.index[sc]];
        // A DC difference is at most 16 + 16 bits: refill only below that (every few blocks).
        if r.nbits() < 32 {
            r.refill();
        }
        c.dc_pred = c.dc_pred.wrapping_add(r.dc_diff(self.dc[sc]));
        let b = by * c.pbw + bx;
        c.coefs[b * self.nn] = c.dc_pred.wrapping_shl(self.al) as i16;
    }

    fn restart(&mut self, comps: &mut [Comp]) {
        for c in comps {
            c.dc_pred = 0;
        }
    }
}

/// DC refinement scan (G.1.2.1): one raw bit per block, the next bit of the DC value.
pub(crate) struct DcRefine {
    pub index: [usize; 4],
    pub al: u32,
    pub nn: usize,
}

impl BlockDecoder for DcRefine {
    #[inline(always)]
    fn block(&mut self, r: &mut BitReader, comps: &mut [Comp], sc: usize, bx: usize, by: usize) {
        let c = &mut comps[self.index[sc]];
        if r.nbits() < 1 {
            r.refill();
        }
        // The bit is as likely 0 as 1: OR it in unconditionally rather than branch on it.
        let bit = r.receive(1) as i32;
        let b = by * c.pbw + bx;
        c.coefs[b * self.nn] |= (bit << self.al) as i16;
    }

    fn restart(&mut self, _: &mut [Comp]) {}
}

/// AC first scan (G.1.2.2): run/size symbols with end-of-band runs (EOBRUN) across blocks.
pub(crate) struct AcFirst<'t> {
    pub index: usize,
    pub ac: &'t HuffTable,
    /// Set when no refinement scan reads this scan's history and its band reaches past the
    /// kept coefficients: the symbols past them are stepped over with this table.
    pub skip: Option<&'t SkipTable>,
    pub ss: usize,
    pub se: usize,
    pub al: u32,
    pub eobrun: u32,
    pub nn: usize,
}

impl BlockDecoder for AcFirst<'_> {
    #[inline(always)]
    fn block(&mut self, r: &mut BitReader, comps: &mut [Comp], _: usize, bx: usize, by: usize) {
        if self.eobrun > 0 {
            self.eobrun -= 1;
            return;
        }
        let c = &mut comps[self.index];
        let b = by * c.pbw + bx;
        let mut mask = 0u64;
        let coefs = &mut c.coefs[b * self.nn..(b + 1) * self.nn];
        let mut k = self.ss;
        while k <= self.se {
            if let Some(skip) = self.skip
                && k >= self.nn
            {
                // Past the kept band, with no history to keep: whole symbols, several at a
                // time, until the block ends or a symbol needs the loop below.
                let (at, ended) = r.skip_band(skip, k, self.se + 1);
                if ended {
                    break;
                }
                k = at;
            }
            if r.nbits() < 32 {
                r.refill();
            }
            // Short code and magnitude resolved at once (never an EOBn or ZRL: size 0).
            let f = r.fast_ac(self.ac);
            if f != 0 {
                k += ((f >> 8) & 0xFF) as usize;
                if k > self.se {
                    break; // corrupt: a run past the band
                }
                mask |= 1 << k;
                if let Some(cf) = coefs.get_mut(k) {
                    *cf = (f >> 16).wrapping_shl(self.al) as i16;
                }
                k += 1;
                continue;
            }
            let rs = r.decode(self.ac);
            let (run, s) = (u32::from(rs >> 4), u32::from(rs & 15));
            if s == 0 {
                if run < 15 {
                    // EOBn (G.1.2.2, Table G.1): this block ends and 2^n - 1 + bits more are empty.
                    self.eobrun = (1 << run) - 1;
                    if run > 0 {
                        self.eobrun += r.receive(run);
                    }
                    break;
                }
                k += 16; // ZRL
                continue;
            }
            k += run as usize;
            if k > self.se {
                break; // corrupt: a run past the band
            }
            let v = r.receive_extend(s);
            mask |= 1 << k;
            if let Some(cf) = coefs.get_mut(k) {
                *cf = v.wrapping_shl(self.al) as i16;
            }
            k += 1;
        }
        // The history is kept only when a refinement scan will read it.
        if let Some(m) = c.masks.get_mut(b) {
            *m |= mask;
        }
    }

    fn restart(&mut self, _: &mut [Comp]) {
        self.eobrun = 0;
    }
}

/// AC refinement scan (G.1.2.3): one correction bit for every already-nonzero coefficient the
/// decoder passes, and newly nonzero coefficients of magnitude 1 << Al. The procedure of
/// libjpeg's jdphuff.c decode_mcu_AC_refine, on the mask + kept-coefficient store, with the
/// walk over the band done on the 64-bit history mask: a symbol's run lands on the (run + 1)-th
/// zero-history coefficient ahead (found by clearing set bits of the inverted mask), the
/// correction bits of the nonzero-history coefficients passed on the way are applied inside the
/// kept band and stepped over together past it.
pub(crate) struct AcRefine<'t> {
    pub index: usize,
    pub ac: &'t HuffTable,
    pub ss: usize,
    pub se: usize,
    pub al: u32,
    pub eobrun: u32,
    pub nn: usize,
}

/// Bits `from..=to` of a u64 (empty when `from > to`).
#[inline(always)]
fn bits(from: usize, to: usize) -> u64 {
    if from > to || from > 63 {
        return 0;
    }
    let high = if to >= 63 { !0 } else { (1u64 << (to + 1)) - 1 };
    high & !((1u64 << from) - 1)
}

impl AcRefine<'_> {
    /// The correction bits of the nonzero-history coefficients in `passed`, in zigzag order:
    /// applied to the kept ones (the lowest indices, so they come first in the stream), the
    /// rest dropped in one go.
    #[inline(always)]
    fn correct(&self, r: &mut BitReader, coefs: &mut [i16], passed: u64) {
        let kept = passed & bits(0, self.nn.saturating_sub(1));
        let p1 = (1i32 << self.al) as i16;
        let mut m = kept;
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            m &= m - 1;
            if r.nbits() < 1 {
                r.refill();
            }
            if r.receive(1) != 0
                && let Some(cf) = coefs.get_mut(k)
                && *cf & p1 == 0
            {
                *cf = if *cf >= 0 {
                    cf.wrapping_add(p1)
                } else {
                    cf.wrapping_sub(p1)
                };
            }
        }
        r.skip_many((passed & !kept).count_ones());
    }
}

impl BlockDecoder for AcRefine<'_> {
    fn block(&mut self, r: &mut BitReader, comps: &mut [Comp], _: usize, bx: usize, by: usize) {
        let c = &mut comps[self.index];
        let b = by * c.pbw + bx;
        let mut mask = c.masks[b];
        let coefs = &mut c.coefs[b * self.nn..(b + 1) * self.nn];
        let p1 = (1i32 << self.al) as i16;
        let se = self.se.min(63);
        let mut k = self.ss;
        if self.eobrun == 0 {
            while k <= se {
                if r.nbits() < 32 {
                    r.refill();
                }
                let rs = r.decode(self.ac);
                let (run, s) = (u32::from(rs >> 4), rs & 15);
                let mut newval = 0i16;
                if s != 0 {
                    // s must be 1 here; the sign is one raw bit.
                    newval = if r.receive(1) != 0 {
                        p1
                    } else {
                        p1.wrapping_neg()
                    };
                } else if run != 15 {
                    self.eobrun = 1 << run;
                    if run > 0 {
                        self.eobrun += r.receive(run);
                    }
                    break;
                }
                // Pass `run` zero-history coefficients (a ZRL: 15, landing on the 16th),
                // correcting the nonzero ones on the way; stop on the next zero-history one.
                let ahead = bits(k, se);
                let mut zero = !mask & ahead;
                for _ in 0..run {
                    zero &= zero.wrapping_sub(1);
                }
                let land = if zero == 0 {
                    se + 1
                } else {
                    zero.trailing_zeros() as usize
                };
                self.correct(r, coefs, mask & ahead & !bits(land, 63));
                k = land;
                if newval != 0 && k <= se {
                    mask |= 1 << k;
                    if let Some(cf) = coefs.get_mut(k) {
                        *cf = newval;
                    }
                }
                k += 1;
            }
        }
        if self.eobrun > 0 {
            // Within an end-of-band run: only correction bits for the nonzero history remain.
            self.correct(r, coefs, mask & bits(k, se));
            self.eobrun -= 1;
        }
        c.masks[b] = mask;
    }

    fn restart(&mut self, _: &mut [Comp]) {
        self.eobrun = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markers::ScanComponent;

    fn scan(comp: usize, ss: u8, se: u8, ah: u8) -> Scan {
        Scan {
            comps: vec![ScanComponent {
                index: comp,
                td: 0,
                ta: 0,
            }],
            ss,
            se,
            ah,
            al: 0,
            data: 0..0,
        }
    }

    #[test]
    fn a_band_is_skipped_only_when_no_decoded_refinement_needs_it() {
        let scans = vec![
            scan(0, 1, 5, 0),
            scan(0, 6, 63, 0),
            scan(0, 1, 63, 2),
            scan(1, 6, 63, 0),
        ];
        // The 1-63 refinement reaches past the band: skipped, and with it the 6-63 first scans.
        assert_eq!(
            plan_scans(&scans, &[4; 4], Refine::None),
            vec![true, false, false, false]
        );
        assert_eq!(plan_scans(&scans, &[0; 4], Refine::None), vec![false; 4]);
        assert_eq!(plan_scans(&scans, &[63; 4], Refine::None), vec![true; 4]);
        // A refinement inside the band is decoded with the first scans it depends on.
        let inside = vec![scan(0, 1, 5, 0), scan(0, 6, 63, 0), scan(0, 1, 5, 1)];
        assert_eq!(
            plan_scans(&inside, &[9; 4], Refine::None),
            vec![true, true, true]
        );
        assert_eq!(
            plan_scans(&inside, &[5; 4], Refine::None),
            vec![true, false, true]
        );
        // Refining: the 1-63 refinement is decoded, with every first scan of its band; the
        // other component's 6-63 first scan is still not needed. The DC alone needs none.
        assert_eq!(
            plan_scans(&scans, &[4; 4], Refine::All),
            vec![true, true, true, false]
        );
        assert_eq!(plan_scans(&scans, &[0; 4], Refine::All), vec![false; 4]);
        // The final bit's refinement is left out, and with it what only it needed.
        let mut last = scans.clone();
        last[2].al = 0;
        assert_eq!(
            plan_scans(&last, &[4; 4], Refine::AllButLastBit),
            vec![true, false, false, false]
        );
        last[2].al = 1;
        assert_eq!(
            plan_scans(&last, &[4; 4], Refine::AllButLastBit),
            vec![true, true, true, false]
        );
    }
}
