//! Mail jobs: the customer's welcome email (once) and the admin's notices.

use serde_json::Value;
use tokio_postgres::Transaction;

use super::{JobError, Outcome, WorkerContext};
use crate::mail::{Mail, MailError, Mailer};
use crate::store;

pub(super) fn mailer(ctx: &WorkerContext) -> Result<&Mailer, JobError> {
    // Parked rather than retried: nothing changes until the bridge is restarted with SMTP_URL.
    ctx.mailer.as_ref().ok_or_else(|| {
        JobError::Final("mail is not configured: set SMTP_URL, EMAIL_FROM, ADMIN_EMAIL".into())
    })
}

pub(super) async fn send(m: &Mailer, mail: &Mail) -> Result<(), JobError> {
    m.send(mail).await.map_err(|e| match e {
        MailError::Invalid(message) => JobError::Final(message),
        MailError::Transport(message) => JobError::Retry {
            message,
            retry_after: None,
        },
    })
}

pub(super) async fn send_welcome(
    db: &Transaction<'_>,
    ctx: &WorkerContext,
    subdomain: &str,
) -> Result<Outcome, JobError> {
    store::lock_tenant(db, subdomain).await?;
    let Some(tenant) = store::load_tenant(db, subdomain).await? else {
        return Ok(Outcome::Parked(format!(
            "tenant {subdomain} is not in the store"
        )));
    };
    if tenant.welcome_sent {
        return Ok(Outcome::Done);
    }
    let v = &tenant.record.values;
    let Some(to) = v.contact_email.clone() else {
        return Ok(Outcome::Parked(format!(
            "tenant {subdomain} has no contact email"
        )));
    };
    let m = mailer(ctx)?;
    let login = format!("https://{subdomain}.{}", ctx.app_domain);
    let mail = Mail {
        to,
        subject: format!("Your orchestra space {} is ready", v.orchestra_name),
        body: format!(
            "Hello,\n\nthe database for {} is ready. Sign in at:\n\n  {login}\n\nWelcome aboard!\n",
            v.orchestra_name
        ),
    };
    send(m, &mail).await?;
    store::record_email(db, subdomain, "welcome", &mail.to, &mail.subject).await?;
    store::mark_welcome_sent(db, subdomain).await?;
    Ok(Outcome::Done)
}

pub(super) async fn tell_admin_about_event(
    db: &Transaction<'_>,
    ctx: &WorkerContext,
    event_id: &str,
) -> Result<Outcome, JobError> {
    let Some((event, outcome)) = store::load_event_with_outcome(db, event_id).await? else {
        return Ok(Outcome::Parked(format!(
            "event {event_id} is not in the store"
        )));
    };
    let event_type = event.event_type;
    let object = event
        .payload
        .pointer("/data/object")
        .cloned()
        .unwrap_or(Value::Null);
    let field = |p: &str| {
        object
            .pointer(p)
            .map(|v| v.to_string())
            .unwrap_or_else(|| "-".into())
    };
    let m = mailer(ctx)?;
    let mail = Mail {
        to: m.admin.clone(),
        subject: format!("stagesub: tenant request needs attention ({event_id})"),
        body: format!(
            "A Stripe event could not be turned into a tenant.\n\nOutcome: {}\nEvent: {event_id} ({event_type})\n\
             Customer: {}\nCustomer email: {}\nCheckout session: {}\nMetadata: {}\n",
            outcome.as_deref().unwrap_or("-"),
            field("/customer"),
            object
                .pointer("/customer_details/email")
                .map_or_else(|| field("/customer_email"), |v| v.to_string()),
            field("/id"),
            field("/metadata"),
        ),
    };
    send(m, &mail).await?;
    if let Some(subdomain) = object
        .pointer("/metadata/subdomain")
        .and_then(Value::as_str)
    {
        store::record_email(db, subdomain, "admin_event", &mail.to, &mail.subject).await?;
    }
    Ok(Outcome::Done)
}

pub(super) async fn tell_admin_about_failure(
    db: &Transaction<'_>,
    ctx: &WorkerContext,
    report: &str,
) -> Result<Outcome, JobError> {
    let Ok(id) = report.parse::<i64>() else {
        return Ok(Outcome::Parked(format!("bad report id {report:?}")));
    };
    let Some((subdomain, detail)) = store::failure_report(db, id).await? else {
        return Ok(Outcome::Parked(format!(
            "failure report {id} is not in the store"
        )));
    };
    let tenant = store::load_tenant(db, &subdomain).await?;
    let m = mailer(ctx)?;
    let who = tenant.map_or_else(
        || "unknown tenant".to_owned(),
        |t| {
            format!(
                "Orchestra: {}\nContact: {}\nPlan: {}\nRegion: {}\nStripe customer: {}\nSubscription: {}",
                t.record.values.orchestra_name,
                t.record.values.contact_email.as_deref().unwrap_or("-"),
                t.record.values.plan.as_deref().unwrap_or("-"),
                t.record.values.region.as_deref().unwrap_or("-"),
                t.record.stripe_customer_id.as_deref().unwrap_or("-"),
                t.record.stripe_subscription_id.as_deref().unwrap_or("-"),
            )
        },
    );
    let mail = Mail {
        to: m.admin.clone(),
        subject: format!("stagesub: provisioning failed for {subdomain}"),
        body: format!(
            "CI reported that provisioning tenant {subdomain} failed.\n\n{who}\n\nWhat failed:\n{detail}\n"
        ),
    };
    send(m, &mail).await?;
    store::record_email(db, &subdomain, "admin_failure", &mail.to, &mail.subject).await?;
    Ok(Outcome::Done)
}

pub(super) async fn tell_admin_welcome_held(
    db: &Transaction<'_>,
    ctx: &WorkerContext,
    held: &str,
) -> Result<Outcome, JobError> {
    let Ok(id) = held.parse::<i64>() else {
        return Ok(Outcome::Parked(format!("bad held welcome id {held:?}")));
    };
    let Some((subdomain, seen)) = store::held_welcome(db, id).await? else {
        return Ok(Outcome::Parked(format!(
            "held welcome {id} is not in the store"
        )));
    };
    let m = mailer(ctx)?;
    let mail = Mail {
        to: m.admin.clone(),
        subject: format!("stagesub: welcome held for {subdomain} (directory says {seen})"),
        body: format!(
            "CI reported tenant {subdomain} ready, but the tenant directory says {seen:?} for it, \
             so the welcome email was not sent.\n\nCheck the tenant's Terraform apply and its \
             directory row; when the directory says \"ready\", call ready again (re-run CI's \
             notify step) and the welcome goes out once.\n"
        ),
    };
    send(m, &mail).await?;
    store::record_email(
        db,
        &subdomain,
        "admin_welcome_held",
        &mail.to,
        &mail.subject,
    )
    .await?;
    Ok(Outcome::Done)
}
