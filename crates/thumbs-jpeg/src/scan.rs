//! One scan: the tables in force, the choice of block decoder for the scan's kind (T.81 F.2.2
//! sequential, G.1.2 progressive DC/AC first/refinement) and the MCU loop with restart intervals
//! (A.2.2 non-interleaved, A.2.3 interleaved order; E.2.4, F.2.1.3.1 restarts).

use crate::component::{BlockDecoder, Comp};
use crate::error::Error;
use crate::huffman::{BitReader, HuffTable};
use crate::markers::Scan;
use crate::progressive::{AcFirst, AcRefine, DcFirst, DcRefine};
use crate::sequential::{Sequential, SequentialDc};

/// The tables and restart interval in force where a scan starts (B.2.4: tables may change between
/// scans).
pub(crate) struct Tables {
    pub qt: [[u16; 64]; 4],
    pub dc: [Option<HuffTable>; 4],
    pub ac: [Option<HuffTable>; 4],
    pub restart_interval: usize,
}

impl Tables {
    pub(crate) fn new() -> Tables {
        Tables {
            qt: [[0; 64]; 4],
            dc: Default::default(),
            ac: Default::default(),
            restart_interval: 0,
        }
    }
}

/// What a scan needs to know about the frame.
#[derive(Clone, Copy)]
pub(crate) struct ScanFrame {
    pub progressive: bool,
    /// MCUs across and down (interleaved scans).
    pub mcux: usize,
    pub mcuy: usize,
    /// Highest zigzag index read; progressive decoding keeps `keep + 1` coefficients per block.
    pub keep: usize,
}

/// How a scan ended.
pub(crate) struct ScanResult {
    /// MCUs decoded before the data ran out.
    pub mcus: usize,
    /// MCUs in one row of this scan.
    pub row: usize,
    /// The data ran out before the last MCU.
    pub exhausted: bool,
}

fn table(t: &[Option<HuffTable>; 4], id: u8) -> Result<&HuffTable, Error> {
    t[usize::from(id)]
        .as_ref()
        .ok_or(Error::Format("scan uses an undefined Huffman table"))
}

/// One table per scan component (unused slots repeat the first).
fn tables_of<'t>(
    t: &'t [Option<HuffTable>; 4],
    scan: &Scan,
    id: impl Fn(&crate::markers::ScanComponent) -> u8,
) -> Result<[&'t HuffTable; 4], Error> {
    let first = table(t, id(&scan.comps[0]))?;
    let mut out = [first; 4];
    for (o, sc) in out.iter_mut().zip(&scan.comps) {
        *o = table(t, id(sc))?;
    }
    Ok(out)
}

