//! `tfplugin6.Provider` served over gRPC: decodes requests, applies the framework's rules around the
//! resource code, and encodes answers. RPCs the framework does not support answer `Unimplemented`.

mod plan;
mod registry;
mod wire;

use std::sync::{Arc, Mutex};

use stagesub_tfplugin6::tfplugin6 as pb;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::codec;
use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::resource::{Context, DataSource, Provider, Resource};
use crate::schema::Schema;
use crate::value::Value;
use registry::{Registry, registered};
use wire::{decode, dv, resp_diags, unimplemented_rpcs};

/// Serves one [`Provider`] over tfplugin6.
pub struct ProviderService {
    provider: Arc<dyn Provider>,
    resources: Registry<dyn Resource>,
    data_sources: Registry<dyn DataSource>,
    provider_schema: Schema,
    /// Replaced after each `StopProvider` so later calls are not born cancelled.
    cancel: Mutex<CancellationToken>,
}

impl std::fmt::Debug for ProviderService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderService")
            .field("resources", &self.resources.names().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

type RpcResult<T> = Result<Response<T>, Status>;

impl ProviderService {
    /// Collects the provider's schemas once, at start-up.
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        let resources = Registry::new(
            "resource",
            provider
                .resources()
                .into_iter()
                .map(|r| (r.type_name().to_string(), r.clone(), r.schema())),
        );
        let data_sources = Registry::new(
            "data source",
            provider
                .data_sources()
                .into_iter()
                .map(|d| (d.type_name().to_string(), d.clone(), d.schema())),
        );
        let provider_schema = provider.schema();
        ProviderService {
            provider,
            resources,
            data_sources,
            provider_schema,
            cancel: Mutex::new(CancellationToken::new()),
        }
    }

    fn ctx(&self) -> Context {
        Context {
            cancel: self.cancel.lock().expect("cancel lock").clone(),
        }
    }

    fn capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            plan_destroy: true,
            get_provider_schema_optional: true,
            move_resource_state: false,
            generate_resource_config: false,
        }
    }
}

