//! Marker segments (ITU T.81 Annex B): walking the file, the frame and scan headers, quantisation
//! tables, restart intervals and the application segments (JFIF, EXIF, ICC, Adobe).
//!
//! Everything here borrows from the input; the only allocations are bounded by the number of
//! segments (capped) and by the size of the embedded ICC profile.

use std::borrow::Cow;
use std::ops::Range;

use crate::error::Error;

/// At most this many marker segments are walked (real files have tens; this caps the segment list
/// a hostile file can make us build).
const MAX_SEGMENTS: usize = 8192;
/// At most this many scans (libjpeg-turbo's "max_scans" guard against progressive DoS files).
pub(crate) const MAX_SCANS: usize = 1000;

/// Colour model of the encoded components, from the component count plus the JFIF / Adobe APP14
/// markers (T.872 / Adobe Technical Note 5116).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourTransform {
    /// One component.
    Gray,
    /// Three components, YCbCr (JFIF, or Adobe transform 1, or no marker at all).
    YCbCr,
    /// Three components stored as RGB (Adobe transform 0, or component ids 'R','G','B').
    Rgb,
    /// Four components, CMYK (Adobe transform 0, or no Adobe marker).
    Cmyk,
    /// Four components, YCbCr + K (Adobe transform 2).
    Ycck,
}

/// What the cheap header read found. Borrows from the input; the ICC profile is reassembled only
/// if it spans several APP2 chunks.
#[derive(Debug, Clone)]
pub struct Header<'a> {
    pub width: u32,
    pub height: u32,
    /// 1 (grey), 3 or 4.
    pub components: u8,
    pub colour: ColourTransform,
    /// The Adobe APP14 transform flag if that marker is present (0 = RGB/CMYK, 1 = YCbCr, 2 = YCCK).
    pub adobe_transform: Option<u8>,
    /// A JFIF APP0 marker is present.
    pub jfif: bool,
    /// SOF2 (progressive DCT, Huffman).
    pub progressive: bool,
    /// (horizontal, vertical) sampling factors per component, in frame order.
    pub sampling: [(u8, u8); 4],
    /// The TIFF structure of the APP1 "Exif\0\0" segment (the identifier stripped).
    pub exif: Option<&'a [u8]>,
    /// The ICC profile from APP2 "ICC_PROFILE" chunks, in sequence order.
    pub icc: Option<Cow<'a, [u8]>>,
}

/// One component of the frame header (T.81 B.2.2).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FrameComponent {
    pub id: u8,
    pub h: u8,
    pub v: u8,
    pub tq: u8,
}

/// The frame header (T.81 B.2.2).
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub progressive: bool,
    pub width: u32,
    pub height: u32,
    pub comps: Vec<FrameComponent>,
}

/// One component of a scan header (T.81 B.2.3): index into the frame's components and its
/// Huffman table selectors.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ScanComponent {
    pub index: usize,
    pub td: u8,
    pub ta: u8,
}

/// A scan header (T.81 B.2.3) and where its entropy-coded data lies.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    pub comps: Vec<ScanComponent>,
    pub ss: u8,
    pub se: u8,
    pub ah: u8,
    pub al: u8,
    /// The entropy-coded segment, up to (not including) the next marker that is not RSTn.
    pub data: Range<usize>,
}

/// A marker segment: the marker byte and its payload (after the length field). For SOS, `data` is
/// the entropy-coded segment that follows.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub marker: u8,
    pub payload: Range<usize>,
    pub data: Range<usize>,
}

pub(crate) const SOI: u8 = 0xD8;
pub(crate) const EOI: u8 = 0xD9;
pub(crate) const SOS: u8 = 0xDA;
pub(crate) const DQT: u8 = 0xDB;
pub(crate) const DHT: u8 = 0xC4;
pub(crate) const DRI: u8 = 0xDD;
pub(crate) const DNL: u8 = 0xDC;

/// Finds the next marker at or after `from` that ends an entropy-coded segment: 0xFF followed by
/// a byte that is neither 0x00 (stuffing, T.81 F.1.2.3) nor RST0–7 nor 0xFF (fill, B.1.1.2).
/// Returns the index of its 0xFF, or `bytes.len()` if the data ends first. Skipping a progressive
/// AC scan is a search, not a decode: memchr's vector search (16-32 bytes a step on x86-64 and
/// arm64) for each 0xFF.
pub(crate) fn find_scan_end(bytes: &[u8], from: usize) -> usize {
    let n = bytes.len();
    let mut i = from;
    loop {
        match bytes.get(i..).and_then(|rest| memchr::memchr(0xFF, rest)) {
            Some(k) => i += k,
            None => return n,
        }
        // bytes[i] == 0xFF; skip fill bytes.
        let mut j = i + 1;
        while j < n && bytes[j] == 0xFF {
            j += 1;
        }
        if j >= n {
            return n;
        }
        let m = bytes[j];
        if m == 0x00 || (0xD0..=0xD7).contains(&m) {
            i = j + 1;
            continue;
        }
        return i;
    }
}

