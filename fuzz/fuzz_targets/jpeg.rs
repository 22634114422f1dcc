//! thumbs-jpeg directly: read_header, then decode_scaled_band or decode_for_thumbnail (chroma
//! at half resolution) at the first byte's chosen scale and coefficient band (the full band, or
//! one a thumbnail would use) on the rest, with limits small enough that a header claiming a
//! huge image is refused.
//! Invariants: no panic, the output buffer matches width × height × channels, and the output
//! size is the scaled header size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use thumbs_jpeg::{Limits, Scale, decode_for_thumbnail, decode_scaled_band, read_header};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let scale = [Scale::Eighth, Scale::Quarter, Scale::Half, Scale::Full][usize::from(selector & 3)];
    let band = [63u8, 2, 5, 9, 14, 20, 35, 63][usize::from((selector >> 2) & 7)];
    let decode = if selector & 0x20 != 0 {
        decode_for_thumbnail
    } else {
        decode_scaled_band
    };
    let limits = Limits {
        max_pixels: 4_000_000,
        max_bytes: 256 << 20,
    };
    let header = read_header(bytes);
    if let Ok(decoded) = decode(bytes, scale, band, &limits) {
        let channels = decoded.format.channels();
        assert_eq!(
            decoded.pixels.len(),
            decoded.width as usize * decoded.height as usize * channels
        );
        if let Ok(h) = header {
            assert_eq!(
                (decoded.width, decoded.height),
                scale.output_size(h.width, h.height)
            );
        }
    }
});
