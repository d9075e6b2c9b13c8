//! Who is looking at the console: password sessions (`CONSOLE_USERS`, argon2), or a user name set by a
//! trusted proxy (`CONSOLE_TRUST_PROXY_HEADER`, believed only from `CONSOLE_TRUSTED_PROXIES`).
//!
//! Sessions live in the database (`console_sessions`); the cookie carries a random 256-bit token and
//! the table only its SHA-256. The cookie is `HttpOnly`, `SameSite=Strict`, `Path=/console`, and
//! `Secure` unless the bridge is bound to a loopback address. Every session has its CSRF token,
//! which each form sends back (a POST without it, or with another, is refused with 403). Password
//! logins are limited per user name and client address ([`MAX_LOGIN_FAILURES`] failures per
//! [`LOGIN_WINDOW_SECS`]), counted in the database, so every replica sees them.

use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::config::ConsoleConfig;
use crate::error::Error;
use crate::store::{self, ConsoleSession, Store};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "stagesub_console";
/// Name of the login form's CSRF cookie (double submit: before a session exists).
pub const LOGIN_COOKIE: &str = "stagesub_console_login";
/// How long a session lasts.
pub const SESSION_SECS: i64 = 12 * 3600;
/// Failed logins allowed per user name and address within [`LOGIN_WINDOW_SECS`].
pub const MAX_LOGIN_FAILURES: i64 = 5;
/// The rate limit's window.
pub const LOGIN_WINDOW_SECS: i64 = 15 * 60;

/// Hashes a password for `CONSOLE_USERS` (argon2id, the crate's default cost, a random salt).
pub fn hash_password(password: &str) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("cannot hash the password: {e}")))
}

/// True when `password` matches the PHC `hash`.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash no password is known for: unknown users cost as much time as known ones.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

/// Checks a user name and password against `CONSOLE_USERS`, in about the same time whether or not
/// the user exists.
pub fn check_credentials(config: &ConsoleConfig, username: &str, password: &str) -> bool {
    match config.users.iter().find(|u| u.name == username) {
        Some(user) => verify_password(&user.hash, password),
        None => {
            let _ = verify_password(decoy_hash(), password);
            false
        }
    }
}

/// 256 random bits, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex::encode(bytes)
}

/// What the table keeps of a token.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Equal in constant time.
pub fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value for the console (`max_age` 0 deletes it).
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// The signed-in console user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// User name (from `CONSOLE_USERS`, or the trusted proxy's header).
    pub username: String,
    /// The session's CSRF token, put in every form.
    pub csrf_token: String,
    /// `password` or `proxy`.
    pub auth: String,
    /// A new session cookie to send (a proxy user's first request).
    pub new_cookie: Option<String>,
}

/// The user name a trusted proxy vouches for: only from a peer inside `CONSOLE_TRUSTED_PROXIES`, and
/// only a printable name of at most 128 characters.
pub fn proxy_user(
    config: &ConsoleConfig,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Option<String> {
    let header = config.proxy_header.as_deref()?;
    let value = headers.get(header)?.to_str().ok()?.trim();
    let trusted = peer.is_some_and(|ip| config.trusted_proxies.iter().any(|c| c.contains(ip)));
    if !trusted {
        tracing::warn!(peer = ?peer, header, "console: proxy user header from an untrusted peer ignored");
        return None;
    }
    let ok =
        !value.is_empty() && value.chars().count() <= 128 && !value.chars().any(char::is_control);
    ok.then(|| value.to_owned())
}

/// Finds who is asking: a session cookie (a proxy session only while the proxy still vouches for the
/// same user), else a trusted proxy's header (a session is then made, for the CSRF token).
pub async fn viewer(
    store: &Store,
    config: &ConsoleConfig,
    secure: bool,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<Option<Viewer>, Error> {
    let vouched = proxy_user(config, headers, peer.map(|p| p.ip()));
    let client = store.client().await?;
    if let Some(token) = cookie(headers, SESSION_COOKIE)
        && let Some(session) = store::load_session(&**client, &token_sha256(&token)).await?
    {
        let valid = match session.auth.as_str() {
            "proxy" => vouched.as_deref() == Some(session.username.as_str()),
            _ => config.users.iter().any(|u| u.name == session.username),
        };
        if valid {
            return Ok(Some(Viewer {
                username: session.username,
                csrf_token: session.csrf_token,
                auth: session.auth,
                new_cookie: None,
            }));
        }
    }
    let Some(username) = vouched else {
        return Ok(None);
    };
    let (token, session) = new_session(&username, "proxy");
    store::create_session(&**client, &token_sha256(&token), &session, SESSION_SECS).await?;
    Ok(Some(Viewer {
        username,
        csrf_token: session.csrf_token,
        auth: session.auth,
        new_cookie: Some(set_cookie(SESSION_COOKIE, &token, SESSION_SECS, secure)),
    }))
}

/// A fresh session for `username`: (cookie token, stored session).
pub fn new_session(username: &str, auth: &str) -> (String, ConsoleSession) {
    (
        random_token(),
        ConsoleSession {
            username: username.to_owned(),
            auth: auth.to_owned(),
            csrf_token: random_token(),
        },
    )
}
