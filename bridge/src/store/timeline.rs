//! What the console shows about tenants: the list (with filters), pending provisions against the SLA,
//! and one tenant's timeline gathered from every table that knows about it. Also records the emails
//! the worker sends, which nothing kept before.

use tokio_postgres::GenericClient;

/// UTC, ISO 8601, to the second.
const ISO: &str = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

/// Records an email sent about `subdomain` (`welcome`, `admin_failure`, ...).
pub async fn record_email(
    db: &impl GenericClient,
    subdomain: &str,
    kind: &str,
    recipient: &str,
    subject: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "INSERT INTO sent_emails (subdomain, kind, recipient, subject) VALUES ($1, $2, $3, $4)",
        &[&subdomain, &kind, &recipient, &subject],
    )
    .await?;
    Ok(())
}

/// One tenant as the console lists it. Times are UTC, ISO 8601; durations in seconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TenantRow {
    /// The subdomain.
    pub subdomain: String,
    /// The orchestra's name (customer text: escape it).
    pub orchestra_name: String,
    /// `publishing`, `published`, `ready`, `failed`.
    pub state: String,
    /// Archived by its subscription.
    pub archived: bool,
    /// Plan label.
    pub plan: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Contact email.
    pub contact_email: Option<String>,
    /// The owner: customer id, else the guest's email.
    pub owner: String,
    /// When the tenant was first recorded.
    pub created_at: String,
    /// Seconds since then.
    pub age_secs: i64,
    /// The last Stripe event that changed it, and when it was received.
    pub last_event: Option<String>,
    /// When that event was received.
    pub last_event_at: Option<String>,
    /// Seconds from first record to ready, once ready.
    pub time_to_ready_secs: Option<i64>,
    /// True when not ready, not archived and older than the SLA.
    pub past_sla: bool,
    /// The adopted database, if the admin marked it manually provisioned.
    pub import_id: Option<String>,
}

/// Which tenants to list.
#[derive(Debug, Clone, Default)]
pub struct TenantQuery {
    /// A state name, `pending` (not ready, not archived) or `archived`; `None`: all.
    pub state: Option<String>,
    /// Text searched in subdomain, name, contact email, owner and Stripe ids (case-insensitive).
    pub search: Option<String>,
    /// Only pending ones, past-SLA first (the pending page).
    pub pending_only: bool,
    /// Exactly this subdomain.
    pub subdomain: Option<String>,
}

const TENANT_COLUMNS: &str = "t.subdomain, t.orchestra_name, t.state, t.archived, t.plan, t.region,
    t.contact_email, coalesce(t.owner_customer_id, 'guest ' || coalesce(t.owner_email, '-')),
    to_char(t.created_at AT TIME ZONE 'UTC', ISOFMT),
    extract(epoch from now() - t.created_at)::bigint,
    e.id || ' (' || e.type || ')', to_char(e.received_at AT TIME ZONE 'UTC', ISOFMT),
    extract(epoch from t.ready_at - t.created_at)::bigint,
    (t.state <> 'ready' AND NOT t.archived AND t.created_at < now() - make_interval(secs => $1::bigint)),
    t.import_id";

/// Tenants matching `query` (at most 500), newest first; pending-only lists past-SLA first, then
/// oldest first. `sla_secs` is `PROVISION_SLA`.
pub async fn list_tenants(
    db: &impl GenericClient,
    query: &TenantQuery,
    sla_secs: i64,
) -> Result<Vec<TenantRow>, tokio_postgres::Error> {
    let pending = "t.state <> 'ready' AND NOT t.archived";
    let order = if query.pending_only {
        "14 DESC, t.created_at ASC"
    } else {
        "t.created_at DESC"
    };
    let sql = format!(
        "SELECT {} FROM tenants t LEFT JOIN events e ON e.id = t.source_event_id
         WHERE ($2::text IS NULL
                OR ($2 = 'pending' AND {pending}) OR ($2 = 'archived' AND t.archived)
                OR t.state = $2)
           AND ($3::bool = false OR {pending})
           AND ($4::text IS NULL OR strpos(lower(concat_ws(' ', t.subdomain, t.orchestra_name,
                t.contact_email, t.owner_customer_id, t.owner_email, t.stripe_customer_id,
                t.stripe_subscription_id)), lower($4)) > 0)
           AND ($5::text IS NULL OR t.subdomain = $5)
         ORDER BY {order} LIMIT 500",
        TENANT_COLUMNS.replace("ISOFMT", ISO)
    );
    if query.subdomain.as_deref().is_some_and(|s| s.contains('\0')) {
        return Ok(Vec::new()); // no tenant can have it (and Postgres could not compare it)
    }
    let search = query
        .search
        .as_deref()
        .map(|s| s.trim().replace('\0', ""))
        .filter(|s| !s.is_empty());
    let rows = db
        .query(
            &sql,
            &[
                &sla_secs,
                &query.state,
                &query.pending_only,
                &search,
                &query.subdomain,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| TenantRow {
            subdomain: r.get(0),
            orchestra_name: r.get(1),
            state: r.get(2),
            archived: r.get(3),
            plan: r.get(4),
            region: r.get(5),
            contact_email: r.get(6),
            owner: r.get(7),
            created_at: r.get(8),
            age_secs: r.get(9),
            last_event: r.get(10),
            last_event_at: r.get(11),
            time_to_ready_secs: r.get(12),
            past_sla: r.get(13),
            import_id: r.get(14),
        })
        .collect())
}

