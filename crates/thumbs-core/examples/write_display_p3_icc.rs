//! Writes a Display P3 ICC profile (moxcms's built-in definition) to the path given as the
//! only argument. Used by `scripts/make-fixtures`: no Debian package ships a free Display P3
//! profile, and the fixture must carry one to test P3 → sRGB conversion.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: write_display_p3_icc OUT.icc")?;
    let icc = moxcms::ColorProfile::new_display_p3()
        .encode()
        .map_err(|e| format!("encode: {e:?}"))?;
    std::fs::write(path, icc)?;
    Ok(())
}
