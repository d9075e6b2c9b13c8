//! CI's callbacks: a tenant's database is ready, or provisioning it failed.

use super::{JobKind, Store, StoreError, TenantState, enqueue};

/// Marks the tenant ready. `None` when there is no such tenant; else whether this was the first time
/// (then the welcome email is queued, once).
pub async fn mark_ready(store: &Store, subdomain: &str) -> Result<Option<bool>, StoreError> {
    if subdomain.contains('\0') {
        return Ok(None); // no tenant can have it (and Postgres could not compare it)
    }
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    let Some(row) = tx
        .query_opt(
            "SELECT ready_at IS NULL FROM tenants WHERE subdomain = $1 FOR UPDATE",
            &[&subdomain],
        )
        .await?
    else {
        return Ok(None);
    };
    let first_time: bool = row.get(0);
    tx.execute(
        "UPDATE tenants SET ready_at = coalesce(ready_at, now()), state = $2, updated_at = now()
         WHERE subdomain = $1",
        &[&subdomain, &TenantState::Ready],
    )
    .await?;
    if first_time {
        enqueue(&*tx, JobKind::Welcome, subdomain).await?;
    }
    // A customer back after an archive gets the welcome back instead (sent once by its job).
    super::grace::queue_welcome_back(&*tx, subdomain).await?;
    tx.commit().await?;
    Ok(Some(first_time))
}

/// Holds the welcome of a tenant whose directory row does not say `ready` (`directory_status`:
/// `missing`, `provisioning`, `archived`, ...): records the held notice and queues one admin email
/// for it. The tenant is not marked ready, so a later `ready` call sends the welcome. `None` when
/// there is no such tenant; else the held notice's id.
pub async fn hold_welcome(
    store: &Store,
    subdomain: &str,
    directory_status: &str,
) -> Result<Option<i64>, StoreError> {
    if subdomain.contains('\0') {
        return Ok(None);
    }
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    let known = tx
        .query_opt(
            "SELECT 1 FROM tenants WHERE subdomain = $1 FOR UPDATE",
            &[&subdomain],
        )
        .await?;
    if known.is_none() {
        return Ok(None);
    }
    let id: i64 = tx
        .query_one(
            "INSERT INTO held_welcomes (subdomain, directory_status) VALUES ($1, $2) RETURNING id",
            &[&subdomain, &directory_status],
        )
        .await?
        .get(0);
    enqueue(&*tx, JobKind::AdminWelcomeHeld, &id.to_string()).await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// The readable text of a report: invalid UTF-8 and NUL (which Postgres' text refuses) become U+FFFD,
/// surrounding blanks go, and an empty report says so.
pub fn report_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body).replace('\0', "\u{fffd}");
    let text = text.trim();
    if text.is_empty() {
        "(no details given)".to_owned()
    } else {
        text.to_owned()
    }
}

/// Records a failure report (kept byte-exact, plus its [`report_text`]), marks the tenant failed and
/// queues the admin's email. `None` when there is no such tenant; else the report's id.
pub async fn record_failure_report(
    store: &Store,
    subdomain: &str,
    body: &[u8],
) -> Result<Option<i64>, StoreError> {
    if subdomain.contains('\0') {
        return Ok(None);
    }
    let mut client = store.client().await?;
    let tx = client.transaction().await?;
    let updated = tx
        .execute(
            "UPDATE tenants SET failed_at = now(), state = $2, updated_at = now() WHERE subdomain = $1",
            &[&subdomain, &TenantState::Failed],
        )
        .await?;
    if updated == 0 {
        return Ok(None);
    }
    let id: i64 = tx
        .query_one(
            "INSERT INTO failure_reports (subdomain, detail, body) VALUES ($1, $2, $3) RETURNING id",
            &[&subdomain, &report_text(body), &body],
        )
        .await?
        .get(0);
    enqueue(&*tx, JobKind::AdminFailure, &id.to_string()).await?;
    tx.commit().await?;
    Ok(Some(id))
}

#[cfg(test)]
mod tests {
    use super::report_text;

    #[test]
    fn report_text_holds_nothing_postgres_refuses() {
        assert_eq!(report_text(b"  \n"), "(no details given)");
        assert_eq!(report_text(b"a\0b"), "a\u{fffd}b");
        assert_eq!(report_text(b"x \xff\xfe y"), "x \u{fffd}\u{fffd} y");
        assert_eq!(report_text(b" plan failed\n"), "plan failed");
    }
}
