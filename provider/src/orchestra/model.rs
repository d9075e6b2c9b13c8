//! The typed model of `stagesub_orchestra_database`: one field per attribute, read from and written
//! to the protocol's [`Value`] in one place, so the resource code works with fields, not strings.
//!
//! Reading maps an unknown value to `None` (or the attribute's default), as the configuration and
//! state code always treated unknowns; only planning works on raw values, where unknowns matter, and
//! it names attributes with the [`attr`] constants.

use std::collections::BTreeMap;
use std::time::Duration;

use stagesub_plugin::timeouts::parse_duration;
use stagesub_plugin::{Number, Value};

use crate::Secret;
use stagesub_tenant::Tenant;

use crate::backend::{Database, DatabaseSpec, connection_url};

/// The attribute names, spelled once.
pub(crate) mod attr {
    pub(crate) const SUBDOMAIN: &str = "subdomain";
    pub(crate) const ORCHESTRA_NAME: &str = "orchestra_name";
    pub(crate) const CONTACT_EMAIL: &str = "contact_email";
    pub(crate) const PLAN: &str = "plan";
    pub(crate) const REGION: &str = "region";
    pub(crate) const INSTANCE_SIZE: &str = "instance_size";
    pub(crate) const MIGRATIONS_DIR: &str = "migrations_dir";
    pub(crate) const SEED_SQL: &str = "seed_sql";
    pub(crate) const ARCHIVED: &str = "archived";
    pub(crate) const ARCHIVE_MODE: &str = "archive_mode";
    pub(crate) const BACKUP_RETENTION_DAYS: &str = "backup_retention_days";
    pub(crate) const BACKUP_URI: &str = "backup_uri";
    pub(crate) const BACKUP_SHA256: &str = "backup_sha256";
    pub(crate) const ARCHIVED_AT: &str = "archived_at";
    pub(crate) const DELETION_PROTECTION: &str = "deletion_protection";
    pub(crate) const ENFORCE_SSL: &str = "enforce_ssl";
    pub(crate) const ALLOWED_CIDRS: &str = "allowed_cidrs";
    pub(crate) const DATABASE_PASSWORD: &str = "database_password";
    pub(crate) const DATABASE_PASSWORD_WO: &str = "database_password_wo";
    pub(crate) const DATABASE_PASSWORD_WO_VERSION: &str = "database_password_wo_version";
    pub(crate) const ID: &str = "id";
    pub(crate) const STATUS: &str = "status";
    pub(crate) const CREATED_AT: &str = "created_at";
    pub(crate) const DATABASE_HOST: &str = "database_host";
    pub(crate) const DATABASE_PORT: &str = "database_port";
    pub(crate) const DATABASE_NAME: &str = "database_name";
    pub(crate) const DATABASE_USER: &str = "database_user";
    pub(crate) const DATABASE_URL: &str = "database_url";
    pub(crate) const POOLER_URL: &str = "pooler_url";
    pub(crate) const API_URL: &str = "api_url";
    pub(crate) const APPLIED_MIGRATIONS: &str = "applied_migrations";
    pub(crate) const DIRECTORY_STATUS: &str = "directory_status";
    pub(crate) const DIRECTORY_GENERATION: &str = "directory_generation";
    pub(crate) const TIMEOUTS: &str = "timeouts";
}

/// Where applications connect: the computed connection details.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Connection {
    /// `database_host`.
    pub host: Option<String>,
    /// `database_port`.
    pub port: Option<i64>,
    /// `database_name`.
    pub name: Option<String>,
    /// `database_user`.
    pub user: Option<String>,
}

/// How `archived = true` archives: `backup` (verified dump, then delete) or `pause`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ArchiveMode {
    /// A verified `pg_dump` in `backup_url`, then the project / database is deleted.
    #[default]
    Backup,
    /// The Supabase project is paused / the Postgres database refuses connections.
    Pause,
}

impl ArchiveMode {
    /// The attribute's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ArchiveMode::Backup => "backup",
            ArchiveMode::Pause => "pause",
        }
    }

    /// Reads the attribute (`None`: unknown or null, the default applies).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "backup" => Some(ArchiveMode::Backup),
            "pause" => Some(ArchiveMode::Pause),
            _ => None,
        }
    }
}

