//! The grace period's jobs: the archive commit when a period ends, the customer's and the admin's
//! notices (period started, archive made), and the welcome back of a returning customer.
//!
//! The archive job runs under the job's row lock and the tenant's lock, and closes the period in the
//! transaction that publishes the archived file: with several replicas, and across restarts, one
//! archive commit and one set of notices is made per period.

use tokio_postgres::Transaction;

use super::notices::{mailer, send};
use super::{JobError, Outcome, WorkerContext, publish};
use crate::mail::Mail;
use crate::store::{self, JobKind, grace};

/// Makes the archive commit of `subdomain` when its grace period is over and still open.
pub(super) async fn archive(
    db: &Transaction<'_>,
    ctx: &WorkerContext,
    subdomain: &str,
) -> Result<Outcome, JobError> {
    store::lock_tenant(db, subdomain).await?;
    let Some(period) = grace::open_schedule(db, subdomain).await? else {
        // Renewed (cancelled) or archived already: nothing to do.
        return Ok(Outcome::Done);
    };
    if !period.due {
        // A later period than the one this job was queued for: that one has its own job.
        return Ok(Outcome::Done);
    }
    let Some(tenant) = store::load_tenant(db, subdomain).await? else {
        return Ok(Outcome::Parked(format!(
            "tenant {subdomain} is not in the store"
        )));
    };
    if tenant.record.archived {
        // Archived by other means meanwhile: close the period without a second commit.
        grace::mark_archived(db, period.id, subdomain, false).await?;
        return Ok(Outcome::Done);
    }
    store::set_archived(db, subdomain, true, &period.event_id).await?;
    // Published here, in this transaction: the period is closed only with the commit made (a
    // failing remote retries this job, as it would a publish job).
    if let Outcome::Parked(reason) = publish::publish_tenant(db, ctx, subdomain).await? {
        return Ok(Outcome::Parked(reason));
    }
    tracing::info!(
        subdomain,
        period = period.id,
        "grace period over: archive commit made"
    );
    grace::mark_archived(db, period.id, subdomain, true).await?;
    Ok(Outcome::Done)
}

/// Who a notice is for: `<archive_schedules id>/customer` or `/admin`.
fn notice_subject(subject: &str) -> Option<(i64, bool)> {
    let (id, who) = subject.split_once('/')?;
    let to_admin = match who {
        "admin" => true,
        "customer" => false,
        _ => return None,
    };
    Some((id.parse().ok()?, to_admin))
}

