//! Schemas: attributes and blocks with descriptions, plus the behaviour the framework applies to them
//! (requires-replace, use-state-for-unknown, defaults, validators) and config validation that Terraform
//! core does not do (missing required values, values set on computed-only attributes).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use stagesub_tfplugin6::tfplugin6 as pb;

use crate::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::types::Type;
use crate::value::Value;

/// Checks a known, non-null attribute value; returns what is wrong with it.
pub type Validator = Arc<dyn Fn(&Value) -> Result<(), String> + Send + Sync>;

/// One attribute of a block.
#[derive(Clone)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// Markdown description (shown in docs and `providers schema -json`).
    pub description: String,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// The provider may set it.
    pub computed: bool,
    /// Hidden in plan output.
    pub sensitive: bool,
    /// Never stored in state or plan (Terraform >= 1.11).
    pub write_only: bool,
    /// Deprecated.
    pub deprecated: bool,
    /// A change forces replacement of the resource.
    pub requires_replace: bool,
    /// On update, keep the prior value instead of showing "(known after apply)".
    pub use_state_for_unknown: bool,
    /// Value planned when configuration leaves the attribute null (optional + computed).
    pub default: Option<Value>,
    /// Validators run on known values.
    pub validators: Vec<Validator>,
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("ty", &self.ty)
            .finish_non_exhaustive()
    }
}

impl Attribute {
    /// A new attribute of type `ty`; choose required/optional/computed with the builder methods.
    pub fn new(name: &str, ty: Type) -> Self {
        Attribute {
            name: name.to_string(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecated: false,
            requires_replace: false,
            use_state_for_unknown: false,
            default: None,
            validators: Vec::new(),
        }
    }

    /// A string attribute.
    pub fn string(name: &str) -> Self {
        Self::new(name, Type::String)
    }

    /// A bool attribute.
    pub fn bool(name: &str) -> Self {
        Self::new(name, Type::Bool)
    }

    /// A number attribute.
    pub fn number(name: &str) -> Self {
        Self::new(name, Type::Number)
    }

    /// Sets the description.
    pub fn description(mut self, d: &str) -> Self {
        self.description = d.to_string();
        self
    }

    /// Must be set.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// May be set.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Set by the provider.
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    /// Hidden in output.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Never stored.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// Changes force replacement.
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }

    /// Keep the prior value on update.
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }

    /// Optional + computed with this default.
    pub fn default(mut self, v: impl Into<Value>) -> Self {
        self.optional = true;
        self.computed = true;
        self.default = Some(v.into());
        self
    }

    /// Adds a validator.
    pub fn validate(
        mut self,
        f: impl Fn(&Value) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.validators.push(Arc::new(f));
        self
    }

    /// Computed and never set in configuration.
    pub fn is_computed_only(&self) -> bool {
        self.computed && !self.optional && !self.required
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        pb::schema::Attribute {
            name: self.name.clone(),
            r#type: self.ty.to_json_bytes(),
            nested_type: None,
            description: self.description.clone(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: self.deprecated,
            write_only: self.write_only,
        }
    }
}

/// How a nested block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one, an object (null when absent).
    Single,
    /// A list of objects.
    List,
    /// A set of objects.
    Set,
}

/// A nested block such as `timeouts { ... }`.
#[derive(Debug, Clone)]
pub struct NestedBlock {
    /// Block type name.
    pub type_name: String,
    /// Its content.
    pub block: Block,
    /// How it repeats.
    pub nesting: Nesting,
    /// Minimum count (List/Set).
    pub min_items: i64,
    /// Maximum count (List/Set), 0 for no limit.
    pub max_items: i64,
}

/// A block: attributes and nested blocks.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// Attributes.
    pub attributes: Vec<Attribute>,
    /// Nested blocks.
    pub blocks: Vec<NestedBlock>,
    /// Markdown description.
    pub description: String,
}

impl Block {
    /// An empty block with a description.
    pub fn new(description: &str) -> Self {
        Block {
            description: description.to_string(),
            ..Default::default()
        }
    }

    /// Adds an attribute.
    pub fn attribute(mut self, a: Attribute) -> Self {
        self.attributes.push(a);
        self
    }

    /// Adds a nested block.
    pub fn block(mut self, b: NestedBlock) -> Self {
        self.blocks.push(b);
        self
    }

