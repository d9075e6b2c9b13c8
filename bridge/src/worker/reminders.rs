//! Reminders about provisions pending past `PROVISION_SLA` (pending: see
//! [`store::reminders`](crate::store::reminders)).
//!
//! Every replica runs [`run`]; each tick lists the pending tenants past the SLA (on the database's
//! clock) and, per tenant, claims its current reminder window — window 0 when it passes the SLA,
//! window n `REMINDER_EVERY * n` later — by inserting `(subdomain, window)` in the transaction
//! that sends the email. The primary key makes the claim exclusive; a replica racing for the same
//! window waits on the row and finds it taken once the email went out, or claims it itself when
//! the sender failed and rolled back. So each window is mailed once (at least once: a replica that
//! dies between the SMTP server's answer and its commit lets the window be sent again). A tenant
//! already far past the SLA when reminders start gets its current window only, not the missed ones.
//!
//! With `DIGEST_AT`, per-tenant reminders are replaced by one summary per UTC day, claimed the
//! same way on the day (`reminder_digests`); a day with nothing past the SLA is claimed without
//! an email. If no replica runs at `DIGEST_AT`, that day's digest goes out when one starts later
//! the same day.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::{DigestAt, Monitoring, format_duration};
use crate::mail::{Mail, Mailer};
use crate::metrics;
use crate::store::reminders::{
    PendingTenant, claim_digest, claim_reminder, database_now, pending_past_sla, set_digest_size,
};
use crate::store::{Store, StoreError, TenantState};

/// Most tenants reminded about per tick (the rest on the next tick).
const REMINDERS_PER_TICK: i64 = 500;
/// Most tenants listed in one digest.
const DIGEST_LIMIT: i64 = 200;

/// When reminders are due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReminderSettings {
    /// `PROVISION_SLA`.
    pub sla: Duration,
    /// `REMINDER_EVERY`.
    pub every: Duration,
    /// `DIGEST_AT`.
    pub digest_at: Option<DigestAt>,
}

impl From<&Monitoring> for ReminderSettings {
    fn from(m: &Monitoring) -> Self {
        Self {
            sla: m.provision_sla,
            every: m.reminder_every,
            digest_at: m.digest_at,
        }
    }
}

impl ReminderSettings {
    /// How often a replica looks: a tenth of the shorter interval, from 250 ms to 30 s.
    pub fn tick(&self) -> Duration {
        (self.sla.min(self.every) / 10).clamp(Duration::from_millis(250), Duration::from_secs(30))
    }
}

/// The reminder window a tenant pending for `age` is in: `None` before the SLA, then 0, 1, ...
/// every `every`.
pub fn window_index(age: Duration, sla: Duration, every: Duration) -> Option<i32> {
    let past = age.checked_sub(sla)?;
    let n = past.as_nanos() / every.as_nanos().max(1);
    Some(i32::try_from(n).unwrap_or(i32::MAX))
}

/// The UTC day (days since 1970-01-01) whose digest is due at `now` (unix seconds): today once
/// `DIGEST_AT` has passed, else none.
pub fn digest_day(now_unix: f64, at: DigestAt) -> Option<i32> {
    let now = now_unix.floor() as i64;
    let (day, second) = (now.div_euclid(86_400), now.rem_euclid(86_400));
    (second >= at.seconds_of_day()).then(|| i32::try_from(day).unwrap_or(i32::MAX))
}

/// Starts [`run`] when mail is configured (reminders go to `ADMIN_EMAIL`); without it reminders
/// are off, which is logged.
pub fn spawn(
    store: &Store,
    mailer: Option<&Mailer>,
    config: &Monitoring,
    cancel: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let Some(mailer) = mailer else {
        tracing::warn!("SMTP_URL is not set: no reminders about provisions past PROVISION_SLA");
        return None;
    };
    let settings = ReminderSettings::from(config);
    Some(tokio::spawn(run(
        store.clone(),
        mailer.clone(),
        settings,
        cancel,
    )))
}

/// Runs reminder ticks until `cancel` fires.
pub async fn run(
    store: Store,
    mailer: Mailer,
    settings: ReminderSettings,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(settings.tick()) => {}
        }
        if let Err(e) = tick(&store, &mailer, &settings).await {
            tracing::warn!(error = %e, "reminders: cannot read the database; trying again");
        }
    }
}

/// One look at the pending tenants: sends what is due and not yet claimed; returns how many emails
/// went out.
pub async fn tick(
    store: &Store,
    mailer: &Mailer,
    settings: &ReminderSettings,
) -> Result<usize, StoreError> {
    let mut client = store.client().await?;
    match settings.digest_at {
        Some(at) => digest(&mut client, mailer, settings, at).await,
        None => remind(&mut client, mailer, settings).await,
    }
}

