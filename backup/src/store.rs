//! Where backups live: an S3 bucket (AWS or any S3-compatible server) or a local folder, behind
//! `object_store`, with the prefix every tenant's folder goes under.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, RetryConfig};

use crate::error::{BackupError, Result, Step};
use crate::profile;

/// Tuning of a [`BackupStore`]: retries, timeouts and the multipart upload's part size. The
/// defaults suit production; tests shorten the retries to fail fast.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Retries of a failed request (S3 only), with exponential backoff.
    pub max_retries: usize,
    /// Give up retrying a request after this long (S3 only).
    pub retry_timeout: Duration,
    /// Time allowed to open a connection (S3 only).
    pub connect_timeout: Duration,
    /// Size of each multipart-upload part; also the unit of memory the upload holds per part in
    /// flight. S3 needs at least 5 MiB (except for the last part).
    pub part_size: usize,
    /// Parts uploaded at once. Peak memory of an upload is about
    /// `part_size * (parts_in_flight + 1)`.
    pub parts_in_flight: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_retries: 5,
            retry_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
            part_size: 8 * 1024 * 1024,
            parts_in_flight: 2,
        }
    }
}

/// Which kind of store a [`BackupStore`] is, for URIs and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Location {
    /// `s3://<bucket>/<prefix>`.
    S3 { bucket: String },
    /// `file://<root>`: keys are relative to the folder `root`.
    File { root: String },
}

/// A place backups are written to and read from: `s3://bucket/prefix` or `file:///folder`.
///
/// Objects are laid out as `<prefix>/<subdomain>/<UTC timestamp>.dump` with
/// `<same>.manifest.json` beside each dump. The store's `Debug` shows the URL without credentials
/// (credentials never come from the URL anyway: S3 uses the AWS environment and profile chain).
#[derive(Clone)]
pub struct BackupStore {
    pub(crate) inner: Arc<dyn ObjectStore>,
    location: Location,
    /// Key prefix inside the bucket (no leading or trailing `/`; empty for none).
    prefix: String,
    pub(crate) options: StoreOptions,
}

impl fmt::Debug for BackupStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackupStore")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl BackupStore {
    /// Opens the store at `url` with default [`StoreOptions`]. See [`BackupStore::from_url_with`].
    pub fn from_url(url: &str, endpoint: Option<&str>) -> Result<BackupStore> {
        BackupStore::from_url_with(url, endpoint, StoreOptions::default())
    }

    /// Opens the store at `url`:
    ///
    /// - `s3://<bucket>[/<prefix>]`: AWS S3, or an S3-compatible server when `endpoint` is given
    ///   (`http://127.0.0.1:9000`, `https://minio.example.com`; path-style requests). Credentials
    ///   and region come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
    ///   `AWS_REGION` (or `AWS_DEFAULT_REGION`, else `us-east-1`), else from the shared credentials
    ///   and config files for `AWS_PROFILE` (`default` without it), else from the instance or
    ///   container metadata service.
    /// - `file:///<absolute folder>`: a local folder, created when missing.
    ///
    /// Nothing is contacted here: a store that cannot be reached fails at the first operation.
    pub fn from_url_with(
        url: &str,
        endpoint: Option<&str>,
        options: StoreOptions,
    ) -> Result<BackupStore> {
        if options.part_size < 5 * 1024 * 1024 || options.parts_in_flight == 0 {
            return Err(config(
                "the upload part size must be at least 5 MiB and at least one part in flight",
            ));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            return s3(rest, endpoint, options);
        }
        if let Some(rest) = url.strip_prefix("file://") {
            if endpoint.is_some() {
                return Err(config(
                    "a backup endpoint only applies to s3:// backup URLs; remove it or use s3://",
                ));
            }
            return file(rest, options);
        }
        Err(config(format!(
            "the backup URL must start with s3:// (s3://bucket/prefix) or file:// \
             (file:///absolute/folder); got {:?}",
            crate::error::redact(url)
        )))
    }

    /// The store's URL as given (`s3://bucket/prefix` or `file:///folder`), without credentials.
    pub fn url(&self) -> String {
        match &self.location {
            Location::S3 { bucket } if self.prefix.is_empty() => format!("s3://{bucket}"),
            Location::S3 { bucket } => format!("s3://{bucket}/{}", self.prefix),
            Location::File { root } => format!("file://{root}"),
        }
    }

    /// The key of a tenant's folder (`<prefix>/<subdomain>`).
    pub(crate) fn tenant_dir(&self, subdomain: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(subdomain)
        } else {
            ObjectPath::from(format!("{}/{subdomain}", self.prefix))
        }
    }

    /// The URI of the object at `key` (`s3://bucket/key` or `file:///root/key`).
    pub fn uri_of(&self, key: &ObjectPath) -> String {
        match &self.location {
            Location::S3 { bucket } => format!("s3://{bucket}/{key}"),
            Location::File { root } => format!("file://{}/{key}", root.trim_end_matches('/')),
        }
    }

    /// The key of the object a URI made by [`BackupStore::uri_of`] names; an error when the URI
    /// is not inside this store.
    pub fn key_of(&self, uri: &str) -> Result<ObjectPath> {
        let base = match &self.location {
            Location::S3 { bucket } => format!("s3://{bucket}/"),
            Location::File { root } => format!("file://{}/", root.trim_end_matches('/')),
        };
        let key = uri
            .strip_prefix(&base)
            .filter(|k| !k.is_empty() && (self.prefix.is_empty() || k.starts_with(&self.prefix)));
        match key {
            Some(key) => ObjectPath::parse(key).map_err(|e| {
                BackupError::new(
                    Step::Config,
                    format!("backup URI {uri:?} is not valid: {e}"),
                )
            }),
            None => Err(BackupError::new(
                Step::Config,
                format!(
                    "backup {uri:?} is not in the configured backup store {}; set the backup URL \
                     to the store that holds it",
                    self.url()
                ),
            )),
        }
    }
}

