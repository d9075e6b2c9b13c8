//! What the worker's mail jobs read and record: CI's failure reports, and that a welcome email
//! went out.

use tokio_postgres::GenericClient;

/// A report from CI that provisioning failed: (subdomain, what failed).
pub async fn failure_report(
    db: &impl GenericClient,
    id: i64,
) -> Result<Option<(String, String)>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT subdomain, detail FROM failure_reports WHERE id = $1",
            &[&id],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}

/// Records that the tenant's welcome email was sent.
pub async fn mark_welcome_sent(
    db: &impl GenericClient,
    subdomain: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE tenants SET welcome_sent_at = now() WHERE subdomain = $1",
        &[&subdomain],
    )
    .await?;
    Ok(())
}

/// A held welcome: (subdomain, the directory status seen).
pub async fn held_welcome(
    db: &impl GenericClient,
    id: i64,
) -> Result<Option<(String, String)>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT subdomain, directory_status FROM held_welcomes WHERE id = $1",
            &[&id],
        )
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
}
