//! Data source `stagesub_orchestra_database`: looks an orchestra's database up by `subdomain` or `id`.

use std::sync::Arc;

use stagesub_plugin::{
    Attribute, Block, Context, DataSource, Diagnostic, Outcome, Schema, Type, Value,
};

use crate::backend::connection_url;
use crate::config::Shared;

/// `stagesub_orchestra_database` (data source).
#[derive(Debug)]
pub struct OrchestraDatabaseData {
    shared: Arc<Shared>,
}

impl OrchestraDatabaseData {
    /// The data source, reading the provider's configuration from `shared`.
    pub fn new(shared: Arc<Shared>) -> Self {
        OrchestraDatabaseData { shared }
    }
}

fn computed(name: &str, ty: Type, description: &str) -> Attribute {
    Attribute::new(name, ty).computed().description(description)
}

#[async_trait::async_trait]
impl DataSource for OrchestraDatabaseData {
    fn type_name(&self) -> &'static str {
        crate::orchestra::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        let block = Block::new("Looks up an orchestra's database by `subdomain` or `id`, e.g. to give an application its host and name. Passwords are not returned.")
            .attribute(Attribute::string("subdomain").optional().computed().description("The orchestra's subdomain. Set this or `id`."))
            .attribute(Attribute::string("id").optional().computed().description("Supabase project ref or database name. Set this or `subdomain`."))
            .attribute(computed("status", Type::String, "Backend status."))
            .attribute(computed("created_at", Type::String, "Creation time (RFC 3339)."))
            .attribute(computed("archived", Type::Bool, "Whether the database is paused / blocked."))
            .attribute(computed("region", Type::String, "Region (Supabase)."))
            .attribute(computed("database_host", Type::String, "Host for session-mode connections (empty when archived)."))
            .attribute(computed("database_port", Type::Number, "Port for session-mode connections."))
            .attribute(computed("database_name", Type::String, "Database name."))
            .attribute(computed("database_user", Type::String, "Database user."))
            .attribute(computed("database_url", Type::String, "Session-mode URL without password.").sensitive())
            .attribute(computed("api_url", Type::String, "Supabase only: `https://<ref>.supabase.co`."));
        Schema { version: 0, block }
    }

    async fn read(&self, _ctx: &Context, config: &Value) -> Outcome {
        let fail = |s: &str, d: String| Outcome::failed(None, Diagnostic::error(s, d));
        let backend = match self.shared.backend() {
            Ok(b) => b,
            Err(e) => return fail(&e.summary, e.detail),
        };
        let id = match (config.str_attr("id"), config.str_attr("subdomain")) {
            (Some(id), _) => id.to_string(),
            (None, Some(sub)) => match backend.find(sub).await {
                Ok(Some(id)) => id,
                Ok(None) => {
                    return fail(
                        "Orchestra not found",
                        format!("No orchestra database exists for subdomain {sub:?}."),
                    );
                }
                Err(e) => return fail(&e.summary, e.detail),
            },
            (None, None) => return fail("Missing look-up key", "Set `subdomain` or `id`.".into()),
        };
        let db = match backend.read(&id).await {
            Ok(Some(db)) if db.host.is_empty() && !db.archived => {
                match backend.read_details(&id).await {
                    Ok(Some(full)) => full,
                    Ok(None) => {
                        return fail(
                            "Orchestra not found",
                            format!("No orchestra database with id {id:?}."),
                        );
                    }
                    Err(e) => return fail(&e.summary, e.detail),
                }
            }
            Ok(Some(db)) => db,
            Ok(None) => {
                return fail(
                    "Orchestra not found",
                    format!("No orchestra database with id {id:?}."),
                );
            }
            Err(e) => return fail(&e.summary, e.detail),
        };
        let mut state = Value::Object(Default::default());
        state.set_attr("id", db.id.as_str());
        state.set_attr(
            "subdomain",
            db.subdomain
                .clone()
                .or_else(|| config.str_attr("subdomain").map(str::to_string)),
        );
        state.set_attr("status", db.status.as_str());
        state.set_attr("created_at", db.created_at.clone());
        state.set_attr("archived", db.archived);
        state.set_attr("region", db.region.clone());
        state.set_attr("database_host", db.host.as_str());
        state.set_attr("database_port", db.port);
        state.set_attr("database_name", db.name.as_str());
        state.set_attr("database_user", db.user.as_str());
        state.set_attr(
            "database_url",
            (!db.host.is_empty()).then(|| {
                connection_url(&db.user, None, &db.host, db.port, &db.name, &db.url_params)
            }),
        );
        state.set_attr("api_url", db.api_url.clone());
        Outcome::ok(state)
    }
}
