//! A string that never shows itself in logs, errors or `Debug` output.

use std::fmt;

/// A secret string (access token, database password).
///
/// `Debug` prints `***`; there is deliberately no `Display`. Read the value with
/// [`Secret::expose`] only where it must leave the process (an HTTP header, a request body).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value itself. Call sites are the places to audit.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Replaces every occurrence of the secret in `text` with `***`, so that text that may
    /// echo it (a server's error message) can be shown.
    pub fn redact_in(&self, text: &str) -> String {
        // Very short secrets would blank out ordinary words; they are not real tokens anyway.
        if self.0.len() < 4 {
            return text.to_owned();
        }
        text.replace(&self.0, "***")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}