/// Tells the customer or the admin that a grace period started ([`JobKind::GraceNotice`]) or that
/// its archive commit was made ([`JobKind::ArchiveNotice`]). A notice whose moment passed (the period
/// was renewed before it could be sent) is dropped.
pub(super) async fn notice(
    db: &Transaction<'_>,
    ctx: &WorkerContext,
    kind: JobKind,
    subject: &str,
) -> Result<Outcome, JobError> {
    let Some((id, to_admin)) = notice_subject(subject) else {
        return Ok(Outcome::Parked(format!("bad notice subject {subject:?}")));
    };
    let Some(period) = grace::schedule_notice(db, id).await? else {
        return Ok(Outcome::Parked(format!(
            "grace period {id} is not in the store"
        )));
    };
    let started = kind == JobKind::GraceNotice;
    let wanted = if started { "scheduled" } else { "archived" };
    if period.state != wanted {
        tracing::info!(subdomain = %period.subdomain, period = id, state = %period.state, %kind, "notice no longer applies; not sent");
        return Ok(Outcome::Done);
    }
    let Some(tenant) = store::load_tenant(db, &period.subdomain).await? else {
        return Ok(Outcome::Parked(format!(
            "tenant {} is not in the store",
            period.subdomain
        )));
    };
    let v = &tenant.record.values;
    let (name, sub) = (&v.orchestra_name, &period.subdomain);
    let m = mailer(ctx)?;
    let mail = if to_admin {
        let facts = format!(
            "Tenant: {sub}\nOrchestra: {name}\nContact: {}\nStripe customer: {}\nSubscription: {}\n\
             Stripe event: {}\nGrace period ends: {} ({})\n",
            v.contact_email.as_deref().unwrap_or("-"),
            tenant.record.stripe_customer_id.as_deref().unwrap_or("-"),
            period.subscription.as_deref().unwrap_or("-"),
            period.event_id,
            period.due_iso,
            period.due_text,
        );
        if started {
            Mail {
                to: m.admin.clone(),
                subject: format!(
                    "stagesub: grace period started for {sub} (archive due {})",
                    period.due_iso
                ),
                body: format!(
                    "The subscription of tenant {sub} ended. Its archive commit is scheduled for \
                     {} unless the customer renews or checks out again before then \
                     (`stagesub-bridge jobs list` shows it).\n\n{facts}",
                    period.due_iso
                ),
            }
        } else {
            Mail {
                to: m.admin.clone(),
                subject: format!("stagesub: archive commit made for {sub}"),
                body: format!(
                    "The grace period of tenant {sub} is over; the archive commit was made.\n\n\
                     {facts}Commit: {}\n",
                    period.commit.as_deref().unwrap_or("-")
                ),
            }
        }
    } else {
        let Some(to) = v.contact_email.clone() else {
            return Ok(Outcome::Parked(format!(
                "tenant {sub} has no contact email"
            )));
        };
        if started {
            Mail {
                to,
                subject: format!(
                    "Your orchestra space {name} will be archived on {}",
                    period.due_iso
                ),
                body: format!(
                    "Hello,\n\nthe subscription for {name} ({sub}) has ended. Your space stays \
                     available until\n\n  {} ({})\n\nThen its database is archived: your data is \
                     kept, and it comes back when you subscribe again. To keep it running, renew \
                     your subscription before that date.\n",
                    period.due_text, period.due_iso
                ),
            }
        } else {
            Mail {
                to,
                subject: format!("Your orchestra space {name} has been archived"),
                body: format!(
                    "Hello,\n\nthe grace period for {name} ({sub}) ended on {} ({}), so its \
                     database has been archived. Your data is kept: subscribe again and it is \
                     restored.\n",
                    period.due_text, period.due_iso
                ),
            }
        }
    };
    send(m, &mail).await?;
    Ok(Outcome::Done)
}

/// Welcomes a returning customer back, once, after CI reported the restored database ready.
pub(super) async fn welcome_back(
    db: &Transaction<'_>,
    ctx: &WorkerContext,
    subdomain: &str,
) -> Result<Outcome, JobError> {
    store::lock_tenant(db, subdomain).await?;
    if !grace::is_returning(db, subdomain).await? {
        return Ok(Outcome::Done); // sent already
    }
    let Some(tenant) = store::load_tenant(db, subdomain).await? else {
        return Ok(Outcome::Parked(format!(
            "tenant {subdomain} is not in the store"
        )));
    };
    if !tenant.welcome_sent {
        // Never welcomed (archived before it was ever ready): the first welcome says it all.
        grace::mark_welcome_back_sent(db, subdomain).await?;
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
        subject: format!("Welcome back: {} is ready again", v.orchestra_name),
        body: format!(
            "Hello,\n\ngood to have you back! The database for {} has been restored with your \
             data. Sign in at:\n\n  {login}\n",
            v.orchestra_name
        ),
    };
    send(m, &mail).await?;
    grace::mark_welcome_back_sent(db, subdomain).await?;
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    use super::notice_subject;

    #[test]
    fn notice_subjects() {
        assert_eq!(notice_subject("12/admin"), Some((12, true)));
        assert_eq!(notice_subject("7/customer"), Some((7, false)));
        for bad in ["12", "x/admin", "12/someone", "/admin"] {
            assert_eq!(notice_subject(bad), None, "{bad}");
        }
    }
}
