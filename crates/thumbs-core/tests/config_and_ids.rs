//! Configuration from the environment, ids, and the kinds and codes of errors.

use std::collections::HashMap;

use thumbs_core::error::SizeList;
use thumbs_core::{Config, Error, ErrorKind, ImageId, ThumbnailSize};

fn config_from(vars: &[(&str, &str)]) -> Result<Config, thumbs_core::ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|name| vars.get(name).cloned())
}

#[test]
fn defaults_when_nothing_is_set() {
    let config = config_from(&[]).unwrap();
    assert_eq!(config, Config::default());
    let sizes: Vec<u32> = config.sizes.iter().map(|s| s.get()).collect();
    assert_eq!(sizes, [128, 256, 512]);
    assert_eq!(config.jpeg_quality, 80);
    assert_eq!(config.limits.max_pixels, 100_000_000);
    assert_eq!(config.max_upload_bytes, 4_400_000);
}

#[test]
fn every_variable_is_read() {
    let config = config_from(&[
        ("THUMB_SIZES", "512, 64,64"),
        ("JPEG_QUALITY", "90"),
        ("MAX_PIXELS", "5000000"),
        ("MAX_SIDE", "4000"),
        ("MAX_UPLOAD_BYTES", "1000"),
        ("MAX_INPUT_BYTES", "2000"),
    ])
    .unwrap();
    let sizes: Vec<u32> = config.sizes.iter().map(|s| s.get()).collect();
    assert_eq!(sizes, [64, 512]);
    assert_eq!(config.jpeg_quality, 90);
    assert_eq!(config.limits.max_pixels, 5_000_000);
    assert_eq!(config.limits.max_side, 4000);
    assert_eq!(config.max_upload_bytes, 1000);
    assert_eq!(config.limits.max_input_bytes, 2000);
}

