//! Image ids: 32 lowercase hex characters, safe in URLs and S3 keys as they are.
//! Direct uploads are content-addressed (the same bytes twice are one image); presigned
//! uploads get random ids because their bytes are not known when the id is handed out.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageId(String);

impl ImageId {
    /// The first 16 bytes of the SHA-256 of `bytes`, in hex. 128 bits keep accidental
    /// collisions out of reach while keeping URLs short.
    pub fn for_content(bytes: &[u8]) -> ImageId {
        let digest = Sha256::digest(bytes);
        ImageId(hex::encode(&digest[..16]))
    }

    /// 16 bytes from the operating system's random source.
    pub fn random() -> ImageId {
        let mut bytes = [0u8; 16];
        // The OS random source failing is not something a request can recover from.
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        ImageId(hex::encode(bytes))
    }

    /// Exactly 32 characters of `[0-9a-f]`; anything else (upper case, `..`, `/`) is
    /// [`Error::InvalidId`], so an id can never step outside its S3 prefix.
    pub fn parse(text: &str) -> Result<ImageId, Error> {
        let valid =
            text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if valid {
            Ok(ImageId(text.to_owned()))
        } else {
            Err(Error::InvalidId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ImageId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageId::parse(s)
    }
}

impl serde::Serialize for ImageId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ImageId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ImageId::parse(&text).map_err(serde::de::Error::custom)
    }
}
