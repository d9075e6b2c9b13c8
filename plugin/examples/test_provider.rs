//! A tiny provider for the plugin's own integration tests: one resource, `tiny_thing`, served with the
//! real handshake. `cargo test -p stagesub-plugin` builds it into `<target>/debug/examples/`.
//!
//! - `create` answers at once, or, with `wait_for_stop = true`, writes `marker_path` and waits until
//!   Terraform calls `StopProvider` (the operation's cancellation token).
//! - `size` is computed from `payload`, so a large payload proves large messages travel both ways.

use std::sync::Arc;
use std::time::Duration;

use stagesub_plugin::schema::{Attribute, Block, Schema};
use stagesub_plugin::serve::{ServeOptions, main as serve_main};
use stagesub_plugin::{
    Context, DataSource, Diagnostic, Diagnostics, Outcome, Provider, Resource, Value,
};

struct TinyProvider;

#[async_trait::async_trait]
impl Provider for TinyProvider {
    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block::new("Test provider.").attribute(
                Attribute::string("greeting")
                    .optional()
                    .description("Unused."),
            ),
        }
    }

    async fn configure(&self, _config: &Value, terraform_version: &str) -> Diagnostics {
        tracing::debug!("configured by Terraform {terraform_version}");
        Diagnostics::default()
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(Thing)]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        Vec::new()
    }
}

struct Thing;

impl Thing {
    fn finish(planned: &Value) -> Value {
        let mut state = planned.clone();
        let name = planned.str_attr("name").unwrap_or_default().to_string();
        let size = planned.str_attr("payload").map_or(0, str::len) as i64;
        state.set_attr("id", format!("thing-{name}"));
        state.set_attr("size", size);
        state
    }
}

#[async_trait::async_trait]
impl Resource for Thing {
    fn type_name(&self) -> &'static str {
        "tiny_thing"
    }

    fn schema(&self) -> Schema {
        Schema {
            version: 0,
            block: Block::new("A thing.")
                .attribute(
                    Attribute::string("name")
                        .required()
                        .description("Name.")
                        .validate(|v| match v.as_str() {
                            Some("") => Err("name must not be empty".into()),
                            _ => Ok(()),
                        }),
                )
                .attribute(
                    Attribute::string("payload")
                        .optional()
                        .description("Any text."),
                )
                .attribute(
                    Attribute::string("marker_path")
                        .optional()
                        .description("File written when create starts."),
                )
                .attribute(
                    Attribute::bool("wait_for_stop")
                        .optional()
                        .description("Wait for StopProvider in create."),
                )
                .attribute(
                    Attribute::string("secret_wo")
                        .optional()
                        .sensitive()
                        .write_only()
                        .description("Write-only."),
                )
                .attribute(
                    Attribute::string("id")
                        .computed()
                        .description("Identifier."),
                )
                .attribute(
                    Attribute::number("size")
                        .computed()
                        .description("Payload length."),
                ),
        }
    }

    async fn create(
        &self,
        ctx: &Context,
        planned: &Value,
        _config: &Value,
        _private: &[u8],
    ) -> Outcome {
        tracing::debug!("creating {}", planned.str_attr("name").unwrap_or_default());
        if planned.attr("wait_for_stop").as_bool() == Some(true) {
            if let Some(path) = planned.str_attr("marker_path") {
                let _ = std::fs::write(path, b"started");
            }
            tokio::select! {
                () = ctx.cancel.cancelled() => {
                    return Outcome::failed(
                        None,
                        Diagnostic::error("Create cancelled", "StopProvider cancelled the create."),
                    );
                }
                () = tokio::time::sleep(Duration::from_secs(120)) => {}
            }
        }
        Outcome::ok(Self::finish(planned))
    }

    async fn read(&self, _ctx: &Context, state: &Value, _private: &[u8]) -> Outcome {
        Outcome::ok(state.clone())
    }

    async fn update(
        &self,
        _ctx: &Context,
        _prior: &Value,
        planned: &Value,
        _config: &Value,
        _private: &[u8],
    ) -> Outcome {
        Outcome::ok(Self::finish(planned))
    }

    async fn delete(&self, _ctx: &Context, _prior: &Value, _private: &[u8]) -> Diagnostics {
        Diagnostics::default()
    }

    async fn import(&self, _ctx: &Context, id: &str) -> Outcome {
        let mut state = Value::Object(Default::default());
        state.set_attr("id", id);
        state.set_attr("name", id.trim_start_matches("thing-"));
        Outcome::ok(state)
    }
}

#[tokio::main]
async fn main() {
    let code = serve_main(
        Arc::new(TinyProvider),
        ServeOptions {
            address: "registry.terraform.io/stagesub/tiny".to_string(),
            name: "terraform-provider-tiny".to_string(),
            version: "0.0.1".to_string(),
        },
    )
    .await;
    std::process::exit(code);
}