/// The `status` of an orchestra held in a backup (its database deleted); backend statuses are
/// upper case (`ACTIVE_HEALTHY`, `ARCHIVED`, ...).
pub const STATUS_ARCHIVED: &str = "archived";
/// The `status` after a restore that failed: the new database is recorded, the backup kept, and
/// the next apply replaces the database and restores again.
pub const STATUS_RESTORE_FAILED: &str = "restore_failed";

/// The last archive's backup, as state keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupRef {
    /// `backup_uri`: where the dump is (`s3://...` or `file://...`).
    pub uri: Option<String>,
    /// `backup_sha256`: the dump's SHA-256, hex.
    pub sha256: Option<String>,
    /// `archived_at`: when the archive was made (RFC 3339).
    pub archived_at: Option<String>,
}

/// `backup_retention_days` when unset.
pub const DEFAULT_RETENTION_DAYS: i64 = 365;

/// Days an orchestra's backups are kept at least; [`DEFAULT_RETENTION_DAYS`] by default (also for
/// a model built with `..Default::default()`, e.g. on import).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionDays(pub i64);

impl Default for RetentionDays {
    fn default() -> Self {
        RetentionDays(DEFAULT_RETENTION_DAYS)
    }
}

/// Every attribute of the resource (configuration, plan or state).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrchestraModel {
    /// `subdomain`.
    pub subdomain: Option<String>,
    /// `orchestra_name`.
    pub orchestra_name: Option<String>,
    /// `contact_email`.
    pub contact_email: Option<String>,
    /// `plan`.
    pub plan: Option<String>,
    /// `region`.
    pub region: Option<String>,
    /// `instance_size`.
    pub instance_size: Option<String>,
    /// `migrations_dir`.
    pub migrations_dir: Option<String>,
    /// `seed_sql`.
    pub seed_sql: Option<String>,
    /// `archived` (default false).
    pub archived: bool,
    /// `archive_mode`: `backup` (default) or `pause`.
    pub archive_mode: ArchiveMode,
    /// `backup_retention_days` (default 365).
    pub backup_retention_days: RetentionDays,
    /// `backup_uri`, `backup_sha256`, `archived_at`: the last archive's backup.
    pub backup: BackupRef,
    /// `deletion_protection` (default true).
    pub deletion_protection: bool,
    /// `enforce_ssl` (default true).
    pub enforce_ssl: bool,
    /// `allowed_cidrs`; `None` is unrestricted.
    pub allowed_cidrs: Option<Vec<String>>,
    /// `database_password`.
    pub database_password: Option<Secret>,
    /// `database_password_wo` (configuration only: never stored).
    pub database_password_wo: Option<Secret>,
    /// `database_password_wo_version`.
    pub database_password_wo_version: Option<Number>,
    /// `id`.
    pub id: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `created_at`.
    pub created_at: Option<String>,
    /// `database_host`, `database_port`, `database_name`, `database_user`.
    pub connection: Connection,
    /// `database_url`.
    pub database_url: Option<Secret>,
    /// `pooler_url`.
    pub pooler_url: Option<Secret>,
    /// `api_url`.
    pub api_url: Option<String>,
    /// `applied_migrations`.
    pub applied_migrations: Option<Vec<String>>,
    /// `directory_status`: the directory row's status when it matches, else why it must be
    /// written again (`missing`, `stale`, `stale_key`, `undecryptable`).
    pub directory_status: Option<String>,
    /// `directory_generation`: the row's generation when it matches.
    pub directory_generation: Option<i64>,
    /// The `timeouts` block, as given.
    pub timeouts: Value,
}

fn string(v: &Value, name: &str) -> Option<String> {
    v.str_attr(name).map(str::to_string)
}

fn strings(v: &Value, name: &str) -> Option<Vec<String>> {
    v.attr(name).as_list().map(|l| {
        l.iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    })
}

fn secret(v: &Value, name: &str) -> Option<Secret> {
    v.str_attr(name).map(Secret::from)
}

