//! The console's own records: server-side sessions, password login attempts (for the rate limit) and
//! the audit of every console action.

use tokio_postgres::GenericClient;

/// A console session as stored (the cookie's token is kept only as its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// Who is signed in.
    pub username: String,
    /// `password` or `proxy`.
    pub auth: String,
    /// The token every form of this session must send back.
    pub csrf_token: String,
}

/// Stores a new session valid for `lifetime_secs`.
pub async fn create_session(
    db: &impl GenericClient,
    token_sha256: &str,
    session: &ConsoleSession,
    lifetime_secs: i64,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "INSERT INTO console_sessions (token_sha256, username, auth, csrf_token, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::bigint))",
        &[
            &token_sha256,
            &session.username,
            &session.auth,
            &session.csrf_token,
            &lifetime_secs,
        ],
    )
    .await?;
    // Expired sessions are of no use to anyone.
    db.execute("DELETE FROM console_sessions WHERE expires_at < now()", &[])
        .await?;
    Ok(())
}

/// The unexpired session with this token hash.
pub async fn load_session(
    db: &impl GenericClient,
    token_sha256: &str,
) -> Result<Option<ConsoleSession>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT username, auth, csrf_token FROM console_sessions
             WHERE token_sha256 = $1 AND expires_at > now()",
            &[&token_sha256],
        )
        .await?;
    Ok(row.map(|r| ConsoleSession {
        username: r.get(0),
        auth: r.get(1),
        csrf_token: r.get(2),
    }))
}

/// Ends a session.
pub async fn delete_session(
    db: &impl GenericClient,
    token_sha256: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "DELETE FROM console_sessions WHERE token_sha256 = $1",
        &[&token_sha256],
    )
    .await?;
    Ok(())
}

/// Failed password logins for `username` from `ip` within the last `window_secs`.
pub async fn recent_login_failures(
    db: &impl GenericClient,
    username: &str,
    ip: &str,
    window_secs: i64,
) -> Result<i64, tokio_postgres::Error> {
    let row = db
        .query_one(
            "SELECT count(*) FROM console_login_attempts
             WHERE username = $1 AND ip = $2 AND NOT succeeded
               AND at > now() - make_interval(secs => $3::bigint)",
            &[&username, &ip, &window_secs],
        )
        .await?;
    Ok(row.get(0))
}

/// Records a password login attempt; a success clears the failures of that user and address.
pub async fn record_login_attempt(
    db: &impl GenericClient,
    username: &str,
    ip: &str,
    succeeded: bool,
) -> Result<(), tokio_postgres::Error> {
    if succeeded {
        db.execute(
            "DELETE FROM console_login_attempts WHERE username = $1 AND ip = $2",
            &[&username, &ip],
        )
        .await?;
    }
    db.execute(
        "INSERT INTO console_login_attempts (username, ip, succeeded) VALUES ($1, $2, $3)",
        &[&username, &ip, &succeeded],
    )
    .await?;
    db.execute(
        "DELETE FROM console_login_attempts WHERE at < now() - interval '1 day'",
        &[],
    )
    .await?;
    Ok(())
}

/// One audit entry. Times are UTC, ISO 8601.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// When.
    pub at: String,
    /// Who (the console user).
    pub actor: String,
    /// What, e.g. `login`, `retry_publish`, `mark_manual`.
    pub action: String,
    /// On what (usually a subdomain).
    pub target: Option<String>,
    /// The values the action was given.
    pub details: String,
    /// `ok`, or what went wrong.
    pub outcome: String,
}

fn clean(s: &str) -> String {
    s.replace('\0', "\u{fffd}")
}

/// Writes an audit entry.
pub async fn audit(
    db: &impl GenericClient,
    actor: &str,
    action: &str,
    target: Option<&str>,
    details: &str,
    outcome: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "INSERT INTO console_audit (actor, action, target, details, outcome) VALUES ($1, $2, $3, $4, $5)",
        &[
            &clean(actor),
            &action,
            &target.map(clean),
            &clean(details),
            &clean(outcome),
        ],
    )
    .await?;
    Ok(())
}

/// Audit entries, newest first: about `target` when given, else all; at most `limit`.
pub async fn audit_entries(
    db: &impl GenericClient,
    target: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditEntry>, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), actor, action,
                    target, details, outcome
             FROM console_audit WHERE ($1::text IS NULL OR target = $1)
             ORDER BY at DESC, id DESC LIMIT $2",
            &[&target, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AuditEntry {
            at: r.get(0),
            actor: r.get(1),
            action: r.get(2),
            target: r.get(3),
            details: r.get(4),
            outcome: r.get(5),
        })
        .collect())
}
