//! The schema `stagesub_directory`: created and upgraded in one transaction under an advisory
//! lock, its version recorded in `stagesub_directory.schema_version`.

use tokio_postgres::Client;

use crate::error::{Error, Result};

/// The directory's schema.
pub const SCHEMA: &str = "stagesub_directory";
/// The table of tenants, one row per orchestra.
pub const TABLE: &str = "stagesub_directory.tenants";
/// The function the app calls: `lookup(subdomain text)`.
pub const LOOKUP_FUNCTION: &str = "stagesub_directory.lookup";
/// The newest schema version this build writes.
pub const SCHEMA_VERSION: i32 = 1;
/// The transaction-level advisory lock that makes schema changes take turns (per database).
pub const LOCK_KEY: i64 = 0x7374_6167_6469_7231; // "stagdir1"

/// Each version's DDL, applied in order after the ones a directory already has.
const MIGRATIONS: &[(i32, &str)] = &[(1, V1)];

const V1: &str = r#"
CREATE SEQUENCE stagesub_directory.generation AS bigint;
CREATE TABLE stagesub_directory.tenants (
    subdomain   text PRIMARY KEY,
    status      text NOT NULL
                CHECK (status IN ('provisioning', 'ready', 'archived', 'restoring', 'deleted')),
    backend     text NOT NULL,
    region      text,
    plan        text,
    resource_id text,
    api_url     text,
    key_id      text,
    secret      bytea,
    generation  bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_secret_has_key_id CHECK ((secret IS NULL) = (key_id IS NULL)),
    CONSTRAINT tenants_deleted_has_no_secret CHECK (status <> 'deleted' OR secret IS NULL),
    CONSTRAINT tenants_ready_has_secret CHECK (status <> 'ready' OR secret IS NOT NULL)
);
REVOKE ALL ON TABLE stagesub_directory.tenants FROM PUBLIC;
REVOKE ALL ON SEQUENCE stagesub_directory.generation FROM PUBLIC;
-- SECURITY DEFINER with a pinned search_path and qualified names: a caller's objects
-- (a pg_temp table, an operator in its own schema) cannot take part.
CREATE FUNCTION stagesub_directory.lookup(subdomain text)
RETURNS TABLE (status text, backend text, region text, plan text, api_url text, key_id text,
               secret bytea, generation bigint)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
    SELECT t.status, t.backend, t.region, t.plan, t.api_url, t.key_id, t.secret, t.generation
    FROM stagesub_directory.tenants AS t
    WHERE t.subdomain OPERATOR(pg_catalog.=) $1
$fn$;
REVOKE ALL ON FUNCTION stagesub_directory.lookup(text) FROM PUBLIC;
"#;

/// Creates the schema or upgrades it to [`SCHEMA_VERSION`]; returns the version it found before.
/// Idempotent, and safe when many applies start at once: all of it runs in one transaction that
/// first takes the advisory lock [`LOCK_KEY`], so the others wait and then find nothing to do.
/// A directory that is current already is only read (no lock, no DDL), so the provider's role
/// needs no CREATE privilege once the schema exists.
pub async fn ensure_schema(client: &mut Client) -> Result<i32> {
    if let Some(found) = current_version(client).await?
        && found == SCHEMA_VERSION
    {
        return Ok(found);
    }
    let tx = client
        .transaction()
        .await
        .map_err(Error::db("starting the schema transaction"))?;
    tx.execute("SELECT pg_catalog.pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(Error::db("taking the schema lock"))?;
    tx.batch_execute(
        "CREATE SCHEMA IF NOT EXISTS stagesub_directory;
         REVOKE ALL ON SCHEMA stagesub_directory FROM PUBLIC;
         CREATE TABLE IF NOT EXISTS stagesub_directory.schema_version (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         );
         REVOKE ALL ON TABLE stagesub_directory.schema_version FROM PUBLIC;",
    )
    .await
    .map_err(Error::db("creating schema stagesub_directory"))?;
    let found: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM stagesub_directory.schema_version",
            &[],
        )
        .await
        .map_err(Error::db("reading the schema version"))?
        .get(0);
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, ddl) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        tx.batch_execute(ddl).await.map_err(Error::db(format!(
            "upgrading the schema to version {version}"
        )))?;
        tx.execute(
            "INSERT INTO stagesub_directory.schema_version (version) VALUES ($1)",
            &[version],
        )
        .await
        .map_err(Error::db("recording the schema version"))?;
    }
    tx.commit()
        .await
        .map_err(Error::db("committing the schema"))?;
    Ok(found)
}

/// The recorded version, or `None` when there is no version table yet.
async fn current_version(client: &Client) -> Result<Option<i32>> {
    let row = client
        .query_one(
            "SELECT pg_catalog.to_regclass('stagesub_directory.schema_version') IS NOT NULL",
            &[],
        )
        .await
        .map_err(Error::db("looking for the schema version"))?;
    if !row.get::<_, bool>(0) {
        return Ok(None);
    }
    let row = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM stagesub_directory.schema_version",
            &[],
        )
        .await
        .map_err(Error::db("reading the schema version"))?;
    Ok(Some(row.get(0)))
}

/// Lets `role` call `stagesub_directory.lookup` (USAGE on the schema, EXECUTE on the function)
/// and nothing else: the table stays closed to it. Takes the schema lock, since concurrent GRANTs
/// on one object can fail; a role that has both privileges already is left alone.
pub async fn grant_reader(client: &mut Client, role: &str) -> Result<()> {
    let tx = client
        .transaction()
        .await
        .map_err(Error::db("starting the grant transaction"))?;
    tx.execute("SELECT pg_catalog.pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(Error::db("taking the schema lock"))?;
    let row = tx
        .query_opt(
            "SELECT pg_catalog.has_schema_privilege(r.oid, 'stagesub_directory', 'USAGE')
                AND pg_catalog.has_function_privilege(r.oid,
                        'stagesub_directory.lookup(text)', 'EXECUTE')
             FROM pg_catalog.pg_roles AS r WHERE r.rolname = $1",
            &[&role],
        )
        .await
        .map_err(Error::db(format!("checking reader role {role:?}")))?;
    let Some(row) = row else {
        return Err(Error::NoSuchRole(role.to_owned()));
    };
    if !row.get::<_, bool>(0) {
        let ident = quote_ident(role);
        tx.batch_execute(&format!(
            "GRANT USAGE ON SCHEMA stagesub_directory TO {ident};
             GRANT EXECUTE ON FUNCTION stagesub_directory.lookup(text) TO {ident};"
        ))
        .await
        .map_err(Error::db(format!("granting lookup to role {role:?}")))?;
    }
    tx.commit()
        .await
        .map_err(Error::db(format!("granting lookup to role {role:?}")))
}

/// `name` as a quoted SQL identifier (the one thing that cannot be a bound parameter).
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(super::quote_ident(r#"app"; DROP"#), r#""app""; DROP""#);
    }
}
