//! thumbs_upload::body::decode_upload on a fuzzer-chosen Content-Type and body.
//! Invariants: no panic; the result never exceeds the limit.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/thumbs-upload/src/body.rs"]
mod body;

use libfuzzer_sys::fuzz_target;

const TYPES: &[Option<&str>] = &[
    None,
    Some(""),
    Some("image/jpeg"),
    Some("application/octet-stream"),
    Some("text/plain"),
    Some("text/plain; charset=utf-8"),
    Some("application/json"),
    Some("multipart/form-data; boundary=XyZ"),
    Some("multipart/form-data; boundary=\"a b\""),
    Some("multipart/form-data"),
    Some("image/png"),
    Some("application/x-www-form-urlencoded"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let limit = 4096;
    // High bit set: the Content-Type itself comes from the input, up to the first NUL.
    let (content_type, body): (Option<String>, &[u8]) = if selector & 0x80 != 0 {
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        (
            Some(String::from_utf8_lossy(&rest[..end]).into_owned()),
            rest.get(end + 1..).unwrap_or(&[]),
        )
    } else {
        let choice = TYPES[usize::from(selector) % TYPES.len()];
        (choice.map(str::to_owned), rest)
    };
    if let Ok(bytes) = body::decode_upload(content_type.as_deref(), body, limit) {
        assert!(bytes.len() <= limit, "{} > {limit}", bytes.len());
    }
});
