//! Hostile bytes straight into the pipeline: truncations, bit flips and lying headers of every
//! supported format must end in `Ok` or an error that is the input's fault (not `ErrorKind::Internal`) —
//! never a panic, never an internal error, never seconds of work. Deterministic (fixed-seed xorshift), so a failure
//! names the exact input to reproduce.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use thumbs_core::config::Config;
use thumbs_core::error::ErrorKind;

const FIXTURES: &[(&str, &[u8])] = &[
    ("coffee.jpg", include_bytes!("fixtures/coffee.jpg")),
    (
        "coffee-progressive.jpg",
        include_bytes!("fixtures/coffee-progressive.jpg"),
    ),
    (
        "coffee-cmyk.jpg",
        include_bytes!("fixtures/coffee-cmyk.jpg"),
    ),
    ("orient-6.jpg", include_bytes!("fixtures/orient-6.jpg")),
    ("coffee.png", include_bytes!("fixtures/coffee.png")),
    ("coffee.gif", include_bytes!("fixtures/coffee.gif")),
    ("coffee.webp", include_bytes!("fixtures/coffee.webp")),
    (
        "coffee-small.bmp",
        include_bytes!("fixtures/coffee-small.bmp"),
    ),
    ("coffee.tiff", include_bytes!("fixtures/coffee.tiff")),
    ("animated.gif", include_bytes!("fixtures/animated.gif")),
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Runs the whole pipeline; returns a description of anything that is not Ok-or-the-input's-fault-in-time.
fn check(what: &str, bytes: &[u8], config: &Config) -> Option<String> {
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| {
        thumbs_core::probe(bytes, &config.limits)?;
        thumbs_core::make_thumbnails(bytes, &config.sizes, config)
    }));
    let took = started.elapsed();
    let problem = match result {
        Err(_) => Some("panicked".to_owned()),
        Ok(Ok(_)) => None,
        Ok(Err(err)) => matches!(err.kind(), ErrorKind::Internal | ErrorKind::Unavailable)
            .then(|| format!("{:?} {}: {err}", err.kind(), err.code())),
    };
    match problem {
        Some(problem) => Some(format!("{what}: {problem}")),
        // Debug build, 180×120 sources: anything near a second is a decoder looping on junk.
        None if took > Duration::from_secs(5) => Some(format!("{what}: took {took:?}")),
        None => None,
    }
}

#[test]
fn truncations_at_every_region_are_ok_or_the_inputs_fault() {
    let config = Config::default();
    let mut failures = Vec::new();
    for (name, bytes) in FIXTURES {
        let len = bytes.len();
        let mut cuts: Vec<usize> = (0..64.min(len)).collect();
        cuts.extend((1..32).map(|i| len * i / 32));
        cuts.extend([len - 1, len - 2]);
        for cut in cuts {
            failures.extend(check(&format!("{name}[..{cut}]"), &bytes[..cut], &config));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn random_byte_flips_are_ok_or_the_inputs_fault() {
    let config = Config::default();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut failures = Vec::new();
    for (name, bytes) in FIXTURES {
        for round in 0..150 {
            let mut mutated = bytes.to_vec();
            // Mostly in the header, where lies about sizes and tables live.
            let region = if round % 2 == 0 {
                mutated.len().min(512)
            } else {
                mutated.len()
            };
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(region);
                mutated[at] = rng.next() as u8;
            }
            failures.extend(check(
                &format!("{name} flip round {round}"),
                &mutated,
                &config,
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn random_bytes_behind_every_signature_are_the_inputs_fault() {
    let config = Config::default();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let signatures: &[&[u8]] = &[
        b"\xFF\xD8\xFF\xE0",
        b"\xFF\xD8\xFF\xDB",
        b"\x89PNG\r\n\x1a\n",
        b"GIF89a",
        b"GIF87a",
        b"RIFF\x00\x10\x00\x00WEBPVP8 ",
        b"RIFF\x00\x10\x00\x00WEBPVP8L",
        b"BM",
        b"II*\x00",
        b"MM\x00*",
        b"<svg",
        b"<?xml",
        b"",
    ];
    let mut failures = Vec::new();
    for signature in signatures {
        for round in 0..20 {
            let mut bytes = signature.to_vec();
            let extra = [0, 1, 7, 64, 4096][round % 5];
            bytes.extend((0..extra).map(|_| rng.next() as u8));
            let what = format!(
                "{:?} + {extra} random bytes",
                String::from_utf8_lossy(signature)
            );
            if let Some(problem) = check(&what, &bytes, &config) {
                failures.push(problem);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Width/height fields of each format's header overwritten with extremes.
#[test]
fn lying_dimensions_in_every_header_are_ok_or_the_inputs_fault() {
    let config = Config::default();
    let mut failures = Vec::new();
    let png = FIXTURES[4].1;
    let gif = FIXTURES[5].1;
    let bmp = FIXTURES[7].1;
    let extremes_u32 = [0u32, 1, 65_535, 65_536, 1 << 24, 0x7FFF_FFFF, u32::MAX];
    for value in extremes_u32 {
        for field in [16usize, 20] {
            // PNG IHDR width at 16, height at 20 (the CRC now fails, or is checked later).
            let mut bytes = png.to_vec();
            bytes[field..field + 4].copy_from_slice(&value.to_be_bytes());
            failures.extend(check(
                &format!("PNG IHDR[{field}]={value}"),
                &bytes,
                &config,
            ));
        }
        for field in [18usize, 22] {
            // BMP width at 18, height at 22 (signed little-endian; negative = top-down).
            let mut bytes = bmp.to_vec();
            bytes[field..field + 4].copy_from_slice(&value.to_le_bytes());
            failures.extend(check(&format!("BMP[{field}]={value}"), &bytes, &config));
        }
    }
    for value in [0u16, 1, 0x7FFF, u16::MAX] {
        for field in [6usize, 8] {
            // GIF logical screen width/height.
            let mut bytes = gif.to_vec();
            bytes[field..field + 2].copy_from_slice(&value.to_le_bytes());
            failures.extend(check(
                &format!("GIF screen[{field}]={value}"),
                &bytes,
                &config,
            ));
        }
    }
    for (name, bytes) in &FIXTURES[..4] {
        // JPEG SOFn height/width.
        let sof = bytes
            .windows(2)
            .position(|w| w[0] == 0xFF && matches!(w[1], 0xC0..=0xC2))
            .expect("SOF");
        for value in [0u16, 1, 0x7FFF, u16::MAX] {
            for field in [sof + 5, sof + 7] {
                let mut mutated = bytes.to_vec();
                mutated[field..field + 2].copy_from_slice(&value.to_be_bytes());
                failures.extend(check(
                    &format!("{name} SOF[{field}]={value}"),
                    &mutated,
                    &config,
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
