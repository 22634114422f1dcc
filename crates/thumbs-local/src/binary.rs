//! `BinaryMediaTypes`: which bodies API Gateway (REST API, Lambda proxy) treats as binary.
//!
//! The same list decides both directions (docs/architecture.md, rule 1–3):
//! - request: the body is base64-encoded (`isBase64Encoded: true`) when the request's
//!   `Content-Type` matches an entry;
//! - response: a Lambda body marked `isBase64Encoded: true` is decoded back to bytes only when the
//!   FIRST media type of the request's `Accept` header matches an entry ("API Gateway uses the
//!   first Accept header from clients to determine if a response should return binary media",
//!   AWS docs, "Binary media types for REST APIs"). Otherwise the client gets the base64 text.
//!
//! Matching is one-directional, pattern against value, as AWS does it: the entry `*/*` matches
//! everything, `image/*` matches `image/png`, `image/png` matches only `image/png`. A client's
//! `Accept: */*` does NOT match the entry `image/jpeg` (the classic "curl gets base64" report).

/// The API's `binaryMediaTypes`, with SAM's `~1` already decoded to `/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BinaryMediaTypes {
    entries: Vec<String>,
}

impl BinaryMediaTypes {
    /// From the template's list. SAM writes `/` as `~1` (JSON-pointer escaping, rule 3); `~0` is `~`.
    pub fn from_template<S: AsRef<str>>(entries: &[S]) -> BinaryMediaTypes {
        let entries = entries
            .iter()
            .map(|entry| {
                entry
                    .as_ref()
                    .trim()
                    .replace("~1", "/")
                    .replace("~0", "~")
                    .to_ascii_lowercase()
            })
            .filter(|entry| !entry.is_empty())
            .collect();
        BinaryMediaTypes { entries }
    }

    /// The decoded entries, e.g. `["*/*"]`.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether a `Content-Type` value (parameters such as `; charset=utf-8` are ignored) is binary.
    pub fn matches(&self, content_type: &str) -> bool {
        let Some((kind, subtype)) = media_type(content_type) else {
            return false;
        };
        self.entries
            .iter()
            .any(|entry| match entry.split_once('/') {
                Some(("*", "*")) => true,
                Some((entry_kind, "*")) => entry_kind == kind,
                Some((entry_kind, entry_subtype)) => entry_kind == kind && entry_subtype == subtype,
                None => false,
            })
    }

    /// Whether the FIRST media type of an `Accept` header matches (rule 2). Browsers' `<img>` send
    /// `image/avif,image/webp,...` (first: `image/avif`), a navigation `text/html,...`, curl `*/*`.
    pub fn matches_accept(&self, accept: &str) -> bool {
        first_accept_type(accept).is_some_and(|first| self.matches(first))
    }
}

/// The first media range of an `Accept` header, without parameters (`q=` and friends).
pub fn first_accept_type(accept: &str) -> Option<&str> {
    let first = accept.split(',').next()?.split(';').next()?.trim();
    (!first.is_empty()).then_some(first)
}

/// `type/subtype` lowercased, parameters dropped; `None` when the value is not a media type.
fn media_type(value: &str) -> Option<(String, String)> {
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    let (kind, subtype) = essence.split_once('/')?;
    if kind.is_empty() || subtype.is_empty() {
        return None;
    }
    Some((kind.to_owned(), subtype.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sam_tilde_one_is_a_slash() {
        let types = BinaryMediaTypes::from_template(&["*~1*", "image~1png"]);
        assert_eq!(types.entries(), ["*/*", "image/png"]);
    }

    #[test]
    fn star_slash_star_matches_everything() {
        let types = BinaryMediaTypes::from_template(&["*~1*"]);
        for value in [
            "image/jpeg",
            "application/json",
            "text/plain; charset=utf-8",
            "multipart/form-data; boundary=x",
        ] {
            assert!(types.matches(value), "{value}");
        }
        assert!(!types.matches("not a media type"));
    }

    #[test]
    fn type_wildcard_matches_its_subtypes_only() {
        let types = BinaryMediaTypes::from_template(&["image~1*"]);
        assert!(types.matches("image/png"));
        assert!(types.matches("IMAGE/JPEG"));
        assert!(!types.matches("application/octet-stream"));
    }

    #[test]
    fn exact_entry_does_not_match_a_wildcard_accept_like_aws() {
        let types = BinaryMediaTypes::from_template(&["image~1jpeg"]);
        assert!(!types.matches_accept("*/*"));
        assert!(types.matches_accept("image/jpeg"));
    }

    #[test]
    fn only_the_first_accept_type_counts() {
        let types = BinaryMediaTypes::from_template(&["image~1jpeg"]);
        assert!(!types.matches_accept("image/avif,image/webp,image/jpeg,*/*;q=0.8"));
        let all = BinaryMediaTypes::from_template(&["*~1*"]);
        assert!(all.matches_accept("text/html,application/xhtml+xml"));
        assert!(all.matches_accept("image/avif,image/webp,*/*;q=0.8"));
    }
}