fn be16(bytes: &[u8], at: usize) -> Result<usize, Error> {
    match bytes.get(at..at + 2) {
        Some(b) => Ok(usize::from(u16::from_be_bytes([b[0], b[1]]))),
        None => Err(Error::Truncated),
    }
}

/// Walks marker segments from SOI (T.81 B.2.1). `stop_at_sos` ends the walk at the first scan
/// (header reads); otherwise every segment up to EOI or the end of the data is listed, each SOS
/// with its entropy-coded data. Returns the segments and whether EOI was seen.
pub(crate) fn walk(bytes: &[u8], stop_at_sos: bool) -> Result<(Vec<Segment>, bool), Error> {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != SOI {
        return Err(Error::Format("not a JPEG (no SOI marker)"));
    }
    let mut segs = Vec::new();
    let mut pos = 2;
    loop {
        // Find the next marker; tolerate garbage between segments like libjpeg does.
        while pos < bytes.len() && bytes[pos] != 0xFF {
            pos += 1;
        }
        while pos < bytes.len() && bytes[pos] == 0xFF {
            pos += 1;
        }
        if pos >= bytes.len() {
            return Ok((segs, false));
        }
        let marker = bytes[pos];
        pos += 1;
        match marker {
            EOI => return Ok((segs, true)),
            0x00 | 0x01 | SOI | 0xD0..=0xD7 => continue, // no payload
            _ => {}
        }
        let len = match be16(bytes, pos) {
            Ok(l) => l,
            Err(_) => return Ok((segs, false)),
        };
        if len < 2 {
            return Err(Error::Format("marker segment length < 2"));
        }
        let end = (pos + len).min(bytes.len());
        let payload = pos + 2..end;
        let truncated_segment = pos + len > bytes.len();
        pos = end;
        let mut data = end..end;
        if marker == SOS {
            if stop_at_sos {
                segs.push(Segment {
                    marker,
                    payload,
                    data,
                });
                return Ok((segs, false));
            }
            let scan_end = find_scan_end(bytes, end);
            data = end..scan_end;
            pos = scan_end;
        }
        if segs.len() >= MAX_SEGMENTS {
            return Err(Error::Format("too many marker segments"));
        }
        segs.push(Segment {
            marker,
            payload,
            data,
        });
        if truncated_segment {
            return Ok((segs, false));
        }
    }
}

/// Parses a frame header (T.81 B.2.2). Rejects the processes this decoder does not implement.
pub(crate) fn parse_frame(marker: u8, p: &[u8]) -> Result<Frame, Error> {
    let progressive = match marker {
        0xC0 | 0xC1 => false,
        0xC2 => true,
        0xC3 => return Err(Error::Unsupported("lossless JPEG (SOF3)")),
        0xC5..=0xC7 => return Err(Error::Unsupported("hierarchical JPEG")),
        0xC9..=0xCB | 0xCD..=0xCF => return Err(Error::Unsupported("arithmetic-coded JPEG")),
        _ => return Err(Error::Format("unknown SOF marker")),
    };
    if p.len() < 6 {
        return Err(Error::Truncated);
    }
    if p[0] != 8 {
        return Err(Error::Unsupported("sample precision other than 8 bits"));
    }
    let height = u32::from(u16::from_be_bytes([p[1], p[2]]));
    let width = u32::from(u16::from_be_bytes([p[3], p[4]]));
    let nf = usize::from(p[5]);
    if height == 0 {
        return Err(Error::Unsupported("height defined by DNL marker"));
    }
    if width == 0 {
        return Err(Error::Format("zero width"));
    }
    if !matches!(nf, 1 | 3 | 4) {
        return Err(Error::Unsupported("component count other than 1, 3 or 4"));
    }
    if p.len() < 6 + 3 * nf {
        return Err(Error::Truncated);
    }
    let mut comps = Vec::with_capacity(nf);
    for i in 0..nf {
        let c = &p[6 + 3 * i..9 + 3 * i];
        let (h, v) = (c[1] >> 4, c[1] & 15);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) {
            return Err(Error::Format("sampling factor outside 1..4"));
        }
        if c[2] > 3 {
            return Err(Error::Format("quantisation table selector > 3"));
        }
        if comps.iter().any(|x: &FrameComponent| x.id == c[0]) {
            return Err(Error::Format("duplicate component id"));
        }
        comps.push(FrameComponent {
            id: c[0],
            h,
            v,
            tq: c[2],
        });
    }
    Ok(Frame {
        progressive,
        width,
        height,
        comps,
    })
}

