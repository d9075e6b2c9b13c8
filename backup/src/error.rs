//! One error type for every operation, naming the step that failed and what to do about it.
//!
//! Messages never carry a password: database URLs go through [`stagesub_pgconn::redact_url`],
//! object-store errors through [`redact`] (which strips URL userinfo and signed query strings), and
//! the output of `pg_dump`/`pg_restore` is cut to its last lines before it is quoted.

use std::fmt;

/// The steps of an archive or a restore, in the order they run. [`BackupError::step`] names the one
/// that failed; the progress callback of [`crate::archive`] and [`crate::restore`] is told each
/// step as it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Step {
    /// Reading the backup URL, the database URL or the other arguments.
    Config,
    /// Connecting to the database and reading its version, row counts and migration history.
    Connect,
    /// Running `pg_dump` (including the check that it is new enough for the server).
    Dump,
    /// Streaming the dump into the object store (multipart upload).
    Upload,
    /// Reading the uploaded dump back and comparing its SHA-256 and size.
    ReadBack,
    /// `pg_restore --list` on the uploaded dump (is it a readable archive?).
    VerifyList,
    /// Writing the manifest beside the dump (the backup exists once this step succeeds).
    Manifest,
    /// Listing a tenant's backups or reading a manifest.
    List,
    /// Downloading a dump for a restore and checking it against its manifest.
    Download,
    /// Running `pg_restore` into the target database.
    Restore,
    /// Comparing the restored row counts and migration history with the manifest.
    VerifyRows,
    /// Deleting an expired backup.
    Delete,
}

impl Step {
    /// The step's name as errors and progress reports spell it (`read-back`, `verify-rows`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Step::Config => "config",
            Step::Connect => "connect",
            Step::Dump => "dump",
            Step::Upload => "upload",
            Step::ReadBack => "read-back",
            Step::VerifyList => "verify-list",
            Step::Manifest => "manifest",
            Step::List => "list",
            Step::Download => "download",
            Step::Restore => "restore",
            Step::VerifyRows => "verify-rows",
            Step::Delete => "delete",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed backup operation: the step that failed and a message saying what happened and what to
/// fix. Never contains a password or a signed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupError {
    step: Step,
    message: String,
}

impl BackupError {
    /// An error of `step` with `message` (which must already be free of secrets).
    pub fn new(step: Step, message: impl Into<String>) -> Self {
        BackupError {
            step,
            message: message.into(),
        }
    }

    /// The step that failed.
    pub fn step(&self) -> Step {
        self.step
    }

    /// What happened and what to fix, without the step prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// An object-store error during `step`, redacted, with `what` saying what was being done.
    pub(crate) fn store(step: Step, what: &str, error: &object_store::Error) -> Self {
        BackupError::new(step, format!("{what}: {}", redact(&error.to_string())))
    }
}

impl fmt::Display for BackupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "backup step `{}` failed: {}", self.step, self.message)
    }
}

impl std::error::Error for BackupError {}

/// Results of this crate.
pub type Result<T, E = BackupError> = std::result::Result<T, E>;

/// `text` with every URL's userinfo replaced by `***` and query strings that look signed
/// (`X-Amz-...`, `Signature=`, `token`) cut: object-store and HTTP errors quote URLs.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ')' || c == '>')
            .unwrap_or(tail.len());
        let (url, after) = tail.split_at(end);
        out.push_str(&redact_url_tail(url));
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The part of a URL after `scheme://`, with userinfo and signed query strings removed.
fn redact_url_tail(url: &str) -> String {
    let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
    let (authority, path) = url.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => format!("***@{}", &authority[at + 1..]),
        None => authority.to_string(),
    };
    let path = match path.split_once('?') {
        Some((base, query)) => {
            let lower = query.to_ascii_lowercase();
            if [
                "x-amz-",
                "signature",
                "token",
                "credential",
                "secret",
                "password",
            ]
            .iter()
            .any(|k| lower.contains(k))
            {
                format!("{base}?***")
            } else {
                path.to_string()
            }
        }
        None => path.to_string(),
    };
    format!("{authority}{path}")
}

/// The last `lines` lines of a child's stderr, for a message.
pub(crate) fn tail_lines(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = all.len().saturating_sub(lines);
    redact(&all[start..].join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_userinfo_and_signed_queries() {
        let text = "error sending request for url (http://AKIA:secret@127.0.0.1:9/b/k?X-Amz-Signature=abc&x=1): refused";
        let out = redact(text);
        assert!(!out.contains("secret"), "{out}");
        assert!(!out.contains("abc"), "{out}");
        assert!(out.contains("127.0.0.1:9/b/k?***"), "{out}");
        assert_eq!(
            redact("plain http://h/p?a=1 text"),
            "plain http://h/p?a=1 text"
        );
    }

    #[test]
    fn display_names_the_step() {
        let e = BackupError::new(Step::ReadBack, "checksum differs");
        assert_eq!(
            e.to_string(),
            "backup step `read-back` failed: checksum differs"
        );
        assert_eq!(e.step(), Step::ReadBack);
    }
}
