//! S3 notification filters: which created objects an `S3` event delivers to its function.

use super::model::S3Trigger;

impl S3Trigger {
    /// Whether an event (`ObjectCreated:Put`, without the `s3:` prefix) on `key` is delivered.
    /// S3 filter rules match the raw key by prefix and suffix; event names may end in `*`.
    pub fn matches(&self, event_name: &str, key: &str) -> bool {
        let full = format!("s3:{event_name}");
        let event_ok = self
            .events
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(stem) => full.starts_with(stem),
                None => *pattern == full,
            });
        event_ok
            && self
                .prefix
                .as_deref()
                .is_none_or(|prefix| key.starts_with(prefix))
            && self
                .suffix
                .as_deref()
                .is_none_or(|suffix| key.ends_with(suffix))
    }
}
