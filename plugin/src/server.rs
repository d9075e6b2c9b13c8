//! `tfplugin6.Provider` served over gRPC: decodes requests, applies the framework's rules around the
//! resource code, and encodes answers. RPCs the framework does not support answer `Unimplemented`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use stagesub_tfplugin6::tfplugin6 as pb;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::codec;
use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::resource::{Context, DataSource, Plan, Provider, Resource};
use crate::schema::Schema;
use crate::types::Type;
use crate::value::Value;

/// Serves one [`Provider`] over tfplugin6.
pub struct ProviderService {
    provider: Arc<dyn Provider>,
    resources: HashMap<String, (Arc<dyn Resource>, Schema, Type)>,
    data_sources: HashMap<String, (Arc<dyn DataSource>, Schema, Type)>,
    provider_schema: Schema,
    /// Replaced after each `StopProvider` so later calls are not born cancelled.
    cancel: Mutex<CancellationToken>,
}

impl std::fmt::Debug for ProviderService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderService")
            .field("resources", &self.resources.keys())
            .finish_non_exhaustive()
    }
}

type RpcResult<T> = Result<Response<T>, Status>;

fn dv(value: &Value, ty: &Type) -> Result<pb::DynamicValue, Status> {
    let msgpack = codec::to_msgpack(value, ty)
        .map_err(|e| Status::internal(format!("encoding a value: {e}")))?;
    Ok(pb::DynamicValue {
        msgpack,
        json: Vec::new(),
    })
}

fn decode(v: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, Status> {
    let Some(v) = v else { return Ok(Value::Null) };
    if !v.msgpack.is_empty() {
        codec::from_msgpack(&v.msgpack, ty)
            .map_err(|e| Status::invalid_argument(format!("decoding msgpack: {e}")))
    } else if !v.json.is_empty() {
        codec::from_json(&v.json, ty)
            .map_err(|e| Status::invalid_argument(format!("decoding JSON: {e}")))
    } else {
        Ok(Value::Null)
    }
}

fn unknown_type(kind: &str, name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {kind} type"),
        format!("This provider has no {kind} type {name:?}. Check the spelling and the provider version."),
    )
    .into()
}

impl ProviderService {
    /// Collects the provider's schemas once, at start-up.
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                let s = r.schema();
                let t = s.value_type();
                (r.type_name().to_string(), (r, s, t))
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let s = d.schema();
                let t = s.value_type();
                (d.type_name().to_string(), (d, s, t))
            })
            .collect();
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

    /// The framework's share of planning: defaults, unknowns for computed values, write-only nulling,
    /// requires-replace; then the resource's own refinement.
    async fn plan(
        &self,
        r: &dyn Resource,
        schema: &Schema,
        prior: Value,
        proposed: Value,
        config: Value,
        private: Vec<u8>,
    ) -> (Plan, Diagnostics) {
        let mut planned = proposed;
        let is_create = prior.is_null();
        let mut changed = false;
        for a in &schema.block.attributes {
            let cfg = config.attr(&a.name);
            if a.write_only {
                planned.set_attr(&a.name, Value::Null);
                continue;
            }
            if a.computed && cfg.is_null() {
                if let Some(d) = &a.default {
                    planned.set_attr(&a.name, d.clone());
                } else if is_create {
                    planned.set_attr(&a.name, Value::Unknown);
                }
            }
            if !is_create
                && (a.optional || a.required)
                && planned.attr(&a.name) != prior.attr(&a.name)
            {
                changed = true;
            }
        }
        for b in &schema.block.blocks {
            if !is_create && planned.attr(&b.type_name) != prior.attr(&b.type_name) {
                changed = true;
            }
        }
        let mut requires_replace = Vec::new();
        if !is_create {
            for a in &schema.block.attributes {
                let cfg = config.attr(&a.name);
                if changed
                    && a.computed
                    && cfg.is_null()
                    && a.default.is_none()
                    && !a.use_state_for_unknown
                {
                    planned.set_attr(&a.name, Value::Unknown);
                }
                if a.requires_replace && planned.attr(&a.name) != prior.attr(&a.name) {
                    requires_replace.push(AttributePath::root(&a.name));
                }
            }
        }
        let mut plan = Plan {
            prior,
            config,
            planned,
            requires_replace,
            private,
        };
        let diags = r.modify_plan(&self.ctx(), &mut plan).await;
        schema.block.null_write_only(&mut plan.planned);
        (plan, diags)
    }
}

