//! Rust types for the Terraform plugin protocol 6.10 (`tfplugin6`) and the go-plugin services
//! (`plugin`: controller, stdio, broker) that Terraform's plugin client talks to.
//!
//! The `.proto` files in `proto/proto/` are ours; the Rust code in `src/generated/` is produced from
//! them by `cargo run -p stagesub-proto-codegen` (protox + tonic-prost-build, no system `protoc`) and
//! committed. `scripts/test.sh` runs the generator with `--check`, so stale output fails CI.

#![allow(
    missing_docs,
    unreachable_pub,
    missing_debug_implementations,
    clippy::all
)]

/// Terraform plugin protocol 6.10 messages, `Provider` client and server.
pub mod tfplugin6 {
    include!("generated/tfplugin6.rs");
}

/// go-plugin's `GRPCController`, `GRPCStdio` and `GRPCBroker` services.
pub mod plugin {
    include!("generated/plugin.rs");
}
