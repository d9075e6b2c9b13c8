//! Where a tenant's file was last published.

use tokio_postgres::GenericClient;

use super::TenantState;

/// Records the published file (its SHA-256, the commit, the pull request) and moves a tenant that
/// was `publishing` to `published`.
pub async fn mark_published(
    db: &impl GenericClient,
    subdomain: &str,
    sha256: &str,
    commit: &str,
    pull_request_url: Option<&str>,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE tenants SET published_sha256 = $2, published_commit = $3, pull_request_url = $4,
                published_at = now(),
                state = CASE WHEN state = $5 THEN $6 ELSE state END
         WHERE subdomain = $1",
        &[
            &subdomain,
            &sha256,
            &commit,
            &pull_request_url,
            &TenantState::Publishing,
            &TenantState::Published,
        ],
    )
    .await?;
    // Each commit, for the console's timeline (migration 6).
    db.execute(
        "INSERT INTO tenant_commits (subdomain, commit_sha, pull_request_url, file_sha256)
         VALUES ($1, $2, $3, $4)",
        &[&subdomain, &commit, &pull_request_url, &sha256],
    )
    .await?;
    Ok(())
}
