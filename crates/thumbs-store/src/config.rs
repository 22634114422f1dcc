//! Where the bucket is and how to reach it, read once at start-up.

/// Connection settings for the one bucket thumbs uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// The private bucket holding `originals/` and `thumbnails/`.
    pub bucket: String,
    /// Any S3-compatible endpoint (thumbs-local's embedded server, MinIO, ...). `None` = AWS.
    pub endpoint_url: Option<String>,
    /// Path-style addressing (`http://host/bucket/key`), needed by most non-AWS endpoints.
    pub force_path_style: bool,
    /// `(access key, secret key)`. On Lambda these are the function role's credentials, which
    /// the runtime puts in the environment together with a session token.
    pub credentials: Option<(String, String)>,
    /// `AWS_SESSION_TOKEN`, present with temporary credentials (always, on Lambda).
    pub session_token: Option<String>,
    /// Signing region.
    pub region: String,
}

/// A required variable is missing.
#[derive(Debug, thiserror::Error)]
#[error("{0} is not set")]
pub struct MissingVar(pub &'static str);

impl StoreConfig {
    /// Reads `BUCKET_NAME` (required), `AWS_ENDPOINT_URL_S3`, `S3_FORCE_PATH_STYLE`, `AWS_REGION`
    /// (default `us-east-1`) and `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
    /// `AWS_SESSION_TOKEN`.
    ///
    /// Credentials come from the environment only, not aws-config's whole provider chain
    /// (profiles, IMDS, SSO, STS): Lambda always provides them there, and leaving the chain out
    /// keeps each bootstrap about a megabyte smaller, which every cold start downloads.
    pub fn from_env() -> Result<StoreConfig, MissingVar> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`StoreConfig::from_env`] over any variable source (tests, template environments).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<StoreConfig, MissingVar> {
        let non_empty = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let bucket = non_empty("BUCKET_NAME").ok_or(MissingVar("BUCKET_NAME"))?;
        let endpoint_url = non_empty("AWS_ENDPOINT_URL_S3");
        let force_path_style = non_empty("S3_FORCE_PATH_STYLE")
            .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
            .unwrap_or(false);
        let region = non_empty("AWS_REGION")
            .or_else(|| non_empty("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".to_owned());
        let credentials = non_empty("AWS_ACCESS_KEY_ID").zip(non_empty("AWS_SECRET_ACCESS_KEY"));
        let session_token = non_empty("AWS_SESSION_TOKEN");
        Ok(StoreConfig {
            bucket,
            endpoint_url,
            force_path_style,
            credentials,
            session_token,
            region,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn bucket_is_required() {
        assert!(StoreConfig::from_lookup(lookup(&[])).is_err());
    }

    #[test]
    fn local_endpoint_with_static_credentials() {
        let vars = [
            ("BUCKET_NAME", "thumbs"),
            ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000"),
            ("S3_FORCE_PATH_STYLE", "true"),
            ("AWS_ACCESS_KEY_ID", "ak"),
            ("AWS_SECRET_ACCESS_KEY", "sk"),
        ];
        let c = StoreConfig::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(c.bucket, "thumbs");
        assert!(c.force_path_style);
        assert_eq!(c.credentials, Some(("ak".into(), "sk".into())));
        assert_eq!(c.region, "us-east-1");
    }

    #[test]
    fn lambda_environment_credentials_include_the_session_token() {
        let vars = [
            ("BUCKET_NAME", "b"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "ak"),
            ("AWS_SECRET_ACCESS_KEY", "sk"),
            ("AWS_SESSION_TOKEN", "token"),
        ];
        let c = StoreConfig::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(c.endpoint_url, None);
        assert_eq!(c.credentials, Some(("ak".into(), "sk".into())));
        assert_eq!(c.session_token.as_deref(), Some("token"));
        assert_eq!(c.region, "eu-west-1");
    }

    #[test]
    fn half_a_key_pair_is_no_credentials() {
        let vars = [("BUCKET_NAME", "b"), ("AWS_ACCESS_KEY_ID", "ak")];
        let c = StoreConfig::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(c.credentials, None);
    }
}
