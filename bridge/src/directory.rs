//! The tenant directory (`DIRECTORY_URL`): before the welcome goes out, the `ready` callback asks
//! the directory whether it says `ready` for the subdomain. Only the row's status is read, through
//! `stagesub_directory.lookup` (a role with EXECUTE on it suffices; no decryption keys).

use std::time::Duration;

use crate::config::Secret;
use crate::error::Error;

/// How long one question to the directory may take (connect and look-up) before the callback is
/// answered 503 for CI to retry.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where the directory is.
#[derive(Debug, Clone)]
pub struct Directory {
    url: Secret,
}

/// What the directory says about a subdomain, as the admin's email names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The row says `ready`: the welcome may go out.
    Ready,
    /// Anything else: `missing` (no row) or the row's status (`provisioning`, `archived`, ...).
    NotReady(String),
}

impl Directory {
    /// The directory at `url` (`DIRECTORY_URL`, checked by the configuration). Connects on use.
    pub fn new(url: Secret) -> Self {
        Self { url }
    }

    /// Asks the directory about `subdomain`. A directory that cannot be reached or answered in
    /// time is [`Error::DirectoryUnavailable`], whose reason shows its URL with the password as `***`.
    pub async fn verdict(&self, subdomain: &str) -> Result<Verdict, Error> {
        let ask = async {
            let client = stagesub_directory::connect(self.url.expose()).await?;
            stagesub_directory::status(&client, subdomain).await
        };
        let status = match tokio::time::timeout(TIMEOUT, ask).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => return Err(Error::DirectoryUnavailable(e.to_string())),
            Err(_) => {
                return Err(Error::DirectoryUnavailable(format!(
                    "the tenant directory at {} did not answer within {} s",
                    stagesub_pgconn::redact_url(self.url.expose()),
                    TIMEOUT.as_secs()
                )));
            }
        };
        Ok(match status {
            Some(stagesub_directory::Status::Ready) => Verdict::Ready,
            Some(other) => Verdict::NotReady(other.as_str().to_owned()),
            None => Verdict::NotReady("missing".to_owned()),
        })
    }
}