/// Parses a scan header (T.81 B.2.3) against the frame.
pub(crate) fn parse_scan(p: &[u8], frame: &Frame, data: Range<usize>) -> Result<Scan, Error> {
    let ns = usize::from(*p.first().ok_or(Error::Truncated)?);
    if ns == 0 || ns > 4 || p.len() < 1 + 2 * ns + 3 {
        return Err(Error::Format("bad scan header"));
    }
    let mut comps = Vec::with_capacity(ns);
    for i in 0..ns {
        let id = p[1 + 2 * i];
        let t = p[2 + 2 * i];
        let index = frame
            .comps
            .iter()
            .position(|c| c.id == id)
            .ok_or(Error::Format("scan names an unknown component"))?;
        if comps.iter().any(|c: &ScanComponent| c.index == index) {
            return Err(Error::Format("component twice in one scan"));
        }
        let (td, ta) = (t >> 4, t & 15);
        if td > 3 || ta > 3 {
            return Err(Error::Format("Huffman table selector > 3"));
        }
        comps.push(ScanComponent { index, td, ta });
    }
    let q = &p[1 + 2 * ns..];
    let (ss, se, ah, al) = (q[0], q[1], q[2] >> 4, q[2] & 15);
    if frame.progressive {
        // T.81 G.1.1.1.1: DC scans have Ss = Se = 0; AC scans one component, 1 <= Ss <= Se <= 63.
        let ok = if ss == 0 {
            se == 0
        } else {
            ns == 1 && ss <= se && se <= 63
        };
        if !ok || ah > 13 || al > 13 {
            return Err(Error::Format("bad progressive scan parameters"));
        }
    } else {
        // Sequential: the spectral parameters are fixed (T.81 B.2.3); be lenient as libjpeg is.
        let mcu_blocks: usize = comps
            .iter()
            .map(|c| usize::from(frame.comps[c.index].h) * usize::from(frame.comps[c.index].v))
            .sum();
        if ns > 1 && mcu_blocks > 10 {
            return Err(Error::Format("more than 10 blocks per MCU"));
        }
    }
    if frame.progressive && ns > 1 {
        let mcu_blocks: usize = comps
            .iter()
            .map(|c| usize::from(frame.comps[c.index].h) * usize::from(frame.comps[c.index].v))
            .sum();
        if mcu_blocks > 10 {
            return Err(Error::Format("more than 10 blocks per MCU"));
        }
    }
    Ok(Scan {
        comps,
        ss,
        se: if frame.progressive { se } else { 63 },
        ah,
        al,
        data,
    })
}

/// Parses a DQT segment (T.81 B.2.4.1) into `tables` (natural order is applied by the caller's
/// zigzag mapping: tables are stored in zigzag order as they appear).
pub(crate) fn parse_dqt(mut p: &[u8], tables: &mut [[u16; 64]; 4]) -> Result<(), Error> {
    while !p.is_empty() {
        let pq = p[0] >> 4;
        let tq = usize::from(p[0] & 15);
        if tq > 3 {
            return Err(Error::Format("DQT table id > 3"));
        }
        let n = if pq == 0 { 64 } else { 128 };
        if p.len() < 1 + n {
            return Err(Error::Truncated);
        }
        for k in 0..64 {
            tables[tq][k] = if pq == 0 {
                u16::from(p[1 + k])
            } else {
                u16::from_be_bytes([p[1 + 2 * k], p[2 + 2 * k]])
            };
        }
        p = &p[1 + n..];
    }
    Ok(())
}

/// Parses a DRI segment (T.81 B.2.4.4).
pub(crate) fn parse_dri(p: &[u8]) -> Result<u16, Error> {
    match p.get(0..2) {
        Some(b) => Ok(u16::from_be_bytes([b[0], b[1]])),
        None => Err(Error::Truncated),
    }
}

