//! S3 event notifications: the key encoding S3 uses in them, and building events locally.
//!
//! S3 URL-encodes object keys in event records the way HTML forms do: a space arrives as `+`,
//! a literal `+` as `%2B`, other bytes as `%XX` (AWS docs, "Event message structure": "The s3
//! key provides information about the bucket and object involved in the event. The object key
//! name value is URL encoded."). Using the key raw is the classic bug: `my photo.jpg` arrives as
//! `my+photo.jpg`, and the GET for that name fails.

use aws_lambda_events::event::s3::{
    S3Bucket, S3Entity, S3Event, S3EventRecord, S3Object, S3RequestParameters, S3UserIdentity,
};
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
        let nanos = now.unix_timestamp_nanos() as u64;
        let local = |text: &str| {
            let mut identity = S3UserIdentity::default();
            identity.principal_id = Some(text.to_owned());
            identity
        };

        let mut bucket = S3Bucket::default();
        bucket.name = Some(self.bucket.clone());
        bucket.owner_identity = Some(local("LOCAL"));
        bucket.arn = Some(format!("arn:aws:s3:::{}", self.bucket));

        let mut object = S3Object::default();
        object.key = Some(encode_key(&self.key));
        object.size = Some(i64::try_from(self.size).unwrap_or(i64::MAX));
        object.e_tag = Some(self.etag.clone());
        object.sequencer = Some(format!("{nanos:018X}"));

        let mut entity = S3Entity::default();
        entity.schema_version = Some("1.0".to_owned());
        entity.configuration_id = Some("thumbs-local".to_owned());
        entity.bucket = bucket;
        entity.object = object;

        let mut request_parameters = S3RequestParameters::default();
        request_parameters.source_ip_address = Some("127.0.0.1".to_owned());

        let mut record = S3EventRecord::default();
        record.event_version = Some("2.1".to_owned());
        record.event_source = Some("aws:s3".to_owned());
        record.aws_region = Some(region.to_owned());
        record.event_time =
            chrono::DateTime::from_timestamp(now.unix_timestamp(), now.nanosecond())
                .unwrap_or_default();
        record.event_name = Some(self.event_name.to_owned());
        record.principal_id = local("LOCAL");
        record.request_parameters = request_parameters;
        record.response_elements = [
            ("x-amz-request-id".to_owned(), format!("{nanos:016X}")),
            ("x-amz-id-2".to_owned(), "thumbs-local".to_owned()),
        ]
        .into();
        record.s3 = entity;

        let mut event = S3Event::default();
        event.records = vec![record];
        event
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
        // The JSON Lambda would hand the function: the shape of `sam local generate-event s3
        // put`, and it reads back as the same event.
        let json = serde_json::to_value(&event).unwrap();
        let record = &json["Records"][0];
        assert_eq!(record["eventName"], "ObjectCreated:Put");
        assert_eq!(record["eventSource"], "aws:s3");
        assert_eq!(record["userIdentity"]["principalId"], "LOCAL");
        assert_eq!(record["s3"]["bucket"]["arn"], "arn:aws:s3:::b");
        assert_eq!(record["s3"]["object"]["eTag"], "abc");
        assert!(record["eventTime"].as_str().unwrap().ends_with('Z'));
        let back: S3Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
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
