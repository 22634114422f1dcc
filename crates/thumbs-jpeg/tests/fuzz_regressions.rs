//! Inputs the fuzzer (fuzz/ at the repo root, `scripts/fuzz`) found, kept as regressions.

mod common;

use thumbs_jpeg::{Limits, Scale, decode_scaled, read_header};

/// A DHT whose code-length counts overfill the code space: building the lookup table indexed
/// past its end (`range end index 1026 out of range for slice of length 1024`) before the
/// overfull check ran. Now an error at every scale.
#[test]
fn overfull_huffman_table_is_an_error_not_a_panic() {
    let bytes = common::fixture("fuzz-huffman-overfull.jpg");
    let _ = read_header(&bytes);
    for scale in [Scale::Eighth, Scale::Quarter, Scale::Half, Scale::Full] {
        assert!(decode_scaled(&bytes, scale, &Limits::default()).is_err());
    }
}
