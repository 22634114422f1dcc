//! Service configuration, read once at start-up from the environment (nothing reads
//! env vars later). A variable that is set but invalid is an error naming the variable, never
//! a silent fallback to the default: a typo in a deployment should stop it, not hide.

use std::fmt;
use std::str::FromStr;

use crate::encode::OutputFormat;
use crate::error::{Error, SizeList};
pub use crate::limits::Limits;

/// A thumbnail's bounding box: the thumbnail fits inside `N×N` pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThumbnailSize(u32);

impl ThumbnailSize {
    /// Largest size accepted: the JPEG format itself stops at 65535.
    pub const MAX: u32 = 8192;

    /// `None` for 0 or more than [`ThumbnailSize::MAX`].
    pub fn new(n: u32) -> Option<ThumbnailSize> {
        (1..=Self::MAX).contains(&n).then_some(ThumbnailSize(n))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ThumbnailSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for ThumbnailSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n: u32 = s
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not a whole number"))?;
        ThumbnailSize::new(n)
            .ok_or_else(|| format!("{n} is not between 1 and {}", ThumbnailSize::MAX))
    }
}

/// Everything the pipeline and the handlers need to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Thumbnail sizes, ascending, no duplicates.
    pub sizes: Vec<ThumbnailSize>,
    /// JPEG quality 1–100.
    pub jpeg_quality: u8,
    pub limits: Limits,
    /// Largest body a direct `POST /images` accepts: Lambda's 6 MB synchronous payload after
    /// base64's 4/3 inflation (docs/architecture.md, rule 4).
    pub max_upload_bytes: usize,
    /// `CORS_ALLOW_ORIGIN` (the template's `CorsAllowOrigin`): the origin the HTTP functions name
    /// in `Access-Control-Allow-Origin` on every response; `None` adds no CORS headers.
    pub cors_allow_origin: Option<String>,
    /// `AVIF_ENABLED` (the template's `AvifEnabled`): whether the negotiated thumbnail URL
    /// answers AVIF-capable clients with AVIF (otherwise WebP). `{size}.avif` answers AVIF
    /// either way.
    pub avif_enabled: bool,
}

/// What a thumbnail URL's last segment asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbnailFile {
    /// `{size}.jpg`, `{size}.webp`, `{size}.avif`: that format, always.
    Format(ThumbnailSize, OutputFormat),
    /// `{size}`: the format the request's `Accept` picks.
    Negotiated(ThumbnailSize),
}

impl ThumbnailFile {
    pub fn size(self) -> ThumbnailSize {
        match self {
            ThumbnailFile::Format(size, _) | ThumbnailFile::Negotiated(size) => size,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sizes: [128, 256, 512].into_iter().map(ThumbnailSize).collect(),
            jpeg_quality: 80,
            limits: Limits::default(),
            max_upload_bytes: 4_400_000,
            cors_allow_origin: None,
            avif_enabled: false,
        }
    }
}

/// A variable that is set but unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {variable}={value:?}: {reason}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub value: String,
    pub reason: String,
}