async fn remind(
    client: &mut deadpool_postgres::Object,
    mailer: &Mailer,
    settings: &ReminderSettings,
) -> Result<usize, StoreError> {
    let sla = settings.sla.as_secs_f64();
    let due = pending_past_sla(&***client, sla, REMINDERS_PER_TICK).await?;
    let mut sent = 0;
    for tenant in due {
        let age = Duration::from_secs_f64(tenant.age_seconds.max(0.0));
        let Some(window) = window_index(age, settings.sla, settings.every) else {
            continue;
        };
        let tx = client.transaction().await?;
        if !claim_reminder(&*tx, &tenant, window).await? {
            continue; // another replica (or an earlier tick) sent this window
        }
        let mail = reminder_mail(&mailer.admin, &tenant, window, settings);
        match mailer.send(&mail).await {
            Ok(()) => {
                tx.commit().await?;
                metrics::global().reminder_sent(false);
                tracing::info!(subdomain = %tenant.subdomain, window, "reminded the admin of a provision past its SLA");
                sent += 1;
            }
            Err(e) => {
                // Dropping the transaction releases the window for the next tick.
                tracing::warn!(subdomain = %tenant.subdomain, window, error = %e, "reminder not sent; will retry");
            }
        }
    }
    Ok(sent)
}

async fn digest(
    client: &mut deadpool_postgres::Object,
    mailer: &Mailer,
    settings: &ReminderSettings,
    at: DigestAt,
) -> Result<usize, StoreError> {
    let Some(day) = digest_day(database_now(&***client).await?, at) else {
        return Ok(0);
    };
    let tx = client.transaction().await?;
    if !claim_digest(&*tx, day, 0).await? {
        return Ok(0);
    }
    let tenants = pending_past_sla(&*tx, settings.sla.as_secs_f64(), DIGEST_LIMIT).await?;
    set_digest_size(&*tx, day, tenants.len() as i32).await?;
    if tenants.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let mail = digest_mail(&mailer.admin, &tenants, settings);
    match mailer.send(&mail).await {
        Ok(()) => {
            tx.commit().await?;
            metrics::global().reminder_sent(true);
            tracing::info!(
                tenants = tenants.len(),
                "sent the daily digest of provisions past their SLA"
            );
            Ok(1)
        }
        Err(e) => {
            tracing::warn!(error = %e, "daily digest not sent; will retry");
            Ok(0)
        }
    }
}

/// `3h25m`, `2d4h`, `45s`: minutes dropped from a day on, seconds from an hour on.
fn age_text(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    let rounded = match s {
        0..3600 => s,
        3600..86_400 => s - s % 60,
        _ => s - s % 3600,
    };
    format_duration(Duration::from_secs(rounded))
}

/// What the admin can do about a tenant in its state.
fn what_to_do(t: &PendingTenant) -> String {
    let s = &t.subdomain;
    match t.state {
        TenantState::Publishing => "The tenant file is not in the infra repository yet: \
             publishing keeps failing or was given up. Check the remote (GIT_REMOTE_URL, or \
             GITHUB_REPOSITORY and its credentials), see `stagesub-bridge jobs list --parked`, \
             then `stagesub-bridge jobs retry --parked`."
            .to_owned(),
        TenantState::Published => format!(
            "The tenant file is committed{}. Merge the pull request if it is still open, and check \
             that CI's terraform apply ran and called POST /api/tenants/{s}/ready. If you create \
             the database by hand, call that endpoint when it is ready so the customer is welcomed.",
            t.pull_request_url
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        ),
        TenantState::Failed => format!(
            "CI reported that provisioning failed (latest report below). Fix the cause and re-run \
             the apply, or create the database by hand; then call POST /api/tenants/{s}/ready."
        ),
        TenantState::Ready => "Nothing: the tenant is ready.".to_owned(),
    }
}

fn facts(t: &PendingTenant) -> String {
    let or = |v: &Option<String>| v.as_deref().unwrap_or("-").to_owned();
    let mut text = format!(
        "Tenant: {} ({})\nState: {}\nPending for: {}\nContact: {}\nStripe customer: {}\n\
         Subscription: {}\nPlan: {}\nRegion: {}\nCommit: {}\nPull request: {}\n",
        t.subdomain,
        t.orchestra_name,
        t.state,
        age_text(t.age_seconds),
        or(&t.contact_email),
        or(&t.customer),
        or(&t.subscription),
        or(&t.plan),
        or(&t.region),
        or(&t.commit),
        or(&t.pull_request_url),
    );
    if let Some(e) = &t.publish_error {
        text.push_str(&format!("Publishing error: {e}\n"));
    }
    if let Some(f) = &t.failure {
        text.push_str(&format!("Latest CI failure report:\n{f}\n"));
    }
    text
}

