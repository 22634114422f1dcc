//! S3 event notifications: the key encoding S3 uses in them, and building events locally.
//!
//! S3 URL-encodes object keys in event records the way HTML forms do: a space arrives as `+`,
//! a literal `+` as `%2B`, other bytes as `%XX` (AWS docs, "Event message structure": "The s3
//! key provides information about the bucket and object involved in the event. The object key
//! name value is URL encoded."). Using the key raw is the classic bug: `my photo.jpg` arrives as
//! `my+photo.jpg`, and the GET for that name fails.

use aws_lambda_events::event::s3::S3Event;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// A key in an event record was not valid percent-encoded UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("S3 event key {raw:?} does not decode to UTF-8")]
pub struct KeyDecodeError {
    /// The key exactly as it appeared in the event.
    pub raw: String,
}

/// Decodes an object key from an S3 event record: `+` → space, then `%XX` → byte.
pub fn decode_key(raw: &str) -> Result<String, KeyDecodeError> {
    let plus_as_space = raw.replace('+', " ");
    percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|key| key.into_owned())
        .map_err(|_| KeyDecodeError {
            raw: raw.to_owned(),
        })
}

/// Everything but the characters S3 leaves alone in event keys.
const EVENT_KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Encodes a key the way S3 writes it into event records (the inverse of [`decode_key`]).
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, EVENT_KEY)
        .to_string()
        .replace("%20", "+")
}

/// One object that came into existence (PutObject, CompleteMultipartUpload, CopyObject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    /// S3's event name without the `s3:` prefix, e.g. `ObjectCreated:Put`.
    pub event_name: &'static str,
    pub bucket: String,
    /// The real (decoded) key.
    pub key: String,
    pub size: u64,
    /// The ETag without quotes.
    pub etag: String,
}

impl ObjectCreated {
    /// The S3 notification AWS would deliver for this object, with the key URL-encoded like
    /// AWS does (same shape as `sam local generate-event s3 put`).
    pub fn to_s3_event(&self, region: &str) -> S3Event {
        let now = time::OffsetDateTime::now_utc();
        let event_time = now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let json = serde_json::json!({
            "Records": [{
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": event_time,
                "eventName": self.event_name,
                "userIdentity": { "principalId": "LOCAL" },
                "requestParameters": { "sourceIPAddress": "127.0.0.1" },
                "responseElements": {
                    "x-amz-request-id": format!("{:016X}", now.unix_timestamp_nanos() as u64),
                    "x-amz-id-2": "thumbs-local"
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "thumbs-local",
                    "bucket": {
                        "name": self.bucket,
                        "ownerIdentity": { "principalId": "LOCAL" },
                        "arn": format!("arn:aws:s3:::{}", self.bucket)
                    },
                    "object": {
                        "key": encode_key(&self.key),
                        "size": self.size,
                        "eTag": self.etag,
                        "sequencer": format!("{:018X}", now.unix_timestamp_nanos() as u64)
                    }
                }
            }]
        });
        serde_json::from_value(json).expect("the S3 event shape matches aws_lambda_events")
    }
}

/// The `s3:TestEvent` S3 sends once when a notification configuration is saved. It has no
/// `Records`, so it does not deserialise as an [`S3Event`]; handlers must recognise it first.
pub fn is_test_event(event: &serde_json::Value) -> bool {
    event.get("Event").and_then(|e| e.as_str()) == Some("s3:TestEvent")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_is_a_space_and_percent_escapes_decode() {
        assert_eq!(
            decode_key("originals/my+photo+%281%29.jpg").unwrap(),
            "originals/my photo (1).jpg"
        );
        assert_eq!(decode_key("a%2Bb").unwrap(), "a+b");
        assert_eq!(decode_key("caf%C3%A9").unwrap(), "café");
        assert!(decode_key("bad%FF").is_err());
    }

    #[test]
    fn encode_is_the_inverse_of_decode() {
        for key in [
            "originals/0123abcd",
            "originals/my photo (1).jpg",
            "a+b=c&d",
            "café/ü",
        ] {
            let encoded = encode_key(key);
            assert!(!encoded.contains(' '));
            assert_eq!(decode_key(&encoded).unwrap(), key);
        }
        assert_eq!(
            encode_key("originals/my photo.jpg"),
            "originals/my+photo.jpg"
        );
    }

    #[test]
    fn built_event_round_trips_through_aws_lambda_events() {
        let created = ObjectCreated {
            event_name: "ObjectCreated:Put",
            bucket: "b".into(),
            key: "originals/x y".into(),
            size: 3,
            etag: "abc".into(),
        };
        let event = created.to_s3_event("us-east-1");
        assert_eq!(
            event.records[0].s3.object.key.as_deref(),
            Some("originals/x+y")
        );
        assert_eq!(event.records[0].s3.object.size, Some(3));
    }

    #[test]
    fn sam_generated_events_decode() {
        for text in [
            include_str!("../../../infra/events/s3-put-encoded-key.json"),
            include_str!("../../../infra/events/s3-put-plus-key.json"),
        ] {
            let event: S3Event = serde_json::from_str(text).unwrap();
            let raw = event.records[0].s3.object.key.as_deref().unwrap();
            assert_eq!(decode_key(raw).unwrap(), "originals/my photo (1).jpg");
        }

        let test_event: serde_json::Value =
            serde_json::from_str(include_str!("../../../infra/events/s3-test-event.json")).unwrap();
        assert!(is_test_event(&test_event));
        assert!(serde_json::from_value::<S3Event>(test_event).is_err());
    }
}
