//! Running the tenant's seed SQL with the tenant values as settings, never as spliced text.

use stagesub_tenant::Tenant;
use tokio_postgres::Client;

use crate::error::{Error, Result};
use crate::exec::run_script;
use crate::split::split_statements;

/// The label seed failures carry instead of a file name.
pub const SEED_FILE_LABEL: &str = "seed_sql";

/// Runs `sql` in one transaction after setting the tenant values as transaction-local settings
/// (`set_config(name, value, true)` with bound parameters): `stagesub.subdomain`,
/// `stagesub.orchestra_name`, `stagesub.contact_email` and `stagesub.plan`, absent optional values
/// as the empty string so `current_setting` never fails on them. Any failure rolls the whole seed
/// back and names the line and column in `sql`.
pub async fn seed(client: &Client, sql: &str, values: &Tenant) -> Result<()> {
    let statements = split_statements(sql);
    let db = |action| move |source| Error::Database { action, source };
    client
        .batch_execute("BEGIN")
        .await
        .map_err(db("starting the seed transaction"))?;
    let outcome = async {
        client
            .execute(
                "SELECT set_config('stagesub.subdomain', $1, true), \
                        set_config('stagesub.orchestra_name', $2, true), \
                        set_config('stagesub.contact_email', $3, true), \
                        set_config('stagesub.plan', $4, true)",
                &[
                    &values.subdomain,
                    &values.orchestra_name,
                    &values.contact_email.as_deref().unwrap_or_default(),
                    &values.plan.as_deref().unwrap_or_default(),
                ],
            )
            .await
            .map_err(db("setting the tenant values"))?;
        run_script(client, SEED_FILE_LABEL, sql, &statements)
            .await
            .map_err(Error::Seed)?;
        client
            .batch_execute("COMMIT")
            .await
            .map_err(db("committing the seed"))
    }
    .await;
    if outcome.is_err() {
        let _ = client.batch_execute("ROLLBACK").await;
    }
    outcome
}