/// The reminder for one tenant in `window`.
pub fn reminder_mail(
    admin: &str,
    t: &PendingTenant,
    window: i32,
    settings: &ReminderSettings,
) -> Mail {
    let sla = format_duration(settings.sla);
    Mail {
        to: admin.to_owned(),
        subject: format!(
            "stagesub: {} pending for {} (past the {sla} provisioning SLA, reminder {})",
            t.subdomain,
            age_text(t.age_seconds),
            window + 1
        ),
        body: format!(
            "A paying customer has been waiting longer than PROVISION_SLA ({sla}) for their \
             database.\n\n{}\nWhat to do:\n{}\n\nReminder {} (window {window}); the next one in {} \
             while the tenant stays pending.\n",
            facts(t),
            what_to_do(t),
            window + 1,
            format_duration(settings.every),
        ),
    }
}

/// The daily digest of every tenant past the SLA.
pub fn digest_mail(admin: &str, tenants: &[PendingTenant], settings: &ReminderSettings) -> Mail {
    let sla = format_duration(settings.sla);
    let mut body = format!(
        "{} tenant(s) have been pending longer than PROVISION_SLA ({sla}), oldest first{}.\n",
        tenants.len(),
        if tenants.len() as i64 >= DIGEST_LIMIT {
            format!(" (the first {DIGEST_LIMIT})")
        } else {
            String::new()
        }
    );
    for t in tenants {
        body.push_str(&format!(
            "\n----\n{}What to do: {}\n",
            facts(t),
            what_to_do(t)
        ));
    }
    Mail {
        to: admin.to_owned(),
        subject: format!(
            "stagesub: daily digest: {} tenant(s) past the {sla} provisioning SLA",
            tenants.len()
        ),
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_start_at_the_sla_and_step_by_the_interval() {
        let s = Duration::from_secs;
        let (sla, every) = (s(24 * 3600), s(6 * 3600));
        assert_eq!(window_index(s(3600), sla, every), None);
        assert_eq!(window_index(sla - s(1), sla, every), None);
        assert_eq!(window_index(sla, sla, every), Some(0));
        assert_eq!(window_index(sla + every - s(1), sla, every), Some(0));
        assert_eq!(window_index(sla + every, sla, every), Some(1));
        assert_eq!(window_index(s(10 * 86_400), sla, every), Some(36));
        assert_eq!(
            window_index(s(u64::MAX / 2), s(1), Duration::from_nanos(1)),
            Some(i32::MAX)
        );
    }

    #[test]
    fn the_digest_is_due_from_its_time_until_midnight() {
        let at = DigestAt::parse("08:00").unwrap();
        let day = 20_000_f64 * 86_400.0;
        assert_eq!(digest_day(day + 7.0 * 3600.0, at), None);
        assert_eq!(digest_day(day + 8.0 * 3600.0, at), Some(20_000));
        assert_eq!(digest_day(day + 86_399.0, at), Some(20_000));
        assert_eq!(digest_day(day + 86_400.0, at), None);
        let midnight = DigestAt::parse("00:00").unwrap();
        assert_eq!(digest_day(day, midnight), Some(20_000));
    }

    #[test]
    fn mails_say_who_how_long_and_what_to_do() {
        let t = PendingTenant {
            subdomain: "brass".into(),
            orchestra_name: "Brass <Band>".into(),
            state: TenantState::Published,
            age_seconds: 26.0 * 3600.0 + 125.0,
            contact_email: Some("office@brass.example".into()),
            customer: Some("cus_1".into()),
            subscription: None,
            plan: Some("pro".into()),
            region: None,
            pull_request_url: Some("https://github.com/o/r/pull/7".into()),
            commit: Some("abc123".into()),
            publish_error: None,
            failure: None,
        };
        let settings = ReminderSettings {
            sla: Duration::from_secs(86_400),
            every: Duration::from_secs(6 * 3600),
            digest_at: None,
        };
        let m = reminder_mail("admin@x.test", &t, 0, &settings);
        assert_eq!(m.to, "admin@x.test");
        assert!(
            m.subject.contains("brass pending for 1d2h"),
            "{}",
            m.subject
        );
        assert!(m.subject.contains("reminder 1"));
        for needle in [
            "Brass <Band>",
            "State: published",
            "office@brass.example",
            "cus_1",
            "pull/7",
            "/api/tenants/brass/ready",
            "next one in 6h",
        ] {
            assert!(m.body.contains(needle), "{needle}: {}", m.body);
        }
        let d = digest_mail("admin@x.test", &[t.clone(), t], &settings);
        assert!(d.subject.contains("2 tenant(s)"));
        assert_eq!(d.body.matches("Tenant: brass").count(), 2);
    }
}
