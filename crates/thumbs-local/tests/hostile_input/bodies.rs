//! The hostile request bodies: images whose headers lie about their size, bombs, broken
//! encodings and multipart forms, generated from the core fixtures.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::common::fixture;

/// A PNG whose IHDR claims `width`×`height` (valid CRC), then a tiny IDAT and IEND.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // zlib stream of a few zero bytes: a decoder that trusted IHDR would now allocate 2.7 GB.
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A baseline JPEG header (SOI, DQT, SOF0) claiming `width`×`height`, then junk and EOI.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
    out.extend_from_slice(&[1u8; 64]);
    out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]);
    out.extend_from_slice(&[0u8; 64]);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A GIF89a with a 65535×65535 logical screen and one 65535×65535 image of almost no data.
fn gif_bomb() -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0, 0]);
    out.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    out.extend_from_slice(&[0x2C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0]);
    out.extend_from_slice(&[2, 2, 0x4C, 0x01, 0]);
    out.push(0x3B);
    out
}

fn multipart(boundary: &str, filename: &str, content_type: &str, data: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

pub struct Case {
    pub name: &'static str,
    pub content_type: String,
    pub body: Vec<u8>,
    pub expect: &'static [u16],
}

fn case(name: &'static str, content_type: &str, body: Vec<u8>, expect: &'static [u16]) -> Case {
    Case {
        name,
        content_type: content_type.to_owned(),
        body,
        expect,
    }
}

pub fn hostile_bodies() -> Vec<Case> {
    let jpeg = fixture("coffee.jpg");
    let png = fixture("coffee.png");
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#.to_vec();
    let svg_external = br#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100"><image href="file:///etc/passwd" xlink:href="file:///etc/passwd" width="100" height="100"/><text>&xxe;</text></svg>"#.to_vec();
    let mut random = vec![0u8; 64 * 1024];
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for byte in &mut random {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *byte = state as u8;
    }
    // GIF header whose width bytes open a JS comment: valid JS and a GIF signature.
    let gif_js = b"GIF89a/*\x00\x00\x80\x00\x00*/=1;alert(document.domain);//\x3b".to_vec();
    let mut jpeg_zip = jpeg.clone();
    jpeg_zip
        .extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x08\x00evil.jsPK\x05\x06\x00\x00\x00\x00");
    let mut html_png = b"\x89PNG\r\n\x1a\n".to_vec();
    html_png.extend_from_slice(b"<html><script>alert(1)</script></html>");
    let mut bad_utf8 = b"iVBORw0KGgo".to_vec();
    bad_utf8.extend_from_slice(&[0xFF, 0xFE, 0xC3, 0x28, 0xA0, 0xA1]);
    let data_html = format!(
        "data:text/html;base64,{}",
        BASE64.encode("<script>alert(1)</script>")
    );
    vec![
        case("zero bytes, image/jpeg", "image/jpeg", Vec::new(), &[400]),
        case("zero bytes, no type", "", Vec::new(), &[400]),
        case(
            "PNG signature only",
            "image/png",
            png[..8].to_vec(),
            &[415, 422],
        ),
        case(
            "JPEG SOI only",
            "image/jpeg",
            jpeg[..2].to_vec(),
            &[415, 422],
        ),
        case(
            "JPEG cut inside its header",
            "image/jpeg",
            jpeg[..20].to_vec(),
            &[422],
        ),
        case(
            "random bytes",
            "application/octet-stream",
            random.clone(),
            &[415],
        ),
        case("random bytes as image/png", "image/png", random, &[415]),
        case(
            "PNG IHDR 30000x30000",
            "image/png",
            png_claiming(30000, 30000),
            &[422],
        ),
        case(
            "JPEG SOF 65500x65500",
            "image/jpeg",
            jpeg_claiming(65500, 65500),
            &[422],
        ),
        case("GIF 65535x65535 canvas", "image/gif", gif_bomb(), &[422]),
        case("SVG", "image/svg+xml", svg.clone(), &[415]),
        case(
            "SVG with file:// references",
            "image/svg+xml",
            svg_external.clone(),
            &[415],
        ),
        case(
            "SVG sent as image/png",
            "image/png",
            svg_external.clone(),
            &[415],
        ),
        case(
            "text named .png (multipart)",
            "multipart/form-data; boundary=XyZ",
            multipart("XyZ", "photo.png", "image/png", b"hello, I am text\n"),
            &[415],
        ),
        case(
            "SVG in multipart",
            "multipart/form-data; boundary=XyZ",
            multipart("XyZ", "x.svg", "image/svg+xml", &svg_external),
            &[415],
        ),
        case("GIF/JS polyglot", "image/gif", gif_js, &[415, 422]),
        case(
            "HTML after a PNG signature",
            "image/png",
            html_png,
            &[415, 422],
        ),
        case(
            "base64 that is not",
            "text/plain",
            b"this is not base64 at all!!!".to_vec(),
            &[400],
        ),
        case(
            "base64 of text",
            "text/plain",
            BASE64.encode("just some text").into_bytes(),
            &[415],
        ),
        case(
            "invalid UTF-8 in a text body",
            "text/plain",
            bad_utf8,
            &[400],
        ),
        case(
            "data: URL with text/html",
            "text/plain",
            data_html.clone().into_bytes(),
            &[400, 415],
        ),
        case(
            "JSON data: URL with text/html",
            "application/json",
            serde_json::json!({ "data": data_html })
                .to_string()
                .into_bytes(),
            &[400, 415],
        ),
        case(
            "JSON without data",
            "application/json",
            br#"{"image": 1}"#.to_vec(),
            &[400],
        ),
        case(
            "JSON data not a string",
            "application/json",
            br#"{"data": 5}"#.to_vec(),
            &[400],
        ),
        case(
            "broken JSON",
            "application/json",
            br#"{"data": "#.to_vec(),
            &[400],
        ),
        case(
            "multipart, wrong boundary",
            "multipart/form-data; boundary=other",
            multipart("XyZ", "a.jpg", "image/jpeg", &jpeg),
            &[400],
        ),
        case(
            "multipart, missing boundary",
            "multipart/form-data",
            multipart("XyZ", "a.jpg", "image/jpeg", &jpeg),
            &[400],
        ),
        case(
            "multipart, no file part",
            "multipart/form-data; boundary=XyZ",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n--XyZ--\r\n"
                .to_vec(),
            &[400],
        ),
        case(
            "5 MB over the payload limit",
            "application/octet-stream",
            vec![0xFF; 5_000_000],
            &[413],
        ),
    ]
}
