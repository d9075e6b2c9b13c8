//! The sealed `secret` column: 12-byte nonce ‖ AES-256-GCM ciphertext ‖ 16-byte tag, associated
//! data = the subdomain's UTF-8 bytes, plaintext = `{"database_url": …, "pooler_url": …,
//! "anon_key": …}` (the last two omitted when absent).

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::DirectoryKeys;

/// Length of the nonce that starts a sealed secret.
pub const NONCE_LEN: usize = 12;
/// Length of the GCM tag that ends a sealed secret.
pub const TAG_LEN: usize = 16;

/// A string that never shows itself: `Debug` prints `***` and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(Zeroizing<String>);

impl Sensitive {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The value itself; the call sites are the places to audit.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What the app needs to reach a tenant: sealed into the `secret` column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSecret {
    /// The tenant database's URL (session mode, with its password).
    pub database_url: Sensitive,
    /// Supabase's pooler URL, where the backend has one.
    pub pooler_url: Option<Sensitive>,
    /// Supabase's `anon` API key, where the backend has one.
    pub anon_key: Option<Sensitive>,
}

#[derive(Serialize, Deserialize)]
struct Plain<'a> {
    database_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pooler_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    anon_key: Option<&'a str>,
}

/// Seals `secret` for `subdomain` with the first of `keys`: a fresh random nonce each time.
pub fn seal(keys: &DirectoryKeys, subdomain: &str, secret: &TenantSecret) -> Result<Vec<u8>> {
    let plain = Plain {
        database_url: secret.database_url.expose(),
        pooler_url: secret.pooler_url.as_ref().map(Sensitive::expose),
        anon_key: secret.anon_key.as_ref().map(Sensitive::expose),
    };
    let json = Zeroizing::new(serde_json::to_vec(&plain).map_err(|e| Error::Seal(e.to_string()))?);
    let cipher = Aes256Gcm::new_from_slice(&keys.current().bytes[..])
        .map_err(|_| Error::Seal("bad key length".into()))?;
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: &json,
                aad: subdomain.as_bytes(),
            },
        )
        .map_err(|_| Error::Seal("AES-GCM encryption failed".into()))?;
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a sealed secret of `subdomain`, trying the key named `key_id` first and then the others.
/// Returns the secret and the position of the key that opened it (0 = current), or `None` when no
/// key opens it (another key, a tampered value, or a secret copied from another subdomain).
pub fn open(
    keys: &DirectoryKeys,
    subdomain: &str,
    key_id: Option<&str>,
    sealed: &[u8],
) -> Option<(TenantSecret, usize)> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    let nonce = Nonce::from(nonce);
    let mut order: Vec<usize> = (0..keys.all().len()).collect();
    // The named key first: a stale `key_id` costs one more attempt, never a wrong answer.
    order.sort_by_key(|&i| Some(keys.all()[i].id.as_str()) != key_id);
    order.into_iter().find_map(|index| {
        let cipher = Aes256Gcm::new_from_slice(&keys.all()[index].bytes[..]).ok()?;
        let json = Zeroizing::new(
            cipher
                .decrypt(
                    &nonce,
                    Payload {
                        msg: body,
                        aad: subdomain.as_bytes(),
                    },
                )
                .ok()?,
        );
        let plain: Plain<'_> = serde_json::from_slice(&json).ok()?;
        let secret = TenantSecret {
            database_url: Sensitive::new(plain.database_url),
            pooler_url: plain.pooler_url.map(Sensitive::new),
            anon_key: plain.anon_key.map(Sensitive::new),
        };
        Some((secret, index))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[u8]) -> DirectoryKeys {
        let raw: Vec<[u8; 32]> = list.iter().map(|b| [*b; 32]).collect();
        DirectoryKeys::from_bytes(&raw).unwrap()
    }

    fn secret() -> TenantSecret {
        TenantSecret {
            database_url: Sensitive::new("postgres://u:pw@db/x"),
            pooler_url: None,
            anon_key: Some(Sensitive::new("anon")),
        }
    }

    #[test]
    fn seals_with_the_layout_and_opens_with_any_key() {
        let sealed = seal(&keys(&[1]), "mozart-phil", &secret()).unwrap();
        let json = br#"{"database_url":"postgres://u:pw@db/x","anon_key":"anon"}"#;
        assert_eq!(sealed.len(), NONCE_LEN + json.len() + TAG_LEN);
        assert_eq!(
            seal(&keys(&[1]), "mozart-phil", &secret()).unwrap()[..NONCE_LEN].len(),
            12
        );
        assert_ne!(seal(&keys(&[1]), "mozart-phil", &secret()).unwrap(), sealed);
        let (opened, index) = open(&keys(&[2, 1]), "mozart-phil", None, &sealed).unwrap();
        assert_eq!((opened, index), (secret(), 1));
    }

    #[test]
    fn refuses_other_subdomains_tampering_and_unknown_keys() {
        let sealed = seal(&keys(&[1]), "mozart-phil", &secret()).unwrap();
        assert!(open(&keys(&[1]), "bach-choir", None, &sealed).is_none());
        assert!(open(&keys(&[2]), "mozart-phil", None, &sealed).is_none());
        for i in [0, NONCE_LEN, sealed.len() - 1] {
            let mut tampered = sealed.clone();
            tampered[i] ^= 1;
            assert!(open(&keys(&[1]), "mozart-phil", None, &tampered).is_none());
        }
        assert!(open(&keys(&[1]), "mozart-phil", None, &sealed[..20]).is_none());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let debug = format!("{:?}", secret());
        assert!(
            !debug.contains("pw") && !debug.contains("anon\""),
            "{debug}"
        );
    }
}
