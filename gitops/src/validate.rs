//! Checks on a [`TenantChange`] before anything touches a repository.

use crate::{PublishError, TenantChange};

/// Rejects changes whose subdomain cannot name a branch or whose path escapes the repository.
pub(crate) fn change(change: &TenantChange) -> Result<(), PublishError> {
    let sub = &change.subdomain;
    let sub_ok = !sub.is_empty()
        && sub.len() <= 63
        && sub
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !sub.starts_with('-')
        && !sub.ends_with('-');
    if !sub_ok {
        return Err(PublishError::Permanent(format!(
            "subdomain {sub:?} is not a DNS label (lowercase letters, digits and inner hyphens, at most 63)"
        )));
    }
    let path = &change.path;
    let path_ok = !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && part != ".git");
    if !path_ok {
        return Err(PublishError::Permanent(format!(
            "tenant file path {path:?} must be relative to the repository root, without empty, `.`, `..` or `.git` parts"
        )));
    }
    if change.commit_message.trim().is_empty() {
        return Err(PublishError::Permanent("commit message is empty".into()));
    }
    Ok(())
}

/// The branch a pull request for `subdomain` lives on.
pub(crate) fn pr_branch(subdomain: &str) -> String {
    format!("stagesub/{subdomain}")
}
