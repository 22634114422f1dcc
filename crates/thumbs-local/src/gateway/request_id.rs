//! The ids API Gateway puts on a request: `x-amzn-RequestId` (a UUID, also the event's
//! `requestContext.requestId`), `x-amz-apigw-id`, and the X-Ray trace id.
//!
//! Trace header (https://docs.aws.amazon.com/xray/latest/devguide/xray-services-apigateway.html
//! and https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader):
//! API Gateway adds `X-Amzn-Trace-Id` to the request it passes on, keeping the `Root` of a
//! trace header the client sent. The response carries it only when it comes from the Lambda
//! proxy integration, not on the gateway's own answers (as recorded against AWS in
//! localstack/localstack's AWS-validated API Gateway snapshots, tests/aws/services/apigateway/).

/// The ids of one request.
#[derive(Debug, Clone)]
pub(super) struct RequestIds {
    /// UUID form, e.g. `c6af9ac6-7b61-11e6-9a41-93e8deadbeef`.
    pub request_id: String,
    /// `x-amz-apigw-id`: 16 characters.
    pub apigw_id: String,
    /// `Root=1-<8 hex seconds>-<24 hex>`, or the client's `Root`.
    pub trace: String,
}

impl RequestIds {
    /// New ids; `client_trace` is the request's `X-Amzn-Trace-Id`, whose `Root` is kept.
    pub(super) fn new(client_trace: Option<&str>) -> RequestIds {
        let random = random_hex();
        let request_id = format!(
            "{}-{}-{}-{}-{}",
            &random[..8],
            &random[8..12],
            &random[12..16],
            &random[16..20],
            &random[20..32]
        );
        let root = client_trace.and_then(client_root).unwrap_or_else(|| {
            let seconds = time::OffsetDateTime::now_utc().unix_timestamp();
            format!("1-{seconds:08x}-{}", &random[32..56])
        });
        RequestIds {
            request_id,
            apigw_id: random[56..72].to_owned(),
            trace: format!("Root={root}"),
        }
    }
}

/// The `Root` field of a trace header (`Root=1-...;Parent=...;Sampled=1`), if it has a sane one.
fn client_root(header: &str) -> Option<String> {
    header.split(';').find_map(|field| {
        let (name, value) = field.trim().split_once('=')?;
        let value = value.trim();
        let sane = !value.is_empty()
            && value.len() <= 64
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        (name.trim().eq_ignore_ascii_case("root") && sane).then(|| value.to_owned())
    })
}

/// 72 random hex digits (36 bytes); the clock if the OS has no randomness to give.
fn random_hex() -> String {
    let mut bytes = [0u8; 36];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
            .to_le_bytes();
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = nanos[index % nanos.len()].wrapping_add(index as u8);
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_look_like_aws_ones() {
        let ids = RequestIds::new(None);
        assert_eq!(ids.request_id.len(), 36);
        assert_eq!(ids.request_id.matches('-').count(), 4);
        assert_eq!(ids.apigw_id.len(), 16);
        let root = ids.trace.strip_prefix("Root=1-").unwrap();
        assert_eq!(root.len(), 8 + 1 + 24);
    }

    #[test]
    fn the_clients_root_is_kept() {
        let ids = RequestIds::new(Some(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        ));
        assert_eq!(ids.trace, "Root=1-5759e988-bd862e3fe1be46a994272793");
        let ids = RequestIds::new(Some("Root=bad value\r\n"));
        assert_ne!(ids.trace, "Root=bad value\r\n");
    }
}
