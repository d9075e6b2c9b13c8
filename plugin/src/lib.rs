//! A framework for Terraform providers written in Rust, speaking plugin protocol 6 (tfplugin6).
//!
//! - [`serve`]: the go-plugin handshake (magic cookie, version negotiation, AutoMTLS, handshake line),
//!   the controller/stdio/broker/health services and `--debug` reattach mode.
//! - [`server`]: `tfplugin6.Provider` over tonic, applying the framework's planning rules.
//! - [`resource`]: the traits a provider implements ([`Provider`], [`Resource`], [`DataSource`]).
//! - [`schema`], [`types`], [`value`], [`codec`]: schemas with descriptions and behaviour, cty types,
//!   values (null / unknown aware), and the msgpack/JSON `DynamicValue` codec.
//! - [`diag`]: diagnostics with attribute paths; [`timeouts`]: the `timeouts` block;
//!   [`logging`]: hclog-JSON logs on stderr honouring `TF_LOG`/`TF_LOG_PROVIDER`.

pub mod codec;
pub mod diag;
pub mod logging;
pub mod resource;
pub mod schema;
pub mod serve;
pub mod server;
pub mod timeouts;
pub mod tls;
pub mod types;
pub mod value;

pub use diag::{AttributePath, Diagnostic, Diagnostics};
pub use resource::{Context, DataSource, Outcome, Plan, Provider, Resource};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Schema};
pub use types::Type;
pub use value::{Number, Value};
