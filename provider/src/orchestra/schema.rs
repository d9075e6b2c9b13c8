//! The schema of `stagesub_orchestra_database`: every attribute with its description and behaviour,
//! and the computed attributes the data source shares with the resource ([`shared_computed`]).

use stagesub_plugin::{Attribute, Block, Schema, Type, Value, timeouts};

use stagesub_tenant::Field;

/// The `stagesub-tenant` rule of `field` as an attribute validator (unknown and null values pass:
/// they are checked when known).
fn tenant_rule(field: Field) -> impl Fn(&Value) -> Result<(), String> + Send + Sync + 'static {
    move |v: &Value| {
        v.as_str().map_or(Ok(()), |s| {
            field.validate(s).map_err(|e| e.message().to_string())
        })
    }
}

/// `instance_size`: one of Supabase's compute size names (unknown and null pass).
fn compute_size_rule(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some(size) if !stagesub_supabase::COMPUTE_SIZES.contains(&size) => Err(format!(
            "instance_size {size:?} is not a Supabase compute size: use one of {}",
            stagesub_supabase::COMPUTE_SIZES.join(", ")
        )),
        _ => Ok(()),
    }
}

/// Computed attributes the resource and the data source both have, with the same meaning: the
/// resource keeps them from state when unknown (except `status`).
pub(super) fn shared_computed() -> [Attribute; 6] {
    [
        Attribute::string("status").computed().description("Backend status: Supabase project status (`ACTIVE_HEALTHY`, `INACTIVE`, ...) or `ACTIVE` / `ARCHIVED`; `archived` while the orchestra is held in a backup (its database deleted), `restore_failed` after a failed restore (the next apply replaces the new database and restores again)."),
        Attribute::string("created_at").computed().description("When the database was created (RFC 3339)."),
        Attribute::number("database_port").computed().description("Port for session-mode connections."),
        Attribute::string("database_name").computed().description("Database name."),
        Attribute::string("database_user").computed().description("Database user."),
        Attribute::string("api_url").computed().description("Supabase only: `https://<ref>.supabase.co`."),
    ]
}

