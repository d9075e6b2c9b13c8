//! HTTP: one router file per resource, assembled by [`app`](crate::app).

pub mod health;
pub mod tenants;
pub mod webhooks;
