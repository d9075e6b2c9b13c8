//! Publishing a tenant's file through the configured [`Publisher`](stagesub_gitops::Publisher).

use sha2::{Digest, Sha256};
use stagesub_gitops::TenantChange;
use tokio_postgres::Transaction;

use super::{JobError, Outcome, WorkerContext};
use crate::render::{legacy_tenant_path, tenant_path};
use crate::store;
use crate::tenant::TenantRecord;

pub(super) async fn publish_tenant(
    db: &Transaction<'_>,
    ctx: &WorkerContext,
    subdomain: &str,
) -> Result<Outcome, JobError> {
    // Held for the whole publish: a concurrent change waits and then publishes after us.
    store::lock_tenant(db, subdomain).await?;
    let Some(tenant) = store::load_tenant(db, subdomain).await? else {
        return Ok(Outcome::Parked(format!(
            "tenant {subdomain} is not in the store"
        )));
    };
    // The only failure retrying cannot cure: values that break the tenant rules (stored before a
    // rule tightened, or written by hand). Everything after this is the remote's to fix.
    if let Err(reason) = tenant.record.values.validate() {
        return Ok(Outcome::Parked(format!(
            "tenant {subdomain} has invalid values, not published: {reason}"
        )));
    }
    let content = crate::adopt::render_tenant_file(
        &tenant.record,
        &ctx.module_source,
        tenant.import_id.as_deref(),
    );
    let sha = hex::encode(Sha256::digest(content.as_bytes()));
    if tenant.published_sha256.as_deref() == Some(sha.as_str()) {
        return Ok(Outcome::Done);
    }
    let change = change_for(&tenant.record, &ctx.tenants_dir, content);
    let started = std::time::Instant::now();
    let published = ctx.publisher.publish(&change).await;
    let metrics = crate::metrics::global();
    metrics.publish_attempt(started.elapsed(), published.is_ok());
    let published = published?;
    if let Some(age) = store::metrics::unpublished_payment_age(db, subdomain).await? {
        metrics.payment_to_commit(age);
    }
    tracing::info!(
        subdomain,
        branch = %published.branch,
        commit = %published.commit_sha,
        changed = published.changed,
        "tenant file published"
    );
    store::mark_published(
        db,
        subdomain,
        &sha,
        &published.commit_sha,
        published.pull_request_url.as_deref(),
    )
    .await?;
    Ok(Outcome::Done)
}

/// The commit and pull request texts name the tenant, the Stripe customer and the event.
pub(super) fn change_for(t: &TenantRecord, tenants_dir: &str, content: String) -> TenantChange {
    let subdomain = &t.values.subdomain;
    let customer = t
        .stripe_customer_id
        .as_deref()
        .unwrap_or("unknown customer");
    let event = t.source_event_id.as_deref().unwrap_or("no event");
    let action = if t.archived { "Archive" } else { "Provision" };
    let summary = format!("{action} orchestra tenant {subdomain}");
    let body = format!(
        "Stripe customer: {customer}\nStripe event: {event}\nCheckout session: {}\nSubscription: {}\nArchived: {}\n\n\
         Written by stagesub-bridge; merging applies it with Terraform.",
        t.checkout_session_id.as_deref().unwrap_or("-"),
        t.stripe_subscription_id.as_deref().unwrap_or("-"),
        t.archived,
    );
    TenantChange {
        subdomain: subdomain.clone(),
        path: tenant_path(tenants_dir, subdomain),
        remove: vec![legacy_tenant_path(tenants_dir, subdomain)],
        content,
        commit_message: format!("{summary}\n\n{body}\n"),
        pr_title: summary,
        pr_body: body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::Tenant;

    #[test]
    fn a_change_writes_the_tenant_root_and_deletes_the_flat_file() {
        let record = TenantRecord {
            values: Tenant {
                subdomain: "bach-collegium".into(),
                orchestra_name: "Bach Collegium".into(),
                contact_email: None,
                plan: None,
                region: None,
            },
            archived: false,
            stripe_customer_id: Some("cus_1".into()),
            stripe_subscription_id: None,
            source_event_id: None,
            checkout_session_id: None,
        };
        let change = change_for(&record, "infra/tenants/", "x".into());
        assert_eq!(change.path, "infra/tenants/bach-collegium/main.tf");
        assert_eq!(
            change.remove,
            vec!["infra/tenants/bach-collegium.tf".to_owned()]
        );
    }
}