fn config(message: impl Into<String>) -> BackupError {
    BackupError::new(Step::Config, message)
}

/// Key segments we write ourselves: plain characters only, so keys need no escaping anywhere.
fn check_segments(what: &str, text: &str) -> Result<()> {
    for segment in text.split('/') {
        let ok = !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok {
            return Err(config(format!(
                "the backup URL's {what} {text:?} may only hold folders of letters, digits, '-', \
                 '_' and '.' separated by single '/'"
            )));
        }
    }
    Ok(())
}

fn s3(rest: &str, endpoint: Option<&str>, options: StoreOptions) -> Result<BackupStore> {
    let rest = rest.trim_end_matches('/');
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b));
    if !bucket_ok {
        return Err(config(format!(
            "the bucket name {bucket:?} in the backup URL is not valid: 3 to 63 lowercase letters, \
             digits, '-' and '.' (s3://bucket/prefix)"
        )));
    }
    if !prefix.is_empty() {
        check_segments("prefix", prefix)?;
    }
    let mut client = ClientOptions::new()
        .with_connect_timeout(options.connect_timeout)
        .with_timeout(Duration::from_secs(300));
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Some(endpoint) = endpoint {
        let scheme_ok = endpoint.starts_with("http://") || endpoint.starts_with("https://");
        if !scheme_ok || endpoint.contains('@') {
            return Err(config(format!(
                "the backup endpoint must be an http:// or https:// URL without credentials \
                 (e.g. http://127.0.0.1:9000); got {:?}",
                crate::error::redact(endpoint)
            )));
        }
        client = client.with_allow_http(endpoint.starts_with("http://"));
        builder = builder
            .with_endpoint(endpoint.trim_end_matches('/'))
            .with_virtual_hosted_style_request(false);
    }
    builder = profile::apply(builder)?;
    let retry = RetryConfig {
        max_retries: options.max_retries,
        retry_timeout: options.retry_timeout,
        ..RetryConfig::default()
    };
    crate::install_crypto_provider();
    let store = builder
        .with_client_options(client)
        .with_retry(retry)
        .build()
        .map_err(|e| BackupError::store(Step::Config, "the S3 backup store is not usable", &e))?;
    Ok(BackupStore {
        inner: Arc::new(store),
        location: Location::S3 {
            bucket: bucket.to_string(),
        },
        prefix: prefix.to_string(),
        options,
    })
}

fn file(rest: &str, options: StoreOptions) -> Result<BackupStore> {
    // file:///abs/path or file://localhost/abs/path.
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if !path.starts_with('/') || path.contains("/../") || path.ends_with("/..") {
        return Err(config(format!(
            "a file:// backup URL needs an absolute folder without '..' (file:///var/backups/stagesub); \
             got {:?}",
            format!("file://{rest}")
        )));
    }
    let root = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    std::fs::create_dir_all(root).map_err(|e| {
        config(format!(
            "could not create the backup folder {root}: {e}; create it or choose a writable folder"
        ))
    })?;
    let store = LocalFileSystem::new_with_prefix(root)
        .map_err(|e| BackupError::store(Step::Config, "the backup folder is not usable", &e))?;
    Ok(BackupStore {
        inner: Arc::new(store),
        location: Location::File {
            root: root.to_string(),
        },
        prefix: String::new(),
        options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_say_what_to_fix() {
        let e = BackupStore::from_url("gs://x", None).unwrap_err();
        assert!(e.message().contains("s3://"), "{e}");
        let e = BackupStore::from_url("s3://Bad_Bucket/p", None).unwrap_err();
        assert!(e.message().contains("bucket name"), "{e}");
        let e = BackupStore::from_url("s3://bucket/a//b", None).unwrap_err();
        assert!(e.message().contains("prefix"), "{e}");
        let e = BackupStore::from_url("file://relative/dir", None).unwrap_err();
        assert!(e.message().contains("absolute"), "{e}");
        let e = BackupStore::from_url("s3://bucket", Some("ftp://x")).unwrap_err();
        assert!(e.message().contains("http://"), "{e}");
        let e = BackupStore::from_url("s3://bucket", Some("http://a:secret@h")).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }

    #[test]
    fn uris_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}", dir.path().display());
        let store = BackupStore::from_url(&url, None).unwrap();
        let key = ObjectPath::from(format!("{}/20261201T000000Z.dump", store.tenant_dir("abc")));
        let uri = store.uri_of(&key);
        assert_eq!(uri, format!("{url}/abc/20261201T000000Z.dump"));
        assert_eq!(store.key_of(&uri).unwrap(), key);
        assert!(store.key_of("s3://other/abc/x.dump").is_err());

        let s3 =
            BackupStore::from_url("s3://bucket/tenants/prod", Some("http://127.0.0.1:1")).unwrap();
        let key = ObjectPath::from(format!("{}/x.dump", s3.tenant_dir("abc")));
        assert_eq!(s3.uri_of(&key), "s3://bucket/tenants/prod/abc/x.dump");
        assert_eq!(
            s3.key_of("s3://bucket/tenants/prod/abc/x.dump").unwrap(),
            key
        );
        assert!(s3.key_of("s3://bucket/elsewhere/abc/x.dump").is_err());
    }
}