/// One entry of a tenant's timeline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TimelineEntry {
    /// When (UTC, ISO 8601).
    pub at: String,
    /// Seconds since the epoch, for ordering.
    #[serde(skip)]
    pub epoch: f64,
    /// `stripe`, `commit`, `ci`, `email`, `console`, `owner`.
    pub kind: String,
    /// One line saying what happened.
    pub title: String,
    /// More text (a CI report's body, an event's outcome); customer and CI text: escape it.
    pub detail: Option<String>,
    /// A link (a pull request).
    pub link: Option<String>,
}

fn entry(r: &tokio_postgres::Row, kind: &str) -> TimelineEntry {
    TimelineEntry {
        at: r.get(0),
        epoch: r.get(1),
        kind: kind.to_owned(),
        title: r.get(2),
        detail: r.get(3),
        link: r.get(4),
    }
}

/// Everything known about `subdomain`, oldest first: Stripe events (by metadata, by the events that
/// set its values or owner, by its subscription), commits and pull requests, CI reports (ready,
/// failed with the report's text, welcomes held), emails sent, owner links and console actions.
pub async fn timeline(
    db: &impl GenericClient,
    subdomain: &str,
) -> Result<Vec<TimelineEntry>, tokio_postgres::Error> {
    let at = |col: &str| {
        format!("to_char({col} AT TIME ZONE 'UTC', {ISO}), extract(epoch from {col})::float8")
    };
    let queries: [(&str, String); 8] = [
        (
            "stripe",
            format!(
                "SELECT {}, 'Stripe ' || e.type || ' ' || e.id, 'outcome: ' || coalesce(e.outcome, 'not handled yet'), NULL::text
                 FROM events e, tenants t WHERE t.subdomain = $1 AND (
                   e.payload #>> '{{data,object,metadata,subdomain}}' = $1
                   OR e.id = t.source_event_id OR e.id = t.owner_event_id
                   OR (t.stripe_subscription_id IS NOT NULL AND (
                        e.payload #>> '{{data,object,subscription}}' = t.stripe_subscription_id
                        OR (e.type LIKE 'customer.subscription.%'
                            AND e.payload #>> '{{data,object,id}}' = t.stripe_subscription_id))))",
                at("e.received_at")
            ),
        ),
        (
            "commit",
            format!(
                "SELECT {}, 'Committed ' || commit_sha, 'file sha256 ' || file_sha256, pull_request_url
                 FROM tenant_commits WHERE subdomain = $1",
                at("published_at")
            ),
        ),
        (
            "ci",
            format!(
                "SELECT {}, 'CI reported failure', detail, NULL::text FROM failure_reports WHERE subdomain = $1",
                at("received_at")
            ),
        ),
        (
            "ci",
            format!(
                "SELECT {}, 'CI reported ready', NULL::text, NULL::text FROM tenants
                 WHERE subdomain = $1 AND ready_at IS NOT NULL",
                at("ready_at")
            ),
        ),
        (
            "ci",
            format!(
                "SELECT {}, 'Welcome held: the directory says ' || directory_status, NULL::text, NULL::text
                 FROM held_welcomes WHERE subdomain = $1",
                at("created_at")
            ),
        ),
        (
            "email",
            format!(
                "SELECT {}, 'Email (' || kind || ') to ' || recipient, subject, NULL::text
                 FROM sent_emails WHERE subdomain = $1",
                at("sent_at")
            ),
        ),
        (
            "owner",
            format!(
                "SELECT {}, 'Linked to customer ' || customer_id || ' by ' || linked_by,
                        'previous owner: ' || coalesce(previous_customer_id, previous_email, '-'), NULL::text
                 FROM owner_links WHERE subdomain = $1",
                at("linked_at")
            ),
        ),
        (
            "console",
            format!(
                "SELECT {}, 'Console: ' || action || ' by ' || actor || ' (' || outcome || ')',
                        nullif(details, ''), NULL::text
                 FROM console_audit WHERE target = $1",
                at("at")
            ),
        ),
    ];
    let mut entries = Vec::new();
    for (kind, sql) in &queries {
        for r in db.query(sql.as_str(), &[&subdomain]).await? {
            entries.push(entry(&r, kind));
        }
    }
    entries.sort_by(|a, b| a.epoch.total_cmp(&b.epoch));
    Ok(entries)
}

/// A request held because the subdomain belongs to someone else.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HeldRequest {
    /// The held event.
    pub event_id: String,
    /// Its type.
    pub event_type: String,
    /// The recorded outcome, naming owner and requester.
    pub outcome: String,
}

/// Requests for `subdomain` that are held (not yet released or assigned).
pub async fn held_requests(
    db: &impl GenericClient,
    subdomain: &str,
) -> Result<Vec<HeldRequest>, tokio_postgres::Error> {
    let prefix = format!("held: subdomain {subdomain} belongs to ");
    let rows = db
        .query(
            "SELECT id, type, outcome FROM events WHERE starts_with(outcome, $1) ORDER BY received_at",
            &[&prefix],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| HeldRequest {
            event_id: r.get(0),
            event_type: r.get(1),
            outcome: r.get(2),
        })
        .collect())
}