fn exposed(s: &Option<Secret>) -> Value {
    s.as_ref().map(|s| s.expose()).into()
}

impl OrchestraModel {
    /// Reads a configuration, plan or state value (unknowns read as absent).
    pub fn from_value(v: &Value) -> Self {
        OrchestraModel {
            subdomain: string(v, attr::SUBDOMAIN),
            orchestra_name: string(v, attr::ORCHESTRA_NAME),
            contact_email: string(v, attr::CONTACT_EMAIL),
            plan: string(v, attr::PLAN),
            region: string(v, attr::REGION),
            instance_size: string(v, attr::INSTANCE_SIZE),
            migrations_dir: string(v, attr::MIGRATIONS_DIR),
            seed_sql: string(v, attr::SEED_SQL),
            archived: v.attr(attr::ARCHIVED).as_bool().unwrap_or(false),
            archive_mode: v
                .str_attr(attr::ARCHIVE_MODE)
                .and_then(ArchiveMode::parse)
                .unwrap_or_default(),
            backup_retention_days: RetentionDays(
                v.attr(attr::BACKUP_RETENTION_DAYS)
                    .as_i64()
                    .unwrap_or(DEFAULT_RETENTION_DAYS),
            ),
            backup: BackupRef {
                uri: string(v, attr::BACKUP_URI),
                sha256: string(v, attr::BACKUP_SHA256),
                archived_at: string(v, attr::ARCHIVED_AT),
            },
            deletion_protection: v.attr(attr::DELETION_PROTECTION).as_bool().unwrap_or(true),
            enforce_ssl: v.attr(attr::ENFORCE_SSL).as_bool().unwrap_or(true),
            allowed_cidrs: strings(v, attr::ALLOWED_CIDRS),
            database_password: secret(v, attr::DATABASE_PASSWORD),
            database_password_wo: secret(v, attr::DATABASE_PASSWORD_WO),
            database_password_wo_version: match v.attr(attr::DATABASE_PASSWORD_WO_VERSION) {
                Value::Number(n) => Some(n.clone()),
                _ => None,
            },
            id: string(v, attr::ID),
            status: string(v, attr::STATUS),
            created_at: string(v, attr::CREATED_AT),
            connection: Connection {
                host: string(v, attr::DATABASE_HOST),
                port: v.attr(attr::DATABASE_PORT).as_i64(),
                name: string(v, attr::DATABASE_NAME),
                user: string(v, attr::DATABASE_USER),
            },
            database_url: secret(v, attr::DATABASE_URL),
            pooler_url: secret(v, attr::POOLER_URL),
            api_url: string(v, attr::API_URL),
            applied_migrations: strings(v, attr::APPLIED_MIGRATIONS),
            directory_status: string(v, attr::DIRECTORY_STATUS),
            directory_generation: v.attr(attr::DIRECTORY_GENERATION).as_i64(),
            timeouts: v.attr(attr::TIMEOUTS).clone(),
        }
    }