#[test]
fn invalid_values_are_errors_naming_the_variable() {
    for (name, value) in [
        ("THUMB_SIZES", "128,big"),
        ("THUMB_SIZES", ""),
        ("THUMB_SIZES", "0"),
        ("JPEG_QUALITY", "0"),
        ("JPEG_QUALITY", "101"),
        ("JPEG_QUALITY", "high"),
        ("MAX_PIXELS", "-1"),
        ("MAX_UPLOAD_BYTES", "4MB"),
        ("MAX_SIDE", "70000"),
    ] {
        let err = config_from(&[(name, value)]).unwrap_err();
        assert_eq!(err.variable, name);
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn only_configured_sizes_are_sizes() {
    let config = Config::default();
    assert_eq!(config.size("256"), ThumbnailSize::new(256));
    assert_eq!(config.size("300"), None);
    assert_eq!(config.size("abc"), None);
    let err = config.require_size("300").unwrap_err();
    assert_eq!(
        err,
        Error::InvalidSize {
            given: "300".into(),
            allowed: SizeList(vec![128, 256, 512])
        }
    );
    assert!(err.to_string().contains("128, 256, 512"));
}

#[test]
fn ids_are_32_lowercase_hex() {
    let id = ImageId::for_content(b"hello");
    // SHA-256("hello") starts 2cf24dba5fb0a30e26e83b2ac5b9e29e.
    assert_eq!(id.as_str(), "2cf24dba5fb0a30e26e83b2ac5b9e29e");
    assert_eq!(ImageId::for_content(b"hello"), id);
    assert_eq!(ImageId::parse(id.as_str()), Ok(id.clone()));
    let random = ImageId::random();
    assert_eq!(random.as_str().len(), 32);
    assert_ne!(random, ImageId::random());
    assert_eq!(ImageId::parse(random.as_str()), Ok(random));
    for bad in [
        "",
        "2CF24DBA5FB0A30E26E83B2AC5B9E29E",
        "../../etc/passwd",
        "2cf24dba5fb0a30e26e83b2ac5b9e29",
        "2cf24dba5fb0a30e26e83b2ac5b9e29eg",
    ] {
        assert_eq!(ImageId::parse(bad), Err(Error::InvalidId), "{bad:?}");
    }
    assert_eq!(
        serde_json::to_string(&id).unwrap(),
        "\"2cf24dba5fb0a30e26e83b2ac5b9e29e\""
    );
    assert!(serde_json::from_str::<ImageId>("\"nope\"").is_err());
}

#[test]
fn errors_have_the_designed_kinds_and_codes() {
    let cases = [
        (
            Error::UnsupportedFormat,
            ErrorKind::Unsupported,
            "unsupported_format",
        ),
        (
            Error::InputTooLarge {
                bytes: 10,
                limit: 5,
            },
            ErrorKind::TooLarge,
            "too_large",
        ),
        (
            Error::TooManyPixels {
                width: 1,
                height: 1,
                limit: 0,
            },
            ErrorKind::Unprocessable,
            "too_many_pixels",
        ),
        (
            Error::SideTooLong {
                width: 1,
                height: 1,
                limit: 0,
            },
            ErrorKind::Unprocessable,
            "too_many_pixels",
        ),
        (
            Error::Undecodable("x".into()),
            ErrorKind::Unprocessable,
            "undecodable",
        ),
        (Error::InvalidId, ErrorKind::Invalid, "invalid_id"),
        (
            Error::InvalidSize {
                given: "1".into(),
                allowed: SizeList(vec![128]),
            },
            ErrorKind::Invalid,
            "invalid_size",
        ),
        (Error::Encode("x".into()), ErrorKind::Internal, "internal"),
    ];
    for (err, kind, code) in cases {
        assert_eq!((err.kind(), err.code()), (kind, code), "{err:?}");
    }
}

#[test]
fn thumbnail_file_names_are_canonical_size_dot_jpg() {
    let config = thumbs_core::Config::default();
    assert_eq!(
        config.thumbnail_file("256.jpg").map(|s| s.get()).ok(),
        Some(256)
    );
    for bad in [
        "256",
        "0256.jpg",
        "+256.jpg",
        "256.png",
        "256.jpg.jpg",
        "100.jpg",
        ".jpg",
    ] {
        let err = config.thumbnail_file(bad).expect_err(bad);
        assert!(err.to_string().contains("128, 256, 512"), "{bad}: {err}");
    }
}

#[test]
fn thumbnail_requests_name_a_format_or_ask_for_negotiation() {
    use thumbs_core::config::ThumbnailFile;
    use thumbs_core::encode::OutputFormat;
    let config = thumbs_core::Config::default();
    let size = |n| ThumbnailSize::new(n).unwrap();
    assert_eq!(
        config.thumbnail_request("256.jpg").unwrap(),
        ThumbnailFile::Format(size(256), OutputFormat::Jpeg)
    );
    assert_eq!(
        config.thumbnail_request("128.webp").unwrap(),
        ThumbnailFile::Format(size(128), OutputFormat::WebP)
    );
    assert_eq!(
        config.thumbnail_request("512.avif").unwrap(),
        ThumbnailFile::Format(size(512), OutputFormat::Avif)
    );
    assert_eq!(
        config.thumbnail_request("256").unwrap(),
        ThumbnailFile::Negotiated(size(256))
    );
    for bad in [
        "0256",
        "256.png",
        "256.jpeg",
        "256.JPG",
        "256.",
        ".webp",
        "100",
        "256.webp.avif",
    ] {
        let err = config.thumbnail_request(bad).expect_err(bad);
        assert!(err.to_string().contains("128, 256, 512"), "{bad}: {err}");
    }
}

#[test]
fn avif_enabled_is_true_or_false() {
    let lookup =
        |value: &'static str| move |name: &str| (name == "AVIF_ENABLED").then(|| value.to_owned());
    assert!(!thumbs_core::Config::default().avif_enabled);
    assert!(
        thumbs_core::Config::from_lookup(lookup("true"))
            .unwrap()
            .avif_enabled
    );
    assert!(
        !thumbs_core::Config::from_lookup(lookup("false"))
            .unwrap()
            .avif_enabled
    );
    let err = thumbs_core::Config::from_lookup(lookup("yes")).unwrap_err();
    assert_eq!(err.variable, "AVIF_ENABLED");
}