/// Reads the header: everything up to the first scan (or only the frame and APPn segments).
pub fn read_header(bytes: &[u8]) -> Result<Header<'_>, Error> {
    let (segs, _) = walk(bytes, true)?;
    let mut frame = None;
    let mut jfif = false;
    let mut adobe = None;
    let mut exif = None;
    let mut icc_chunks: Vec<(u8, &[u8])> = Vec::new();
    for s in &segs {
        let p = &bytes[s.payload.clone()];
        match s.marker {
            0xE0 if p.starts_with(b"JFIF\0") => jfif = true,
            0xE1 if p.starts_with(b"Exif\0\0") && exif.is_none() => exif = Some(&p[6..]),
            0xE2 if p.starts_with(b"ICC_PROFILE\0") && p.len() >= 14 && icc_chunks.len() < 256 => {
                icc_chunks.push((p[12], &p[14..]));
            }
            0xEE if p.starts_with(b"Adobe") && p.len() >= 12 => adobe = Some(p[11]),
            0xC0..=0xCF
                if s.marker != DHT && s.marker != 0xC8 && s.marker != 0xCC && frame.is_none() =>
            {
                frame = Some(parse_frame(s.marker, p)?);
            }
            _ => {}
        }
    }
    let frame = frame.ok_or(Error::Format("no frame header (SOF) before the first scan"))?;
    let colour = colour_transform(&frame, jfif, adobe);
    let mut sampling = [(0, 0); 4];
    for (s, c) in sampling.iter_mut().zip(&frame.comps) {
        *s = (c.h, c.v);
    }
    icc_chunks.sort_by_key(|c| c.0);
    let icc = match icc_chunks.len() {
        0 => None,
        1 => Some(Cow::Borrowed(icc_chunks[0].1)),
        _ => Some(Cow::Owned(
            icc_chunks
                .iter()
                .flat_map(|c| c.1.iter().copied())
                .collect(),
        )),
    };
    Ok(Header {
        width: frame.width,
        height: frame.height,
        components: frame.comps.len() as u8,
        colour,
        adobe_transform: adobe,
        jfif,
        progressive: frame.progressive,
        sampling,
        exif,
        icc,
    })
}

/// Decides the colour model the way libjpeg does (jdapimin.c default_decompress_parms).
fn colour_transform(frame: &Frame, jfif: bool, adobe: Option<u8>) -> ColourTransform {
    match frame.comps.len() {
        1 => ColourTransform::Gray,
        3 => {
            if jfif {
                return ColourTransform::YCbCr;
            }
            match adobe {
                Some(0) => ColourTransform::Rgb,
                Some(_) => ColourTransform::YCbCr,
                None => {
                    let ids: Vec<u8> = frame.comps.iter().map(|c| c.id).collect();
                    if ids == b"RGB" {
                        ColourTransform::Rgb
                    } else {
                        ColourTransform::YCbCr
                    }
                }
            }
        }
        _ => match adobe {
            Some(2) => ColourTransform::Ycck,
            _ => ColourTransform::Cmyk,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_end_skips_stuffing_and_restarts() {
        let d = [
            1, 2, 0xFF, 0x00, 3, 0xFF, 0xD3, 4, 5, 6, 7, 8, 9, 10, 0xFF, 0xFF, 0xD9,
        ];
        assert_eq!(find_scan_end(&d, 0), 14);
        assert_eq!(find_scan_end(&d[..15], 0), 15);
        assert_eq!(find_scan_end(&[0u8; 20], 3), 20);
    }

    /// The vector search finds what a byte-by-byte reading of T.81's rules finds, from every
    /// start, in data dense with 0xFF, stuffing, restarts, fill and other markers.
    #[test]
    fn scan_end_equals_the_byte_by_byte_rule() {
        fn by_bytes(b: &[u8], from: usize) -> usize {
            let mut i = from;
            while i < b.len() {
                if b[i] == 0xFF {
                    let mut j = i + 1;
                    while j < b.len() && b[j] == 0xFF {
                        j += 1;
                    }
                    match b.get(j) {
                        None => return b.len(),
                        Some(0x00 | 0xD0..=0xD7) => i = j + 1,
                        Some(_) => return i,
                    }
                } else {
                    i += 1;
                }
            }
            b.len()
        }
        let mut rng = crate::test_rng::XorShift::new(0x5ca7);
        let picks = [0xFF, 0xFF, 0x00, 0xD0, 0xD7, 0xD9, 0xC4, 0x12];
        for len in 0..300 {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    let r = rng.next_u32();
                    if r.is_multiple_of(4) {
                        picks[(r >> 8) as usize % picks.len()]
                    } else {
                        (r >> 16) as u8
                    }
                })
                .collect();
            for from in 0..=len {
                assert_eq!(
                    find_scan_end(&data, from),
                    by_bytes(&data, from),
                    "{data:?} from {from}"
                );
            }
        }
    }
}
