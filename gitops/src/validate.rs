//! Checks on a [`TenantChange`] before anything touches a repository.

use crate::{PublishError, TenantChange};

/// Rejects changes whose subdomain breaks the tenant rule (crate `stagesub-tenant`: it also names the
/// branch) or whose path escapes the repository.
pub(crate) fn change(change: &TenantChange) -> Result<(), PublishError> {
    stagesub_tenant::validate_subdomain(&change.subdomain)
        .map_err(|e| PublishError::Permanent(e.to_string()))?;
    for path in std::iter::once(&change.path).chain(&change.remove) {
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
    }
    if change.remove.contains(&change.path) {
        return Err(PublishError::Permanent(format!(
            "tenant file path {:?} is both written and removed",
            change.path
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with_subdomain(subdomain: &str) -> TenantChange {
        TenantChange {
            subdomain: subdomain.into(),
            path: format!("tenants/{subdomain}/main.tf"),
            remove: vec![format!("tenants/{subdomain}.tf")],
            content: "# tenant\n".into(),
            commit_message: "Provision".into(),
            pr_title: "Provision".into(),
            pr_body: String::new(),
        }
    }

    #[test]
    fn removed_paths_are_checked_too() {
        let mut c = with_subdomain("berlin-phil");
        c.remove = vec!["../escape.tf".into()];
        assert!(
            matches!(change(&c), Err(PublishError::Permanent(m)) if m.contains("../escape.tf"))
        );
        c.remove = vec![c.path.clone()];
        assert!(
            matches!(change(&c), Err(PublishError::Permanent(m)) if m.contains("both written and removed"))
        );
    }

    #[test]
    fn subdomains_follow_the_tenant_rule() {
        assert!(change(&with_subdomain("berlin-phil")).is_ok());
        for bad in ["ab", "www", "xn--bach", "ab--c", "Bach", "a_b", ""] {
            match change(&with_subdomain(bad)) {
                Err(PublishError::Permanent(m)) => assert!(m.starts_with("subdomain "), "{m}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
