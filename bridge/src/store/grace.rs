//! Grace periods (`archive_schedules`, migration 5): opened when a tenant's subscription ends, closed
//! by a renewal or by the archive commit, and the returning customer's welcome back.
//!
//! Callers hold the tenant's lock (`lock_tenant`). The archive is a job (`archive`, subject: the
//! subdomain) due at the end of the period; cancelling marks it done only when no worker holds it
//! (`SKIP LOCKED`, so an event handler never waits for a running archive), and the archive handler
//! re-reads the schedule under the tenant lock, so a cancelled period is never archived.

use std::time::Duration;

use tokio_postgres::GenericClient;

use super::{JobKind, TenantState};

/// An open grace period, as the archive job reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSchedule {
    /// `archive_schedules.id`.
    pub id: i64,
    /// The event that started it (named in the archive commit).
    pub event_id: String,
    /// Its end is reached.
    pub due: bool,
}

/// A grace period as the notices tell it. Times are UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleNotice {
    /// The tenant.
    pub subdomain: String,
    /// `scheduled`, `cancelled` or `archived`.
    pub state: String,
    /// End of the grace period, ISO 8601 (`2026-12-31T14:05:00Z`).
    pub due_iso: String,
    /// The same, for people (`Thursday, 31 December 2026 at 14:05 UTC`).
    pub due_text: String,
    /// The subscription whose end started it.
    pub subscription: Option<String>,
    /// The event that started it.
    pub event_id: String,
    /// The commit of the tenant file last published (the archive commit once archived).
    pub commit: Option<String>,
}

const DUE_ISO: &str = "YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"";
const DUE_TEXT: &str = "FMDay, FMDD FMMonth YYYY \"at\" HH24:MI \"UTC\"";

/// Opens a grace period for `subdomain` ending `grace` after `ended_at` (the subscription's end, unix
/// seconds; a time in the future, i.e. clock skew, counts as now), with its archive job and the two notices (customer, admin). Returns the period's id and
/// its end (ISO 8601), or `None` when one is already open (it is kept: repeated and late events never
/// move the deadline or send the notices again).
pub async fn schedule(
    db: &impl GenericClient,
    subdomain: &str,
    subscription: Option<&str>,
    event_id: &str,
    ended_at: i64,
    grace: Duration,
) -> Result<Option<(i64, String)>, tokio_postgres::Error> {
    let millis = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
    let sql = format!(
        "INSERT INTO archive_schedules (subdomain, subscription, event_id, ended_at, due_at, state)
         VALUES ($1, $2, $3, $4::bigint, least(to_timestamp($4::bigint), now()) + make_interval(secs => $5::bigint / 1000.0),
                 'scheduled')
         ON CONFLICT (subdomain) WHERE state = 'scheduled' DO NOTHING
         RETURNING id, due_at, to_char(due_at AT TIME ZONE 'UTC', '{DUE_ISO}')"
    );
    let Some(row) = db
        .query_opt(
            &sql,
            &[&subdomain, &subscription, &event_id, &ended_at, &millis],
        )
        .await?
    else {
        return Ok(None);
    };
    let id: i64 = row.get(0);
    // Due at the end, but never before now: a period that ended while the bridge was away is
    // archived after its notice was queued, not before.
    db.execute(
        "INSERT INTO jobs (kind, subject, run_at)
         SELECT $1, $2, greatest(due_at, now()) FROM archive_schedules WHERE id = $3",
        &[&JobKind::Archive.as_str(), &subdomain, &id],
    )
    .await?;
    for who in ["customer", "admin"] {
        super::enqueue(db, JobKind::GraceNotice, &format!("{id}/{who}")).await?;
    }
    Ok(Some((id, row.get(2))))
}

/// Closes the open grace period of `subdomain`, if any (`by`: the event that renewed it). Its
/// archive job is marked done unless a worker holds it right now (that worker then finds the
/// period closed). True when a period was open.
pub async fn cancel(
    db: &impl GenericClient,
    subdomain: &str,
    by: &str,
) -> Result<bool, tokio_postgres::Error> {
    let closed = db
        .execute(
            "UPDATE archive_schedules SET state = 'cancelled', closed_by = $2, closed_at = now()
             WHERE subdomain = $1 AND state = 'scheduled'",
            &[&subdomain, &by],
        )
        .await?;
    if closed == 0 {
        return Ok(false);
    }
    db.execute(
        "UPDATE jobs SET done_at = now(), last_error = $3
         WHERE id IN (SELECT id FROM jobs WHERE kind = $1 AND subject = $2 AND done_at IS NULL
                      FOR UPDATE SKIP LOCKED)",
        &[
            &JobKind::Archive.as_str(),
            &subdomain,
            &format!("cancelled: the subscription was renewed ({by})"),
        ],
    )
    .await?;
    Ok(true)
}