type BoxStream<T> =
    std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl pb::provider_server::Provider for ProviderService {
    type ListResourceStream = BoxStream<pb::list_resource::Event>;
    type ReadStateBytesStream = BoxStream<pb::read_state_bytes::Response>;
    type InvokeActionStream = BoxStream<pb::invoke_action::Event>;

    async fn get_metadata(
        &self,
        _r: Request<pb::get_metadata::Request>,
    ) -> RpcResult<pb::get_metadata::Response> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(Self::capabilities()),
            resources: self
                .resources
                .names()
                .map(|k| pb::get_metadata::ResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            data_sources: self
                .data_sources
                .names()
                .map(|k| pb::get_metadata::DataSourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _r: Request<pb::get_provider_schema::Request>,
    ) -> RpcResult<pb::get_provider_schema::Response> {
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(self.provider_schema.to_proto()),
            resource_schemas: self.resources.schemas(),
            data_source_schemas: self.data_sources.schemas(),
            server_capabilities: Some(Self::capabilities()),
            ..Default::default()
        }))
    }

    async fn validate_provider_config(
        &self,
        r: Request<pb::validate_provider_config::Request>,
    ) -> RpcResult<pb::validate_provider_config::Response> {
        let config = decode(
            r.get_ref().config.as_ref(),
            &self.provider_schema.value_type(),
        )?;
        let mut diags = Diagnostics::default();
        self.provider_schema
            .block
            .validate_config(&config, &AttributePath::default(), &mut diags);
        diags.extend(self.provider.validate(&config).await);
        resp_diags(&diags, |diagnostics| {
            pb::validate_provider_config::Response { diagnostics }
        })
    }

    async fn validate_resource_config(
        &self,
        r: Request<pb::validate_resource_config::Request>,
    ) -> RpcResult<pb::validate_resource_config::Response> {
        let r = r.into_inner();
        let entry = registered!(self.resources, &r.type_name);
        let res = &entry.imp;
        let schema = &entry.schema;
        let ty = &entry.ty;
        let config = decode(r.config.as_ref(), ty)?;
        let mut diags = Diagnostics::default();
        schema
            .block
            .validate_config(&config, &AttributePath::default(), &mut diags);
        let write_only_allowed = r
            .client_capabilities
            .as_ref()
            .is_some_and(|c| c.write_only_attributes_allowed);
        for a in schema.block.attributes.iter().filter(|a| a.write_only) {
            if !write_only_allowed && !config.attr(&a.name).is_null() {
                diags.push(
                    Diagnostic::error(
                        "Write-only attribute needs Terraform 1.11 or later",
                        format!("\"{}\" is write-only; this Terraform cannot handle it. Upgrade Terraform or use the non-write-only alternative.", a.name),
                    )
                    .at(AttributePath::root(&a.name)),
                );
            }
        }
        if !diags.has_errors() {
            diags.extend(res.validate(&config).await);
        }
        resp_diags(&diags, |diagnostics| {
            pb::validate_resource_config::Response { diagnostics }
        })
    }

    async fn validate_data_resource_config(
        &self,
        r: Request<pb::validate_data_resource_config::Request>,
    ) -> RpcResult<pb::validate_data_resource_config::Response> {
        let r = r.into_inner();
        let entry = registered!(self.data_sources, &r.type_name);
        let schema = &entry.schema;
        let ty = &entry.ty;
        let config = decode(r.config.as_ref(), ty)?;
        let mut diags = Diagnostics::default();
        schema
            .block
            .validate_config(&config, &AttributePath::default(), &mut diags);
        resp_diags(&diags, |diagnostics| {
            pb::validate_data_resource_config::Response { diagnostics }
        })
    }

    async fn upgrade_resource_state(
        &self,
        r: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        let r = r.into_inner();
        let entry = registered!(self.resources, &r.type_name);
        let schema = &entry.schema;
        let ty = &entry.ty;
        let fail = |summary: &str, detail: String| {
            let d: Diagnostics = Diagnostic::error(summary, detail).into();
            resp_diags(&d, |diagnostics| pb::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics,
            })
        };
        if r.version > schema.version {
            return fail(
                "State from a newer provider",
                format!(
                    "The state was written with schema version {} but this provider knows version {}. Upgrade the provider.",
                    r.version, schema.version
                ),
            );
        }
        let raw = r.raw_state.unwrap_or_default();
        if raw.json.is_empty() {
            if raw.flatmap.is_empty() {
                return Ok(Response::new(pb::upgrade_resource_state::Response {
                    upgraded_state: Some(dv(&Value::Null, ty)?),
                    diagnostics: vec![],
                }));
            }
            return fail(
                "Unsupported legacy state",
                "This state is in the pre-0.12 flatmap format, which stagesub never wrote.".into(),
            );
        }
        match codec::from_json(&raw.json, ty) {
            Ok(mut v) => {
                schema.block.null_write_only(&mut v);
                Ok(Response::new(pb::upgrade_resource_state::Response {
                    upgraded_state: Some(dv(&v, ty)?),
                    diagnostics: vec![],
                }))
            }
            Err(e) => fail(
                "Unreadable state",
                format!("The stored state does not match this resource's schema: {e}"),
            ),
        }
    }

    async fn configure_provider(
        &self,
        r: Request<pb::configure_provider::Request>,
    ) -> RpcResult<pb::configure_provider::Response> {
        let r = r.into_inner();
        let config = decode(r.config.as_ref(), &self.provider_schema.value_type())?;
        let diags = self.provider.configure(&config, &r.terraform_version).await;
        resp_diags(&diags, |diagnostics| pb::configure_provider::Response {
            diagnostics,
        })
    }

    async fn read_resource(
        &self,
        r: Request<pb::read_resource::Request>,
    ) -> RpcResult<pb::read_resource::Response> {
        let r = r.into_inner();
        let entry = registered!(self.resources, &r.type_name);
        let res = &entry.imp;
        let schema = &entry.schema;
        let ty = &entry.ty;
        let state = decode(r.current_state.as_ref(), ty)?;
        let out = res.read(&self.ctx(), &state, &r.private).await;
        let mut new_state = out.state.unwrap_or(Value::Null);
        schema.block.null_write_only(&mut new_state);
        Ok(Response::new(pb::read_resource::Response {
            new_state: Some(dv(&new_state, ty)?),
            diagnostics: out.diagnostics.to_proto(),
            private: out.private,
            ..Default::default()
        }))
    }

    async fn plan_resource_change(
        &self,
        r: Request<pb::plan_resource_change::Request>,
    ) -> RpcResult<pb::plan_resource_change::Response> {
        let r = r.into_inner();
        let entry = registered!(self.resources, &r.type_name);
        let res = &entry.imp;
        let schema = &entry.schema;
        let ty = &entry.ty;
        let prior = decode(r.prior_state.as_ref(), ty)?;
        let proposed = decode(r.proposed_new_state.as_ref(), ty)?;
        let config = decode(r.config.as_ref(), ty)?;
        if proposed.is_null() {
            let diags = res.plan_destroy(&prior).await;
            return Ok(Response::new(pb::plan_resource_change::Response {
                planned_state: Some(dv(&Value::Null, ty)?),
                planned_private: r.prior_private,
                diagnostics: diags.to_proto(),
                ..Default::default()
            }));
        }
        let (plan, diags) = plan::plan(
            &self.ctx(),
            res.as_ref(),
            schema,
            prior,
            proposed,
            config,
            r.prior_private,
        )
        .await;
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: Some(dv(&plan.planned, ty)?),
            requires_replace: plan
                .requires_replace
                .iter()
                .map(AttributePath::to_proto)
                .collect(),
            planned_private: plan.private,
            diagnostics: diags.to_proto(),
            ..Default::default()
        }))
    }

    async fn apply_resource_change(
        &self,
        r: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        let r = r.into_inner();
        let entry = registered!(self.resources, &r.type_name);
        let res = &entry.imp;
        let schema = &entry.schema;
        let ty = &entry.ty;
        let prior = decode(r.prior_state.as_ref(), ty)?;
        let planned = decode(r.planned_state.as_ref(), ty)?;
        let config = decode(r.config.as_ref(), ty)?;
        let ctx = self.ctx();
        let (state, private, diags) = if planned.is_null() {
            let diags = res.delete(&ctx, &prior, &r.planned_private).await;
            // A failed delete keeps the object in state.
            let state = if diags.has_errors() {
                prior
            } else {
                Value::Null
            };
            (state, r.planned_private, diags)
        } else {
            let out = if prior.is_null() {
                res.create(&ctx, &planned, &config, &r.planned_private)
                    .await
            } else {
                res.update(&ctx, &prior, &planned, &config, &r.planned_private)
                    .await
            };
            let fallback = if prior.is_null() { Value::Null } else { prior };
            (out.state.unwrap_or(fallback), out.private, out.diagnostics)
        };
        let mut state = state;
        schema.block.null_write_only(&mut state);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: Some(dv(&state, ty)?),
            private,
            diagnostics: diags.to_proto(),
            ..Default::default()
        }))
    }

    async fn import_resource_state(
        &self,
        r: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        let r = r.into_inner();
        let entry = registered!(self.resources, &r.type_name);
        let res = &entry.imp;
        let schema = &entry.schema;
        let ty = &entry.ty;
        let out = res.import(&self.ctx(), &r.id).await;
        let imported_resources = match out.state {
            Some(mut state) if !out.diagnostics.has_errors() => {
                schema.block.null_write_only(&mut state);
                vec![pb::import_resource_state::ImportedResource {
                    type_name: r.type_name.clone(),
                    state: Some(dv(&state, ty)?),
                    private: out.private,
                    identity: None,
                }]
            }
            _ => vec![],
        };
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources,
            diagnostics: out.diagnostics.to_proto(),
            deferred: None,
        }))
    }

    async fn read_data_source(
        &self,
        r: Request<pb::read_data_source::Request>,
    ) -> RpcResult<pb::read_data_source::Response> {
        let r = r.into_inner();
        let entry = registered!(self.data_sources, &r.type_name);
        let ds = &entry.imp;
        let ty = &entry.ty;
        let config = decode(r.config.as_ref(), ty)?;
        let out = ds.read(&self.ctx(), &config).await;
        Ok(Response::new(pb::read_data_source::Response {
            state: Some(dv(&out.state.unwrap_or(Value::Null), ty)?),
            diagnostics: out.diagnostics.to_proto(),
            deferred: None,
        }))
    }

    async fn stop_provider(
        &self,
        _r: Request<pb::stop_provider::Request>,
    ) -> RpcResult<pb::stop_provider::Response> {
        let mut guard = self.cancel.lock().expect("cancel lock");
        guard.cancel();
        *guard = CancellationToken::new();
        tracing::info!("StopProvider: cancelling in-flight operations");
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }

    unimplemented_rpcs! {
        upgrade_resource_identity(pb::upgrade_resource_identity::Request) -> pb::upgrade_resource_identity::Response;
        move_resource_state(pb::move_resource_state::Request) -> pb::move_resource_state::Response;
        generate_resource_config(pb::generate_resource_config::Request) -> pb::generate_resource_config::Response;
        validate_ephemeral_resource_config(pb::validate_ephemeral_resource_config::Request) -> pb::validate_ephemeral_resource_config::Response;
        open_ephemeral_resource(pb::open_ephemeral_resource::Request) -> pb::open_ephemeral_resource::Response;
        renew_ephemeral_resource(pb::renew_ephemeral_resource::Request) -> pb::renew_ephemeral_resource::Response;
        close_ephemeral_resource(pb::close_ephemeral_resource::Request) -> pb::close_ephemeral_resource::Response;
        list_resource(pb::list_resource::Request) -> Self::ListResourceStream;
        validate_list_resource_config(pb::validate_list_resource_config::Request) -> pb::validate_list_resource_config::Response;
        call_function(pb::call_function::Request) -> pb::call_function::Response;
        validate_state_store_config(pb::validate_state_store::Request) -> pb::validate_state_store::Response;
        configure_state_store(pb::configure_state_store::Request) -> pb::configure_state_store::Response;
        read_state_bytes(pb::read_state_bytes::Request) -> Self::ReadStateBytesStream;
        get_states(pb::get_states::Request) -> pb::get_states::Response;
        delete_state(pb::delete_state::Request) -> pb::delete_state::Response;
        plan_action(pb::plan_action::Request) -> pb::plan_action::Response;
        invoke_action(pb::invoke_action::Request) -> Self::InvokeActionStream;
        validate_action_config(pb::validate_action_config::Request) -> pb::validate_action_config::Response;
    }

    async fn get_resource_identity_schemas(
        &self,
        _r: Request<pb::get_resource_identity_schemas::Request>,
    ) -> RpcResult<pb::get_resource_identity_schemas::Response> {
        // No resource has an identity: an empty map says so to every Terraform version.
        Ok(Response::new(
            pb::get_resource_identity_schemas::Response::default(),
        ))
    }

    async fn get_functions(
        &self,
        _r: Request<pb::get_functions::Request>,
    ) -> RpcResult<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn write_state_bytes(
        &self,
        _r: Request<tonic::Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> RpcResult<pb::write_state_bytes::Response> {
        Err(Status::unimplemented(
            "write_state_bytes is not supported by this provider",
        ))
    }
}
