//! The admin's two notices about a publish job: it keeps failing (sent once, after
//! `PUBLISH_ALERT_AFTER`), and it was parked (once, when the retry window is over or its values
//! are invalid).

use tokio_postgres::Transaction;

use super::notices::{mailer, send};
use super::{JobError, Outcome, WorkerContext};
use crate::config::format_duration;
use crate::mail::Mail;
use crate::store::{self, JobKind};

pub(super) async fn tell_admin_about_publishing(
    db: &Transaction<'_>,
    ctx: &WorkerContext,
    kind: JobKind,
    job_id: &str,
) -> Result<Outcome, JobError> {
    let Ok(id) = job_id.parse::<i64>() else {
        return Ok(Outcome::Parked(format!("bad job id {job_id:?}")));
    };
    let Some(job) = store::job(db, id).await? else {
        return Ok(Outcome::Parked(format!("job {id} is not in the store")));
    };
    let subdomain = &job.subject;
    let tenant = store::load_tenant(db, subdomain).await?;
    let who = tenant.map_or_else(
        || "unknown tenant".to_owned(),
        |t| {
            format!(
                "Orchestra: {}\nContact: {}\nStripe customer: {}",
                t.record.values.orchestra_name,
                t.record.values.contact_email.as_deref().unwrap_or("-"),
                t.record.stripe_customer_id.as_deref().unwrap_or("-"),
            )
        },
    );
    let facts = format!(
        "Job: {id} (publish {subdomain})\nAttempts: {}\nFailing since: {}\nLast error: {}",
        job.attempts,
        job.failing_since.as_deref().unwrap_or("-"),
        job.last_error.as_deref().unwrap_or("-"),
    );
    let window = format_duration(ctx.retry.window);
    let (subject, text) = if kind == JobKind::AdminPublishParked {
        (
            format!("stagesub: publishing tenant {subdomain} was given up"),
            format!(
                "The tenant file of {subdomain} could not be published and its job is parked; \
                 the tenant is not provisioned.\n\n{facts}\n\n{who}\n\n\
                 After fixing the cause, queue it again: stagesub-bridge jobs retry {id}\n"
            ),
        )
    } else {
        (
            format!("stagesub: publishing tenant {subdomain} keeps failing"),
            format!(
                "The tenant file of {subdomain} cannot be published to the infra repository. The \
                 bridge keeps retrying for {window} from the first failure, then parks the job.\n\
                 Check the remote (GIT_REMOTE_URL, or GITHUB_REPOSITORY and its credentials).\n\n\
                 {facts}\n\n{who}\n"
            ),
        )
    };
    let m = mailer(ctx)?;
    let mail = Mail {
        to: m.admin.clone(),
        subject,
        body: text,
    };
    send(m, &mail).await?;
    store::record_email(db, subdomain, kind.as_str(), &mail.to, &mail.subject).await?;
    Ok(Outcome::Done)
}