/// The open grace period of `subdomain`, if any.
pub async fn open_schedule(
    db: &impl GenericClient,
    subdomain: &str,
) -> Result<Option<OpenSchedule>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT id, event_id, due_at <= now() FROM archive_schedules
             WHERE subdomain = $1 AND state = 'scheduled'",
            &[&subdomain],
        )
        .await?;
    Ok(row.map(|r| OpenSchedule {
        id: r.get(0),
        event_id: r.get(1),
        due: r.get(2),
    }))
}

/// Closes a grace period with the archive commit, records when the tenant was archived and, with
/// `notify`, queues the two notices (customer, admin).
pub async fn mark_archived(
    db: &impl GenericClient,
    id: i64,
    subdomain: &str,
    notify: bool,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE archive_schedules SET state = 'archived', closed_by = 'archive commit',
                closed_at = now()
         WHERE id = $1",
        &[&id],
    )
    .await?;
    db.execute(
        "UPDATE tenants SET archived_at = now(), updated_at = now() WHERE subdomain = $1",
        &[&subdomain],
    )
    .await?;
    if notify {
        for who in ["customer", "admin"] {
            super::enqueue(db, JobKind::ArchiveNotice, &format!("{id}/{who}")).await?;
        }
    }
    Ok(())
}

/// A grace period, for its notices.
pub async fn schedule_notice(
    db: &impl GenericClient,
    id: i64,
) -> Result<Option<ScheduleNotice>, tokio_postgres::Error> {
    let sql = format!(
        "SELECT s.subdomain, s.state, to_char(s.due_at AT TIME ZONE 'UTC', '{DUE_ISO}'),
                to_char(s.due_at AT TIME ZONE 'UTC', '{DUE_TEXT}'), s.subscription, s.event_id,
                t.published_commit
         FROM archive_schedules s LEFT JOIN tenants t ON t.subdomain = s.subdomain
         WHERE s.id = $1"
    );
    let row = db.query_opt(&sql, &[&id]).await?;
    Ok(row.map(|r| ScheduleNotice {
        subdomain: r.get(0),
        state: r.get(1),
        due_iso: r.get(2),
        due_text: r.get(3),
        subscription: r.get(4),
        event_id: r.get(5),
        commit: r.get(6),
    }))
}

/// Records that an archived tenant is being restored for its returning owner: the tenant waits for
/// CI's `ready` again, which then sends the welcome back (not the first welcome).
pub async fn mark_returning(
    db: &impl GenericClient,
    subdomain: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE tenants SET returning_since = now(), state = $2, updated_at = now()
         WHERE subdomain = $1",
        &[&subdomain, &TenantState::Publishing],
    )
    .await?;
    Ok(())
}

/// Called with CI's `ready`: queues the welcome back when the tenant is returning and its restored
/// file has been published since (a `ready` for the earlier archive apply does not count). The job
/// sends it once.
pub async fn queue_welcome_back(
    db: &impl GenericClient,
    subdomain: &str,
) -> Result<bool, tokio_postgres::Error> {
    let n = db
        .execute(
            "INSERT INTO jobs (kind, subject)
             SELECT $1, subdomain FROM tenants
             WHERE subdomain = $2 AND returning_since IS NOT NULL AND NOT archived
               AND published_at >= returning_since",
            &[&JobKind::WelcomeBack.as_str(), &subdomain],
        )
        .await?;
    Ok(n == 1)
}

/// Whether the tenant still waits for its welcome back.
pub async fn is_returning(
    db: &impl GenericClient,
    subdomain: &str,
) -> Result<bool, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT returning_since IS NOT NULL FROM tenants WHERE subdomain = $1",
            &[&subdomain],
        )
        .await?;
    Ok(row.is_some_and(|r| r.get(0)))
}

/// Records that the welcome back went out.
pub async fn mark_welcome_back_sent(
    db: &impl GenericClient,
    subdomain: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE tenants SET returning_since = NULL, welcome_back_sent_at = now() WHERE subdomain = $1",
        &[&subdomain],
    )
    .await?;
    Ok(())
}

/// Moves the tenant to another subscription of its owner (a live one that renewed or restored it),
/// so that the end of the replaced one no longer concerns it.
pub async fn adopt_subscription(
    db: &impl GenericClient,
    subdomain: &str,
    subscription: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE tenants SET stripe_subscription_id = $2, updated_at = now() WHERE subdomain = $1",
        &[&subdomain, &subscription],
    )
    .await?;
    Ok(())
}
