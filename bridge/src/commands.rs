//! What the `render`, `jobs` and `tenants` commands do (the command line itself is parsed in
//! `main.rs`).

use std::fmt::Write as _;

use crate::config::database_from_env;
use crate::error::{Error, Result};
use crate::render::render_tenant;
use crate::store::{self, JobFilter, JobRow, JobState, Store};
use crate::tenant::{Tenant, TenantRecord};

/// The tenant file for `record`, after checking its values as a webhook would.
pub fn render(record: &TenantRecord, module_source: &str) -> Result<String> {
    record
        .values
        .validate()
        .map_err(|e| Error::BadRequest(e.to_string()))?;
    Ok(render_tenant(record, module_source))
}

/// The tenant file for `record` with an `import {}` block adopting database `import_id` (checked).
pub fn render_adopting(
    record: &TenantRecord,
    module_source: &str,
    import_id: &str,
) -> Result<String> {
    let id =
        crate::adopt::check_import_id(import_id).map_err(|e| Error::BadRequest(e.to_string()))?;
    render(record, module_source)?;
    Ok(crate::adopt::render_tenant_file(
        record,
        module_source,
        Some(&id),
    ))
}

/// A tenant record from the `render` flags.
pub fn record_from_values(
    values: Tenant,
    archived: bool,
    customer_id: Option<String>,
    subscription_id: Option<String>,
) -> TenantRecord {
    TenantRecord {
        values,
        archived,
        stripe_customer_id: customer_id,
        stripe_subscription_id: subscription_id,
        source_event_id: None,
        checkout_session_id: None,
    }
}

/// The store named by `DATABASE_URL` (and `DATABASE_CA_CERT`), schema up to date.
pub async fn open_store() -> Result<Store> {
    let (url, ca) = database_from_env()?;
    let store = Store::connect_with_ca(url.expose(), ca.as_deref(), 2)?;
    store.migrate().await?;
    Ok(store)
}

/// `jobs list`: a table of jobs.
pub async fn jobs_list(store: &Store, filter: JobFilter, limit: i64) -> Result<String> {
    let client = store.client().await?;
    let rows = store::list_jobs(&**client, filter, limit).await?;
    Ok(table(&rows))
}

/// `jobs retry <id>`: makes a pending or parked job due now, with a fresh retry window.
pub async fn jobs_retry(store: &Store, id: i64) -> Result<String> {
    let client = store.client().await?;
    match store::requeue_job(&**client, id).await? {
        None => Err(Error::NotFound(format!("there is no job {id}"))),
        Some(job) if job.state == JobState::Done => Err(Error::Conflict(format!(
            "job {id} ({} {}) is done; there is nothing to retry",
            job.kind, job.subject
        ))),
        Some(job) => Ok(format!(
            "re-queued job {id} ({} {})\n",
            job.kind, job.subject
        )),
    }
}

/// `jobs retry --parked`: makes every parked job due now.
pub async fn jobs_retry_parked(store: &Store) -> Result<String> {
    let client = store.client().await?;
    let rows = store::requeue_parked_jobs(&**client).await?;
    let mut out = format!("re-queued {} parked job(s)\n", rows.len());
    if !rows.is_empty() {
        out.push_str(&table(&rows));
    }
    Ok(out)
}

/// `tenants link-owner`: links the guest tenant `subdomain` to Stripe customer `customer_id` (see
/// [`store::link_owner`]); its file is republished by a running bridge.
pub async fn tenants_link_owner(
    store: &Store,
    subdomain: &str,
    customer_id: &str,
    linked_by: &str,
) -> Result<String> {
    Ok(
        match store::link_owner(store, subdomain, customer_id, linked_by).await? {
            store::LinkOutcome::Linked { previous } => format!(
                "linked tenant {subdomain} to customer {customer_id} (was {previous}); its file is \
                 republished with the customer id\n"
            ),
            store::LinkOutcome::AlreadyLinked => {
                format!("tenant {subdomain} already belongs to customer {customer_id}\n")
            }
        },
    )
}

/// Rows as aligned columns; every cell on one line.
fn table(rows: &[JobRow]) -> String {
    let mut lines = vec![[
        "ID".to_owned(),
        "KIND".to_owned(),
        "SUBJECT".to_owned(),
        "STATE".to_owned(),
        "ATTEMPTS".to_owned(),
        "NEXT RUN".to_owned(),
        "FAILING SINCE".to_owned(),
        "LAST ERROR".to_owned(),
    ]];
    for r in rows {
        lines.push([
            r.id.to_string(),
            r.kind.clone(),
            r.subject.clone(),
            r.state.to_string(),
            r.attempts.to_string(),
            if r.state == JobState::Pending {
                r.run_at.clone()
            } else {
                "-".into()
            },
            r.failing_since.clone().unwrap_or_else(|| "-".into()),
            r.last_error.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    for line in &mut lines {
        for cell in line.iter_mut() {
            *cell = crate::logging::one_line(cell, false).trim_end().to_owned();
        }
    }
    let widths: Vec<usize> = (0..7)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in &lines {
        for (i, cell) in line.iter().enumerate() {
            if i < 7 {
                let _ = write!(out, "{cell:<w$}  ", w = widths[i]);
            } else {
                out.push_str(cell);
            }
        }
        out.push('\n');
    }
    out
}

/// `console hash-password`: reads a password from stdin (on a terminal: asked twice, echo off) and
/// returns its argon2id hash, for `CONSOLE_USERS`.
pub fn console_hash_password() -> Result<String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let read = |prompt: &str| -> Result<String> {
        if tty {
            eprint!("{prompt}");
        }
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::BadRequest(format!("cannot read the password: {e}")))?;
        if tty {
            eprintln!();
        }
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    };
    // Echo off while typing (stty acts on the terminal on stdin).
    let echo = |on: bool| {
        if tty {
            let _ = std::process::Command::new("stty")
                .arg(if on { "echo" } else { "-echo" })
                .stdin(std::process::Stdio::inherit())
                .status();
        }
    };
    echo(false);
    let first = read("Password: ");
    let second = if tty {
        read("Again: ")
    } else {
        Ok(String::new())
    };
    echo(true);
    let (first, second) = (first?, second?);
    if tty && first != second {
        return Err(Error::BadRequest("the two passwords differ".into()));
    }
    if first.is_empty() {
        return Err(Error::BadRequest(
            "the password is empty (give it on stdin, e.g. from a password manager)".into(),
        ));
    }
    Ok(format!(
        "{}\n",
        crate::console::auth::hash_password(&first)?
    ))
}
