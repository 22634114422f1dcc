//! thumbs-local's template.yaml parser (Template::parse) on arbitrary YAML text: errors are
//! fine, panics (and unbounded recursion on !Ref/!Sub/aliases) are not.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/thumbs-local/src/binary.rs"]
mod binary;
#[allow(dead_code)]
#[path = "../../crates/thumbs-local/src/template/mod.rs"]
mod template;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = template::Template::parse(text) {
        let _ = t.function("UploadFunction");
        let _ = format!("{t:?}");
    }
});