    /// The state value: every attribute of the schema, none unknown.
    pub fn to_value(&self) -> Value {
        let list = |l: &Option<Vec<String>>| l.clone().map_or(Value::Null, Value::string_list);
        let pairs: [(&str, Value); 34] = [
            (attr::SUBDOMAIN, self.subdomain.clone().into()),
            (attr::ORCHESTRA_NAME, self.orchestra_name.clone().into()),
            (attr::CONTACT_EMAIL, self.contact_email.clone().into()),
            (attr::PLAN, self.plan.clone().into()),
            (attr::REGION, self.region.clone().into()),
            (attr::INSTANCE_SIZE, self.instance_size.clone().into()),
            (attr::MIGRATIONS_DIR, self.migrations_dir.clone().into()),
            (attr::SEED_SQL, self.seed_sql.clone().into()),
            (attr::ARCHIVED, self.archived.into()),
            (attr::ARCHIVE_MODE, self.archive_mode.as_str().into()),
            (
                attr::BACKUP_RETENTION_DAYS,
                self.backup_retention_days.0.into(),
            ),
            (attr::BACKUP_URI, self.backup.uri.clone().into()),
            (attr::BACKUP_SHA256, self.backup.sha256.clone().into()),
            (attr::ARCHIVED_AT, self.backup.archived_at.clone().into()),
            (attr::DELETION_PROTECTION, self.deletion_protection.into()),
            (attr::ENFORCE_SSL, self.enforce_ssl.into()),
            (attr::ALLOWED_CIDRS, list(&self.allowed_cidrs)),
            (attr::DATABASE_PASSWORD, exposed(&self.database_password)),
            (
                attr::DATABASE_PASSWORD_WO,
                exposed(&self.database_password_wo),
            ),
            (
                attr::DATABASE_PASSWORD_WO_VERSION,
                self.database_password_wo_version
                    .clone()
                    .map_or(Value::Null, Value::Number),
            ),
            (attr::ID, self.id.clone().into()),
            (attr::STATUS, self.status.clone().into()),
            (attr::CREATED_AT, self.created_at.clone().into()),
            (attr::DATABASE_HOST, self.connection.host.clone().into()),
            (attr::DATABASE_PORT, self.connection.port.into()),
            (attr::DATABASE_NAME, self.connection.name.clone().into()),
            (attr::DATABASE_USER, self.connection.user.clone().into()),
            (attr::DATABASE_URL, exposed(&self.database_url)),
            (attr::POOLER_URL, exposed(&self.pooler_url)),
            (attr::API_URL, self.api_url.clone().into()),
            (attr::APPLIED_MIGRATIONS, list(&self.applied_migrations)),
            (attr::DIRECTORY_STATUS, self.directory_status.clone().into()),
            (attr::DIRECTORY_GENERATION, self.directory_generation.into()),
            (attr::TIMEOUTS, self.timeouts.clone()),
        ];
        Value::Object(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    /// Whether the orchestra is held in a backup: archived by `backup`, its database deleted.
    pub fn held_in_backup(&self) -> bool {
        self.archived && self.status.as_deref() == Some(STATUS_ARCHIVED)
    }

    /// The tenant, its region resolved to `default_region` when none is set.
    pub fn tenant(&self, default_region: impl FnOnce() -> String) -> Tenant {
        Tenant {
            subdomain: self.subdomain.clone().unwrap_or_default(),
            orchestra_name: self.orchestra_name.clone().unwrap_or_default(),
            contact_email: self.contact_email.clone(),
            plan: self.plan.clone(),
            region: Some(self.region.clone().unwrap_or_else(default_region)),
        }
    }

    /// The tenant and the database settings the backend needs.
    pub fn spec(&self, default_region: impl FnOnce() -> String) -> DatabaseSpec {
        DatabaseSpec {
            tenant: self.tenant(default_region),
            instance_size: self.instance_size.clone(),
            archived: self.archived,
            enforce_ssl: self.enforce_ssl,
            allowed_cidrs: self.allowed_cidrs.clone(),
        }
    }

    /// Sets the tenant values recorded with a database (import); the subdomain the backend reports
    /// is kept when there is one.
    pub fn set_tenant(&mut self, tenant: Tenant) {
        self.subdomain = self.subdomain.take().or(Some(tenant.subdomain));
        self.orchestra_name = Some(tenant.orchestra_name);
        self.contact_email = tenant.contact_email;
        self.plan = tenant.plan;
    }

    /// The `op` timeout (`create`, `update`, `delete`) of the `timeouts` block, or `default`.
    pub fn timeout(&self, op: &str, default: Duration) -> Duration {
        self.timeouts
            .str_attr(op)
            .and_then(|s| parse_duration(s).ok())
            .unwrap_or(default)
    }

    /// Fills the computed attributes from what the backend reports. A cheap read without connection
    /// details (empty host) keeps the recorded ones: they do not change.
    pub fn fill(&mut self, db: &Database, password: Option<&Secret>) {
        self.id = Some(db.id.clone());
        self.status = Some(db.status.clone());
        self.created_at.clone_from(&db.created_at);
        self.api_url.clone_from(&db.api_url);
        if db.host.is_empty() {
            return;
        }
        self.connection = Connection {
            host: Some(db.host.clone()),
            port: Some(db.port),
            name: Some(db.name.clone()),
            user: Some(db.user.clone()),
        };
        let password = password.map(Secret::expose);
        let url = |host: &str, port: i64| {
            Secret::new(connection_url(
                &db.user,
                password,
                host,
                port,
                &db.name,
                &db.url_params,
            ))
        };
        self.database_url = Some(url(&db.host, db.port));
        self.pooler_url = db.pooler.as_ref().map(|(h, p)| url(h, *p));
    }

    /// `db` with the connection details recorded here when the backend's cheap read has none
    /// (Supabase refresh reads the cached project list, which carries no pooler settings).
    pub fn with_recorded_connection(&self, db: &Database) -> Database {
        let mut db = db.clone();
        if db.host.is_empty() {
            let c = &self.connection;
            db.host = c.host.clone().unwrap_or_default();
            db.port = c.port.unwrap_or(5432);
            db.name = c.name.clone().unwrap_or_default();
            db.user = c.user.clone().unwrap_or_default();
        }
        db
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Value {
        let mut m = OrchestraModel {
            subdomain: Some("berlin-phil".into()),
            orchestra_name: Some("Berliner \"Phil\" ${x}".into()),
            contact_email: Some("office@example.org".into()),
            region: Some("emea".into()),
            migrations_dir: Some("/app/migrations".into()),
            deletion_protection: true,
            enforce_ssl: true,
            allowed_cidrs: Some(vec!["10.0.0.0/8".into()]),
            database_password: Some(Secret::new("a long password!")),
            database_password_wo_version: Some(Number::Float(1.5)),
            applied_migrations: Some(vec![]),
            ..OrchestraModel::default()
        };
        m.fill(
            &Database {
                id: "orchestra_berlin_phil".into(),
                status: "ACTIVE".into(),
                host: "db.example.org".into(),
                port: 5432,
                name: "orchestra_berlin_phil".into(),
                user: "orchestra_berlin_phil".into(),
                pooler: Some(("pool.example.org".into(), 6543)),
                ..Database::default()
            },
            m.database_password.clone().as_ref(),
        );
        m.to_value()
    }

    #[test]
    fn round_trips_a_state() {
        let v = state();
        assert_eq!(OrchestraModel::from_value(&v).to_value(), v);
        assert_eq!(v.as_object().map(BTreeMap::len), Some(34));
        assert_eq!(
            v.str_attr(attr::POOLER_URL),
            Some(
                "postgresql://orchestra_berlin_phil:a%20long%20password%21@pool.example.org:6543/orchestra_berlin_phil"
            )
        );
    }

    #[test]
    fn every_schema_attribute_is_in_the_model() {
        let v = state();
        let schema = super::super::schema();
        let names: Vec<&str> = schema
            .block
            .attributes
            .iter()
            .map(|a| a.name.as_str())
            .chain(schema.block.blocks.iter().map(|b| b.type_name.as_str()))
            .collect();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn archive_settings_default_to_backup_kept_a_year() {
        let v = OrchestraModel::default().to_value();
        assert_eq!(v.str_attr(attr::ARCHIVE_MODE), Some("backup"));
        assert_eq!(v.attr(attr::BACKUP_RETENTION_DAYS).as_i64(), Some(365));
        let mut v = state();
        v.set_attr(attr::ARCHIVE_MODE, "pause");
        v.set_attr(attr::STATUS, STATUS_ARCHIVED);
        v.set_attr(attr::ARCHIVED, true);
        let m = OrchestraModel::from_value(&v);
        assert_eq!(m.archive_mode, ArchiveMode::Pause);
        assert!(m.held_in_backup());
    }

    #[test]
    fn unknowns_read_as_absent_and_defaults_apply() {
        let mut v = state();
        v.set_attr(attr::MIGRATIONS_DIR, Value::Unknown);
        v.set_attr(attr::DELETION_PROTECTION, Value::Unknown);
        let m = OrchestraModel::from_value(&v);
        assert_eq!(m.migrations_dir, None);
        assert!(m.deletion_protection);
        assert!(format!("{m:?}").contains("***"));
        assert!(!format!("{m:?}").contains("a long password"));
    }
}