/// The resource schema.
pub fn schema() -> Schema {
    let block = Block::new("A dedicated database for one orchestra: a Supabase project (`supabase` backend) or a database and login role on a Postgres server you own (`postgres` backend). Created, made healthy, migrated and seeded by `terraform apply`.")
        .attribute(Attribute::string("subdomain").required().requires_replace().validate(tenant_rule(Field::Subdomain))
            .description("The orchestra's subdomain, a DNS label (3-63 lowercase letters, digits, inner hyphens; not reserved such as `www` or `admin`). Names the Supabase project `orchestra-<subdomain>` or the database `orchestra_<subdomain>`. Changing it replaces the database."))
        .attribute(Attribute::string("orchestra_name").required().validate(tenant_rule(Field::OrchestraName))
            .description("The orchestra's display name, 1-256 characters without control or invisible format characters (such as bidirectional overrides or line separators). Seed SQL reads it as `current_setting('stagesub.orchestra_name')`. Updated in place."))
        .attribute(Attribute::string("contact_email").optional().validate(tenant_rule(Field::ContactEmail)).description("Contact email of the orchestra, a plain address such as `office@example.org` (`current_setting('stagesub.contact_email')` in seed SQL)."))
        .attribute(Attribute::string("plan").optional().validate(tenant_rule(Field::Plan)).description("Tenant plan: `free`, `pro` or `enterprise` (`current_setting('stagesub.plan')` in seed SQL)."))
        .attribute(Attribute::string("region").optional().computed().requires_replace().use_state_for_unknown().validate(tenant_rule(Field::Region))
            .description("Supabase region code (e.g. `eu-central-1`) or smart group (`americas`, `emea`, `apac`). Defaults to the provider's `default_region`. Changing it replaces the database. Not used by the `postgres` backend."))
        .attribute(Attribute::string("instance_size").optional().validate(compute_size_rule)
            .description("Supabase compute size (`nano`, `micro`, `small`, `medium`, `large`, `xlarge`, `2xlarge`, ... `48xlarge_high_memory`). Set at create; a change is made in place through the project's compute add-on, up or down: the database restarts (a few minutes on Supabase, connections drop) and the project ref and data stay. A size the Supabase organization's plan does not include fails the apply and leaves the project as it was. Refresh reads the size in force, so a change made elsewhere shows in the plan. Unset: the organization's default, not managed. The `postgres` backend has no compute sizes: there it is only recorded in state, and a change does nothing but that."))
        .attribute(Attribute::string("migrations_dir").optional()
            .description("Folder of the app's migrations, Prisma layout (`<name>/migration.sql`) or Supabase CLI layout (`<version>_<name>.sql`), detected. Pending migrations show in the plan under `applied_migrations` and are applied on create and update."))
        .attribute(Attribute::string("seed_sql").optional()
            .description("Idempotent SQL run after migrations, in one transaction, on create and whenever it or the tenant values change. Read tenant values with `current_setting('stagesub.subdomain')`, `stagesub.orchestra_name`, `stagesub.contact_email`, `stagesub.plan`: they are bound as parameters, never spliced into the text."))
        .attribute(Attribute::bool("archived").default(false)
            .description("`true` archives the orchestra as `archive_mode` says; its data is kept. `false` restores it: with `backup`, a new project / database (same naming rules, the region unless changed) gets the backup restored, checked against the backup's manifest, then pending migrations and the seed run as usual."))
        .attribute(Attribute::string("archive_mode").default("backup")
            .validate(|v| match v.as_str() { Some("backup" | "pause") | None => Ok(()), Some(o) => Err(format!("archive_mode must be \"backup\" or \"pause\", not {o:?}")) })
            .description("How `archived = true` archives. `backup` (default): a `pg_dump` streamed to the provider's `backup_url` (`STAGESUB_BACKUP_URL`) with a manifest beside it, read back and verified (checksum, `pg_restore --list`), and only then the Supabase project is deleted / the Postgres database and role dropped; the tenant costs nothing while archived. `pause`: the Supabase project is paused / the Postgres database refuses connections; Supabase refuses to pause projects of organizations on a paid plan, so `pause` fails at plan there."))
        .attribute(Attribute::number("backup_retention_days").default(365i64)
            .validate(|v| match v.as_i64() { Some(n) if !(1..=36500).contains(&n) => Err(format!("backup_retention_days must be from 1 to 36500, not {n}")), _ => Ok(()) })
            .description("Days this orchestra's backups are kept: the provider never deletes a backup younger than this (the object store's lifecycle rule expires older ones: see the README). Recorded in each backup's manifest. Default 365."))
        .attribute(Attribute::string("backup_uri").computed().use_state_for_unknown().description("The last archive's backup (`archive_mode = \"backup\"`): `<backup_url>/<subdomain>/<timestamp>.dump`, with `<timestamp>.manifest.json` beside it. Kept after a restore."))
        .attribute(Attribute::string("backup_sha256").computed().use_state_for_unknown().description("SHA-256 (hex) of the last archive's dump, verified by reading it back before the database was deleted."))
        .attribute(Attribute::string("archived_at").computed().use_state_for_unknown().description("When the last archive by backup was made (RFC 3339)."))
        .attribute(Attribute::bool("deletion_protection").default(true)
            .description("While `true`, destroying the database fails with an error. Set it to `false` and apply before destroying."))
        .attribute(Attribute::bool("enforce_ssl").default(true).description("Supabase only: the database accepts only SSL connections."))
        .attribute(Attribute::new("allowed_cidrs", Type::list(Type::String)).optional()
            .description("Supabase only: IPv4/IPv6 CIDRs allowed to connect to the database. Unset means unrestricted."))
        .attribute(Attribute::string("database_password").optional().computed().sensitive().use_state_for_unknown()
            .validate(|v| match v.as_str() { Some(p) if p.len() < 12 => Err("database_password must have at least 12 characters".into()), _ => Ok(()) })
            .description("Password of the database user. Generated (32 random characters) when unset. Changing it rotates the password. Prefer `database_password_wo` to keep it out of state."))
        .attribute(Attribute::string("database_password_wo").optional().sensitive().write_only()
            .validate(|v| match v.as_str() { Some(p) if p.len() < 12 => Err("database_password_wo must have at least 12 characters".into()), _ => Ok(()) })
            .description("Write-only password (Terraform >= 1.11): used on create and whenever `database_password_wo_version` changes, never stored in state or plan. `database_url` then carries no password."))
        .attribute(Attribute::number("database_password_wo_version").optional()
            .description("Change this number to apply a new `database_password_wo`."))
        .attribute(Attribute::string("id").computed().use_state_for_unknown().description("Supabase project ref, or the database name (`postgres` backend)."))
        .attribute(Attribute::string("database_host").computed().use_state_for_unknown().description("Host for session-mode connections."))
        .attribute(Attribute::string("database_url").computed().sensitive().description("Session-mode connection URL an application can use (includes the password unless it is write-only)."))
        .attribute(Attribute::string("pooler_url").computed().sensitive().description("Supabase only: transaction-mode pooler URL (port 6543; no prepared statements)."))
        .attribute(Attribute::new("applied_migrations", Type::list(Type::String)).computed()
            .description("Names of the applied migrations, in order. Pending ones show in the plan."))
        .attribute(Attribute::string("directory_status").computed()
            .description("The tenant directory row (when the provider has `directory_url`): its status (`ready`, `archived`, ...) when it says what this resource says; `missing`, `stale`, `stale_key` (sealed with an older key) or `undecryptable` when refresh found it wrong, which plans an update that writes it again."))
        .attribute(Attribute::number("directory_generation").computed()
            .description("The directory row's generation when it matches (grows with every write)."))
        .block(timeouts::block(&["create", "update", "delete"], "create 15m, update 15m, delete 10m"));
    let block = shared_computed().into_iter().fold(block, |block, a| {
        let a = if a.name == "status" {
            a
        } else {
            a.use_state_for_unknown()
        };
        block.attribute(a)
    });
    Schema { version: 0, block }
}
