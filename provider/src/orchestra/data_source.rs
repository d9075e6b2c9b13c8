//! Data source `stagesub_orchestra_database`: looks an orchestra's database up by `subdomain` or `id`.
//! It shares the resource's computed attributes that mean the same ([`super::schema::shared_computed`]).

use std::sync::Arc;

use stagesub_plugin::{
    Attribute, Block, Context, DataSource, Diagnostic, Outcome, Schema, Type, Value,
};

use super::model::attr;
use super::schema::shared_computed;
use crate::backend::{Database, connection_url};
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
        super::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        let block = Block::new("Looks up an orchestra's database by `subdomain` or `id`, e.g. to give an application its host and name. Passwords are not returned.")
            .attribute(Attribute::string("subdomain").optional().computed().description("The orchestra's subdomain. Set this or `id`."))
            .attribute(Attribute::string("id").optional().computed().description("Supabase project ref or database name. Set this or `subdomain`."))
            .attribute(computed("archived", Type::Bool, "Whether the database is paused / blocked."))
            .attribute(computed("region", Type::String, "Region (Supabase)."))
            .attribute(computed("database_host", Type::String, "Host for session-mode connections (empty when archived)."))
            .attribute(computed("database_url", Type::String, "Session-mode URL without password.").sensitive());
        let block = shared_computed().into_iter().fold(block, Block::attribute);
        Schema { version: 0, block }
    }

    async fn read(&self, _ctx: &Context, config: &Value) -> Outcome {
        let fail = |s: &str, d: String| Outcome::failed(None, Diagnostic::error(s, d));
        let backend = match self.shared.backend() {
            Ok(b) => b,
            Err(e) => return fail(&e.summary, e.detail),
        };
        let id = match (config.str_attr(attr::ID), config.str_attr(attr::SUBDOMAIN)) {
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
        let subdomain = config.str_attr(attr::SUBDOMAIN).map(str::to_string);
        Outcome::ok(data_state(&db, subdomain))
    }
}

/// What the data source reports about `db`; `subdomain` as configured when the backend cannot tell.
fn data_state(db: &Database, subdomain: Option<String>) -> Value {
    let url = (!db.host.is_empty())
        .then(|| connection_url(&db.user, None, &db.host, db.port, &db.name, &db.url_params));
    let pairs: [(&str, Value); 12] = [
        (attr::ID, db.id.as_str().into()),
        (attr::SUBDOMAIN, db.subdomain.clone().or(subdomain).into()),
        (attr::STATUS, db.status.as_str().into()),
        (attr::CREATED_AT, db.created_at.clone().into()),
        (attr::ARCHIVED, db.archived.into()),
        (attr::REGION, db.region.clone().into()),
        (attr::DATABASE_HOST, db.host.as_str().into()),
        (attr::DATABASE_PORT, db.port.into()),
        (attr::DATABASE_NAME, db.name.as_str().into()),
        (attr::DATABASE_USER, db.user.as_str().into()),
        (attr::DATABASE_URL, url.into()),
        (attr::API_URL, db.api_url.clone().into()),
    ];
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}
