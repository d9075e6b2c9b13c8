//! Postgres connections for stagesub: the migration engine, the provider and the bridge open their
//! sessions and pools here, so `sslmode`, certificate checks and password redaction work the same
//! everywhere.
//!
//! - [`connect`] opens a session-mode connection (`sslmode` from the URL, TLS with rustls,
//!   optional CA to verify the server; Prisma's `schema` parameter sets `search_path`;
//!   Supabase's transaction-mode pooler is refused); [`connect_settings`] builds the same driver
//!   configuration and rustls connector without connecting, for pools.
//! - [`redact_url`] replaces a URL's password by `***`; no [`Error`] ever carries one.
//!
//! `sslmode` follows libpq: `disable`, `prefer` (and `allow`), `require` (certificate checked
//! against the CA when one is given), `verify-ca`, `verify-full`. Without one in the URL, loopback
//! hosts use `prefer` and every other host `require`.
//!
//! Module map: `url` (parameters, redaction), `tls` (rustls configurations), `connect`, `error`.

mod connect;
mod error;
mod tls;
mod url;

pub use connect::{ConnectSettings, TlsOptions, connect, connect_settings};
pub use error::{Error, Result, describe};
pub use tokio_postgres::Client;
pub use url::{SslMode, redact_url};