impl Config {
    /// Read THUMB_SIZES, JPEG_QUALITY, MAX_PIXELS, MAX_SIDE, MAX_UPLOAD_BYTES, MAX_INPUT_BYTES,
    /// CORS_ALLOW_ORIGIN and AVIF_ENABLED; unset variables keep their defaults. MAX_INPUT_BYTES is the one cap on
    /// an original (presigned uploads, the resize and the on-demand render all use it); the
    /// former separate presign cap, MAX_PRESIGNED_BYTES, is refused if set, so a deployment
    /// cannot keep two caps that disagree.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`] with any source of variables (tests, a template's
    /// environment block).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        if let Some(value) = lookup("THUMB_SIZES") {
            config.sizes = parse_sizes(&value).map_err(|reason| ConfigError {
                variable: "THUMB_SIZES",
                value: value.clone(),
                reason,
            })?;
        }
        if let Some(q) = parse_number::<u8>(&lookup, "JPEG_QUALITY", 1, 100)? {
            config.jpeg_quality = q;
        }
        if let Some(n) = parse_number::<u64>(&lookup, "MAX_PIXELS", 1, u64::MAX)? {
            config.limits.max_pixels = n;
        }
        if let Some(n) = parse_number::<u32>(&lookup, "MAX_SIDE", 1, 65_535)? {
            config.limits.max_side = n;
        }
        if let Some(n) = parse_number::<usize>(&lookup, "MAX_UPLOAD_BYTES", 1, usize::MAX)? {
            config.max_upload_bytes = n;
        }
        if let Some(n) = parse_number::<usize>(&lookup, "MAX_INPUT_BYTES", 1, usize::MAX)? {
            config.limits.max_input_bytes = n;
        }
        if let Some(origin) = lookup("CORS_ALLOW_ORIGIN") {
            let trimmed = origin.trim();
            // A header value: visible ASCII, no line breaks (`*` or `https://example.com`).
            if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ConfigError {
                    variable: "CORS_ALLOW_ORIGIN",
                    value: origin.clone(),
                    reason: "expected \"*\" or one origin such as https://example.com".into(),
                });
            }
            config.cors_allow_origin = Some(trimmed.to_owned());
        }
        if let Some(value) = lookup("AVIF_ENABLED") {
            config.avif_enabled = match value.trim() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(ConfigError {
                        variable: "AVIF_ENABLED",
                        value: value.clone(),
                        reason: "expected true or false".into(),
                    });
                }
            };
        }
        if let Some(value) = lookup("MAX_PRESIGNED_BYTES") {
            return Err(ConfigError {
                variable: "MAX_PRESIGNED_BYTES",
                value,
                reason: "no longer read: MAX_INPUT_BYTES is the one cap for presigned uploads \
                         and the resize's input"
                    .to_owned(),
            });
        }
        Ok(config)
    }

    /// The configured size named by `text` (a URL segment such as "256"), if it is one.
    pub fn size(&self, text: &str) -> Option<ThumbnailSize> {
        let size: ThumbnailSize = text.parse().ok()?;
        // Only the canonical spelling ("256", not "0256" or "+256"): one URL per thumbnail, so
        // caches and ETags see one resource.
        (self.sizes.contains(&size) && size.to_string() == text).then_some(size)
    }

    /// The size in a thumbnail file name, `{size}.jpg` exactly: "256", "256.png" or "0256.jpg"
    /// are not thumbnail names ([`Error::InvalidSize`], naming the allowed sizes).
    pub fn thumbnail_file(&self, file: &str) -> Result<ThumbnailSize, Error> {
        match file.strip_suffix(".jpg") {
            Some(size) => self.require_size(size),
            None => Err(self.invalid_size(file)),
        }
    }

    /// A thumbnail URL's last segment: `{size}.jpg`, `{size}.webp`, `{size}.avif` or `{size}`
    /// (negotiated), the size canonical and configured; anything else is 400 naming the sizes.
    pub fn thumbnail_request(&self, file: &str) -> Result<ThumbnailFile, Error> {
        match file.split_once('.') {
            None => self.require_size(file).map(ThumbnailFile::Negotiated),
            Some((size, extension)) => match OutputFormat::from_extension(extension) {
                Some(format) => Ok(ThumbnailFile::Format(self.require_size(size)?, format)),
                None => Err(self.invalid_size(file)),
            },
        }
    }

    fn invalid_size(&self, given: &str) -> Error {
        Error::InvalidSize {
            given: given.to_owned(),
            allowed: SizeList(self.sizes.iter().map(|s| s.get()).collect()),
        }
    }

    /// Like [`Config::size`], with the error the API returns ([`Error::InvalidSize`], naming the
    /// allowed sizes).
    pub fn require_size(&self, text: &str) -> Result<ThumbnailSize, Error> {
        self.size(text).ok_or_else(|| self.invalid_size(text))
    }
}

/// "128, 256,512" → ascending, deduplicated sizes; empty lists are an error.
fn parse_sizes(value: &str) -> Result<Vec<ThumbnailSize>, String> {
    let mut sizes = value
        .split(',')
        .map(|part| part.parse::<ThumbnailSize>())
        .collect::<Result<Vec<_>, _>>()?;
    if sizes.is_empty() {
        return Err("expected a comma-separated list such as 128,256,512".into());
    }
    sizes.sort_unstable();
    sizes.dedup();
    Ok(sizes)
}

fn parse_number<T>(
    lookup: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    min: T,
    max: T,
) -> Result<Option<T>, ConfigError>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
{
    let Some(value) = lookup(variable) else {
        return Ok(None);
    };
    let error = |reason: String| ConfigError {
        variable,
        value: value.clone(),
        reason,
    };
    let n: T = value
        .trim()
        .parse()
        .map_err(|_| error(format!("expected a whole number from {min} to {max}")))?;
    if n < min || n > max {
        return Err(error(format!("must be from {min} to {max}")));
    }
    Ok(Some(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_allow_origin_is_read_and_checked() {
        let read = |value: &str| {
            let value = value.to_owned();
            Config::from_lookup(move |name| (name == "CORS_ALLOW_ORIGIN").then(|| value.clone()))
        };
        assert_eq!(Config::default().cors_allow_origin, None);
        assert_eq!(read("*").unwrap().cors_allow_origin.as_deref(), Some("*"));
        assert_eq!(
            read(" https://example.com ")
                .unwrap()
                .cors_allow_origin
                .as_deref(),
            Some("https://example.com")
        );
        for bad in ["", "a b", "x\r\nSet-Cookie: y"] {
            let err = read(bad).unwrap_err();
            assert_eq!(err.variable, "CORS_ALLOW_ORIGIN", "{bad:?}");
        }
    }
}