    /// Looks up an attribute.
    pub fn get(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The object type of a value of this block.
    pub fn value_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()))
            .collect();
        for b in &self.blocks {
            let inner = b.block.value_type();
            let t = match b.nesting {
                Nesting::Single => inner,
                Nesting::List => Type::list(inner),
                Nesting::Set => Type::set(inner),
            };
            attrs.insert(b.type_name.clone(), t);
        }
        Type::Object(attrs)
    }

    fn to_proto(&self, version: i64) -> pb::schema::Block {
        pb::schema::Block {
            version,
            attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
            block_types: self
                .blocks
                .iter()
                .map(|b| pb::schema::NestedBlock {
                    type_name: b.type_name.clone(),
                    block: Some(b.block.to_proto(0)),
                    nesting: match b.nesting {
                        Nesting::Single => pb::schema::nested_block::NestingMode::Single,
                        Nesting::List => pb::schema::nested_block::NestingMode::List,
                        Nesting::Set => pb::schema::nested_block::NestingMode::Set,
                    } as i32,
                    min_items: b.min_items,
                    max_items: b.max_items,
                })
                .collect(),
            description: self.description.clone(),
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: false,
        }
    }

    /// Checks a configuration value against this block: required values present, computed-only
    /// attributes not set, validators satisfied, block counts within bounds.
    pub fn validate_config(&self, config: &Value, path: &AttributePath, diags: &mut Diagnostics) {
        for a in &self.attributes {
            let v = config.attr(&a.name);
            let p = if path.0.is_empty() {
                AttributePath::root(&a.name)
            } else {
                path.attr(&a.name)
            };
            if a.required && v.is_null() {
                diags.push(
                    Diagnostic::error(
                        "Missing required argument",
                        format!("The argument \"{p}\" is required, but no definition was found. Set it in the configuration."),
                    )
                    .at(p.clone()),
                );
            }
            if a.is_computed_only() && !v.is_null() {
                diags.push(
                    Diagnostic::error(
                        "Value for unconfigurable attribute",
                        format!("\"{p}\" is set by the provider and cannot be configured. Remove it from the configuration."),
                    )
                    .at(p.clone()),
                );
            }
            if !v.is_null() && v.is_wholly_known() {
                for check in &a.validators {
                    if let Err(msg) = check(v) {
                        diags.push(
                            Diagnostic::error(format!("Invalid value for \"{p}\""), msg)
                                .at(p.clone()),
                        );
                    }
                }
            }
        }
        for b in &self.blocks {
            let v = config.attr(&b.type_name);
            let p = if path.0.is_empty() {
                AttributePath::root(&b.type_name)
            } else {
                path.attr(&b.type_name)
            };
            match (b.nesting, v) {
                (Nesting::Single, obj @ Value::Object(_)) => {
                    b.block.validate_config(obj, &p, diags)
                }
                (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items)) => {
                    let n = items.len() as i64;
                    if n < b.min_items || (b.max_items > 0 && n > b.max_items) {
                        diags.push(
                            Diagnostic::error(
                                format!("Wrong number of \"{}\" blocks", b.type_name),
                                format!(
                                    "Between {} and {} blocks are allowed; found {n}.",
                                    b.min_items, b.max_items
                                ),
                            )
                            .at(p.clone()),
                        );
                    }
                    for (i, item) in items.iter().enumerate() {
                        b.block.validate_config(item, &p.index(i as i64), diags);
                    }
                }
                _ => {}
            }
        }
    }

    /// Sets every write-only attribute (at any depth) to null: they must never reach state or plan.
    pub fn null_write_only(&self, value: &mut Value) {
        let Value::Object(m) = value else { return };
        for a in self.attributes.iter().filter(|a| a.write_only) {
            m.insert(a.name.clone(), Value::Null);
        }
        for b in &self.blocks {
            match m.get_mut(&b.type_name) {
                Some(v @ Value::Object(_)) => b.block.null_write_only(v),
                Some(Value::List(items) | Value::Set(items)) => {
                    items.iter_mut().for_each(|i| b.block.null_write_only(i))
                }
                _ => {}
            }
        }
    }
}

/// A resource, data source or provider schema.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// State schema version.
    pub version: i64,
    /// Top-level block.
    pub block: Block,
}

impl Schema {
    /// The protocol form.
    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(self.block.to_proto(self.version)),
        }
    }

    /// The object type of values of this schema.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}
