//! The Rust normaliser against infra/accept-cases.json, the table the CDN function's test
//! (infra/cloudfront/test.mjs) reads too.

use thumbs_core::encode::OutputFormat;
use thumbs_http::accept::{canonical_accept, negotiate};

fn cases() -> Vec<serde_json::Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/accept-cases.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let table: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    table["cases"].as_array().expect("a cases array").clone()
}

#[test]
fn every_case_of_the_shared_table() {
    let cases = cases();
    assert!(cases.len() >= 30, "the table lost cases: {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let accept = case["accept"].as_str();
        for (avif_enabled, key) in [(true, "avif"), (false, "no_avif")] {
            let expected: OutputFormat = case[key].as_str().expect(key).parse().expect(key);
            let got = negotiate(accept, avif_enabled);
            if got != expected {
                failures.push(format!(
                    "{} (AVIF {}): Accept {accept:?} gave {got}, expected {expected}",
                    case["client"],
                    if avif_enabled { "on" } else { "off" }
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_table_covers_every_outcome() {
    let cases = cases();
    for key in ["avif", "no_avif"] {
        for format in ["jpeg", "webp"] {
            assert!(cases.iter().any(|c| c[key] == format), "{key}: no {format}");
        }
    }
    assert!(cases.iter().any(|c| c["avif"] == "avif"));
    assert!(!cases.iter().any(|c| c["no_avif"] == "avif"));
}

#[test]
fn a_canonical_accept_negotiates_to_its_own_format() {
    for format in OutputFormat::ALL {
        let accept = canonical_accept(format);
        assert_eq!(negotiate(Some(accept), true), format, "{accept}");
    }
    // An origin with AVIF off answers the AVIF stand-in with WebP, not JPEG.
    assert_eq!(
        negotiate(Some(canonical_accept(OutputFormat::Avif)), false),
        OutputFormat::WebP
    );
}
