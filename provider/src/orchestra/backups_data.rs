//! Data source `stagesub_orchestra_backups`: a tenant's verified backups (those with a manifest)
//! in the provider's `backup_url`, oldest first.

use std::collections::BTreeMap;
use std::sync::Arc;

use stagesub_plugin::{
    Attribute, AttributePath, Block, Context, DataSource, Diagnostic, Number, Outcome, Schema,
    Type, Value,
};
use stagesub_tenant::Field;

use crate::archive::Found;
use crate::config::Shared;

/// `stagesub_orchestra_backups`.
#[derive(Debug)]
pub struct OrchestraBackupsData {
    shared: Arc<Shared>,
}

impl OrchestraBackupsData {
    /// The data source, reading the provider's configuration from `shared`.
    pub fn new(shared: Arc<Shared>) -> Self {
        OrchestraBackupsData { shared }
    }
}

fn backup_type() -> Type {
    Type::Object(BTreeMap::from([
        ("uri".to_string(), Type::String),
        ("sha256".to_string(), Type::String),
        ("size".to_string(), Type::Number),
        ("created_at".to_string(), Type::String),
    ]))
}

fn backup_value(f: &Found) -> Value {
    let size = i64::try_from(f.size).map_or(Value::Null, |n| Value::Number(Number::Int(n)));
    Value::Object(BTreeMap::from([
        ("uri".to_string(), Value::String(f.uri.clone())),
        ("sha256".to_string(), Value::String(f.sha256.clone())),
        ("size".to_string(), size),
        (
            "created_at".to_string(),
            Value::String(f.created_at.clone()),
        ),
    ]))
}

#[async_trait::async_trait]
impl DataSource for OrchestraBackupsData {
    fn type_name(&self) -> &'static str {
        "stagesub_orchestra_backups"
    }

    fn schema(&self) -> Schema {
        let block = Block::new("Lists an orchestra's verified backups (each a `pg_dump` with its manifest, made by archiving with `archive_mode = \"backup\"`) in the provider's `backup_url`, oldest first. Backups of destroyed orchestras are listed too, until the store's lifecycle rule expires them.")
            .attribute(Attribute::string("subdomain").required()
                .validate(|v| v.as_str().map_or(Ok(()), |s| Field::Subdomain.validate(s).map_err(|e| e.message().to_string())))
                .description("The orchestra's subdomain."))
            .attribute(Attribute::new("backups", Type::list(backup_type())).computed()
                .description("The backups, oldest first: `uri` (of the dump), `sha256` (hex), `size` (bytes), `created_at` (RFC 3339)."))
            .attribute(Attribute::string("latest_uri").computed().description("The newest backup's `uri`; null when there is none."));
        Schema { version: 0, block }
    }

    async fn read(&self, _ctx: &Context, config: &Value) -> Outcome {
        let subdomain = config.str_attr("subdomain").unwrap_or_default().to_string();
        let Some(settings) = self.shared.backup() else {
            return Outcome::failed(
                None,
                Diagnostic::error(
                    "Missing backup_url",
                    "Listing backups needs the provider's backup_url (STAGESUB_BACKUP_URL): s3://bucket/prefix or file:///absolute/folder.",
                )
                .at(AttributePath::root("subdomain")),
            );
        };
        let list = match settings.list(&subdomain).await {
            Ok(list) => list,
            Err(e) => return Outcome::failed(None, e.into_diagnostics()),
        };
        let mut state = Value::Object(BTreeMap::new());
        state.set_attr("subdomain", subdomain);
        state.set_attr("latest_uri", list.last().map(|f| f.uri.clone()));
        state.set_attr(
            "backups",
            Value::List(list.iter().map(backup_value).collect()),
        );
        Outcome::ok(state)
    }
}