#[cfg(test)]
thread_local! {
    /// Tests turn the progressive band skip off to compare it with symbol-by-symbol decoding.
    pub(crate) static NO_BAND_SKIP: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Tests turn the inlined decoder of 1×1 sequential blocks off to compare it with the
    /// general one.
    pub(crate) static NO_DC_BLOCKS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Tests turn the fixed-length sums of progressive 2×2 blocks (decoder.rs) off to compare
    /// them with the general loop.
    pub(crate) static NO_FIXED_BAND: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the fast path that a test switch above guards may run: always outside tests, and
/// in a test unless the switch is set.
macro_rules! allowed {
    ($switch:ident) => {{
        #[cfg(test)]
        let on = !$crate::scan::$switch.with(|c| c.get());
        #[cfg(not(test))]
        let on = true;
        on
    }};
}
pub(crate) use allowed;

/// Decodes one scan's entropy-coded `data` into `comps`.
pub(crate) fn decode_scan(
    scan: &Scan,
    frame: ScanFrame,
    t: &Tables,
    comps: &mut [Comp],
    data: &[u8],
) -> Result<ScanResult, Error> {
    let mut index = [0usize; 4];
    for (i, sc) in scan.comps.iter().enumerate() {
        index[i] = sc.index;
    }
    let nn = frame.keep + 1;
    // Every branch runs its own block decoder over the same scan, MCU grid, restarts and data.
    macro_rules! run {
        ($d:expr) => {
            Ok(run_scan($d, comps, scan, frame, t.restart_interval, data))
        };
    }
    if !frame.progressive {
        let dc_only = scan.comps.iter().all(|sc| comps[sc.index].idct.dc_only());
        if dc_only && allowed!(NO_DC_BLOCKS) {
            let mut weight = [0f32; 4];
            for (w, sc) in weight.iter_mut().zip(&scan.comps) {
                if let Some(t) = comps[sc.index].sparse_table(&t.qt) {
                    *w = t[0][0];
                }
            }
            let ac = tables_of(&t.ac, scan, |c| c.ta)?;
            return run!(&mut SequentialDc {
                index,
                dc: tables_of(&t.dc, scan, |c| c.td)?,
                ac,
                skip: ac.map(|a| a.skip_table()),
                weight,
            });
        }
        let mut kernel: [Option<_>; 4] = Default::default();
        for (k, sc) in kernel.iter_mut().zip(&scan.comps) {
            *k = Some(comps[sc.index].kernel(&t.qt));
        }
        let ac = tables_of(&t.ac, scan, |c| c.ta)?;
        let mut d = Sequential {
            index,
            dc: tables_of(&t.dc, scan, |c| c.td)?,
            ac,
            skip: ac.map(|a| a.skip_table()),
            keep: frame.keep,
            kernel,
        };
        return run!(&mut d);
    }
    let (ss, se, al) = (
        usize::from(scan.ss),
        usize::from(scan.se),
        u32::from(scan.al),
    );
    // Remember how precise each coefficient of the band now is (see `Comp::al`).
    for sc in &scan.comps {
        for a in &mut comps[sc.index].al[ss..=se.min(63)] {
            *a = scan.al;
        }
    }
    match (ss, scan.ah) {
        (0, 0) => run!(&mut DcFirst {
            index,
            dc: tables_of(&t.dc, scan, |c| c.td)?,
            al,
            nn,
        }),
        (0, _) => run!(&mut DcRefine { index, al, nn }),
        (_, 0) => {
            let ac = table(&t.ac, scan.comps[0].ta)?;
            // Symbols past the kept band are stepped over unread unless a refinement scan
            // needs their history (the masks).
            let skip = (se >= nn && comps[index[0]].masks.is_empty() && allowed!(NO_BAND_SKIP))
                .then(|| ac.skip_table_progressive());
            run!(&mut AcFirst {
                index: index[0],
                ac,
                skip,
                ss,
                se,
                al,
                eobrun: 0,
                nn,
            })
        }
        _ => run!(&mut AcRefine {
            index: index[0],
            ac: table(&t.ac, scan.comps[0].ta)?,
            ss,
            se,
            al,
            eobrun: 0,
            nn,
        }),
    }
}

/// The MCU loop (T.81 A.2.2 non-interleaved, A.2.3 interleaved order) with restart handling.
fn run_scan<D: BlockDecoder>(
    d: &mut D,
    comps: &mut [Comp],
    scan: &Scan,
    frame: ScanFrame,
    restart_interval: usize,
    data: &[u8],
) -> ScanResult {
    let mut r = BitReader::new(data);
    let single = scan.comps.len() == 1;
    let (mx, my) = if single {
        let c = &comps[scan.comps[0].index];
        (c.bw, c.bh)
    } else {
        (frame.mcux, frame.mcuy)
    };
    let mut shape = [(0usize, 0usize); 4];
    for (s, sc) in shape.iter_mut().zip(&scan.comps) {
        *s = (comps[sc.index].h, comps[sc.index].v);
    }
    let total = mx * my;
    let (mut x, mut y) = (0usize, 0usize);
    for m in 0..total {
        if restart_interval > 0 && m > 0 && m % restart_interval == 0 {
            r.restart();
            d.restart(comps);
        }
        if r.overrun() && r.at_end() {
            return ScanResult {
                mcus: m,
                row: mx,
                exhausted: true,
            };
        }
        if single {
            d.block(&mut r, comps, 0, x, y);
        } else {
            for (sc, &(h, v)) in shape[..scan.comps.len()].iter().enumerate() {
                for yy in 0..v {
                    for xx in 0..h {
                        d.block(&mut r, comps, sc, x * h + xx, y * v + yy);
                    }
                }
            }
        }
        x += 1;
        if x == mx {
            x = 0;
            y += 1;
        }
    }
    ScanResult {
        mcus: total,
        row: mx,
        exhausted: r.overrun() && r.at_end(),
    }
}