fn resp_diags<T>(diags: &Diagnostics, f: impl FnOnce(Vec<pb::Diagnostic>) -> T) -> RpcResult<T> {
    Ok(Response::new(f(diags.to_proto())))
}

macro_rules! unimplemented_rpcs {
    ($($name:ident($req:ty) -> $resp:ty;)*) => {
        $(
            // Written out as async_trait would expand it: attribute macros do not see inside macro_rules.
            fn $name<'life0, 'async_trait>(
                &'life0 self,
                _request: Request<$req>,
            ) -> std::pin::Pin<Box<dyn std::future::Future<Output = RpcResult<$resp>> + Send + 'async_trait>>
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                Box::pin(async move {
                    Err(Status::unimplemented(concat!(stringify!($name), " is not supported by this provider")))
                })
            }
        )*
    };
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
                .keys()
                .map(|k| pb::get_metadata::ResourceMetadata {
                    type_name: k.clone(),
                })
                .collect(),
            data_sources: self
                .data_sources
                .keys()
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
            resource_schemas: self
                .resources
                .iter()
                .map(|(k, (_, s, _))| (k.clone(), s.to_proto()))
                .collect(),
            data_source_schemas: self
                .data_sources
                .iter()
                .map(|(k, (_, s, _))| (k.clone(), s.to_proto()))
                .collect(),
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
        let Some((res, schema, ty)) = self.resources.get(&r.type_name) else {
            return resp_diags(&unknown_type("resource", &r.type_name), |diagnostics| {
                pb::validate_resource_config::Response { diagnostics }
            });
        };
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
        let Some((_, schema, ty)) = self.data_sources.get(&r.type_name) else {
            return resp_diags(&unknown_type("data source", &r.type_name), |diagnostics| {
                pb::validate_data_resource_config::Response { diagnostics }
            });
        };
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
        let Some((_, schema, ty)) = self.resources.get(&r.type_name) else {
            return resp_diags(&unknown_type("resource", &r.type_name), |diagnostics| {
                pb::upgrade_resource_state::Response {
                    upgraded_state: None,
                    diagnostics,
                }
            });
        };
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
        let Some((res, schema, ty)) = self.resources.get(&r.type_name) else {
            return resp_diags(&unknown_type("resource", &r.type_name), |diagnostics| {
                pb::read_resource::Response {
                    diagnostics,
                    ..Default::default()
                }
            });
        };
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
        let Some((res, schema, ty)) = self.resources.get(&r.type_name) else {
            return resp_diags(&unknown_type("resource", &r.type_name), |diagnostics| {
                pb::plan_resource_change::Response {
                    diagnostics,
                    ..Default::default()
                }
            });
        };
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
        let (plan, diags) = self
            .plan(
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
        let Some((res, schema, ty)) = self.resources.get(&r.type_name) else {
            return resp_diags(&unknown_type("resource", &r.type_name), |diagnostics| {
                pb::apply_resource_change::Response {
                    diagnostics,
                    ..Default::default()
                }
            });
        };
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
        let Some((res, schema, ty)) = self.resources.get(&r.type_name) else {
            return resp_diags(&unknown_type("resource", &r.type_name), |diagnostics| {
                pb::import_resource_state::Response {
                    diagnostics,
                    ..Default::default()
                }
            });
        };
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
        let Some((ds, _, ty)) = self.data_sources.get(&r.type_name) else {
            return resp_diags(&unknown_type("data source", &r.type_name), |diagnostics| {
                pb::read_data_source::Response {
                    diagnostics,
                    ..Default::default()
                }
            });
        };
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
