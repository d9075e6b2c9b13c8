//! The provider's resources and data sources by type name, each with its schema and value type
//! collected once at start-up, and the one look-up every RPC uses.

use std::collections::HashMap;
use std::sync::Arc;

use stagesub_tfplugin6::tfplugin6 as pb;
use tonic::Response;

use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::Schema;
use crate::types::Type;

/// One resource or data source type: the implementation, its schema and the schema's value type.
pub(super) struct Registered<T: ?Sized> {
    /// The provider's implementation.
    pub(super) imp: Arc<T>,
    /// Its schema.
    pub(super) schema: Schema,
    /// The value type of its schema (what requests decode to).
    pub(super) ty: Type,
}

/// The types of one kind (`resource` or `data source`) by name.
pub(super) struct Registry<T: ?Sized> {
    kind: &'static str,
    by_name: HashMap<String, Registered<T>>,
}

impl<T: ?Sized> Registry<T> {
    /// Collects `items` (type name, implementation, schema), computing each value type once.
    pub(super) fn new(
        kind: &'static str,
        items: impl IntoIterator<Item = (String, Arc<T>, Schema)>,
    ) -> Self {
        let by_name = items
            .into_iter()
            .map(|(name, imp, schema)| {
                let ty = schema.value_type();
                (name, Registered { imp, schema, ty })
            })
            .collect();
        Registry { kind, by_name }
    }

    /// The type called `type_name`, or the answer that says this provider has no such type.
    pub(super) fn get<A: Answer>(&self, type_name: &str) -> Result<&Registered<T>, Response<A>> {
        self.by_name.get(type_name).ok_or_else(|| {
            let d: Diagnostics = Diagnostic::error(
                format!("Unknown {} type", self.kind),
                format!(
                    "This provider has no {} type {type_name:?}. Check the spelling and the provider version.",
                    self.kind
                ),
            )
            .into();
            Response::new(A::with_diagnostics(d.to_proto()))
        })
    }

    /// The type names.
    pub(super) fn names(&self) -> impl Iterator<Item = &String> {
        self.by_name.keys()
    }

    /// Every type's schema, in protocol form.
    pub(super) fn schemas(&self) -> HashMap<String, pb::Schema> {
        self.by_name
            .iter()
            .map(|(name, r)| (name.clone(), r.schema.to_proto()))
            .collect()
    }
}

/// An RPC response that can answer with diagnostics alone.
pub(super) trait Answer {
    /// The response holding only `diagnostics`.
    fn with_diagnostics(diagnostics: Vec<pb::Diagnostic>) -> Self;
}

macro_rules! answers {
    ($($rpc:ident),* $(,)?) => {
        $(
            impl Answer for pb::$rpc::Response {
                fn with_diagnostics(diagnostics: Vec<pb::Diagnostic>) -> Self {
                    let mut answer = Self::default();
                    answer.diagnostics = diagnostics;
                    answer
                }
            }
        )*
    };
}

answers!(
    validate_resource_config,
    validate_data_resource_config,
    upgrade_resource_state,
    read_resource,
    plan_resource_change,
    apply_resource_change,
    import_resource_state,
    read_data_source,
);

/// The registered type named in a request, or an early return with the "unknown type" answer.
macro_rules! registered {
    ($registry:expr, $type_name:expr) => {
        match $registry.get($type_name) {
            Ok(entry) => entry,
            Err(answer) => return Ok(answer),
        }
    };
}

pub(super) use registered;
