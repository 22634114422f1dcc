//! thumbs_store::event::{decode_key, encode_key}: no panic on any key, and
//! decode_key(encode_key(k)) == k for every UTF-8 key.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/thumbs-store/src/event.rs"]
mod event;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Decoding arbitrary (possibly malformed) event keys must not panic.
    if let Ok(decoded) = event::decode_key(&text) {
        // Re-encoding what was decoded must decode back to the same key.
        assert_eq!(event::decode_key(&event::encode_key(&decoded)).as_deref(), Ok(decoded.as_str()));
    }
    // Round trip from the real key side.
    let encoded = event::encode_key(&text);
    assert!(!encoded.contains(' '));
    assert_eq!(event::decode_key(&encoded).as_deref(), Ok(&*text));
});
