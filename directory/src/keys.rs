//! The directory's keys: parsed from a comma-separated list, the first one encrypts.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Length of a directory key in bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// The first 8 hex digits of the SHA-256 of `key`: names a key in the `key_id` column without
/// revealing it.
pub fn key_id(key: &[u8]) -> String {
    Sha256::digest(key)[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) struct Key {
    pub(crate) bytes: Zeroizing<[u8; KEY_LEN]>,
    pub(crate) id: String,
}

/// The keys of `STAGESUB_DIRECTORY_KEYS`: the first seals new secrets, every one opens them, so a
/// rotation puts the new key first and keeps the old ones until every row is re-encrypted.
///
/// `Debug` shows only the key ids.
pub struct DirectoryKeys {
    keys: Vec<Key>,
}

impl DirectoryKeys {
    /// Parses comma-separated base64 keys of 32 bytes each (standard or URL-safe alphabet, padding
    /// optional, spaces around commas ignored). Errors say which key is wrong and why, never what
    /// it contains.
    pub fn parse(list: &str) -> Result<Self> {
        if list.trim().is_empty() {
            return Err(Error::Keys(
                "no key given; set STAGESUB_DIRECTORY_KEYS (or directory_keys) to one or more \
                 comma-separated base64 keys of 32 bytes (make one with `openssl rand -base64 32`)"
                    .into(),
            ));
        }
        let parts: Vec<&str> = list.split(',').map(str::trim).collect();
        let total = parts.len();
        let mut keys = Vec::with_capacity(total);
        for (index, part) in parts.into_iter().enumerate() {
            let position = format!("key {} of {total}", index + 1);
            if part.is_empty() {
                return Err(Error::Keys(format!(
                    "{position} is empty; remove the extra comma"
                )));
            }
            let decoded = Zeroizing::new(decode(part).ok_or_else(|| {
                Error::Keys(format!(
                    "{position} is not base64 ({} characters); give each key as base64 of 32 \
                     random bytes (`openssl rand -base64 32`)",
                    part.len()
                ))
            })?);
            let bytes: [u8; KEY_LEN] = decoded.as_slice().try_into().map_err(|_| {
                Error::Keys(format!(
                    "{position} decodes to {} bytes; a directory key must be exactly {KEY_LEN} \
                     bytes (`openssl rand -base64 32`)",
                    decoded.len()
                ))
            })?;
            let id = key_id(&bytes);
            keys.push(Key {
                bytes: Zeroizing::new(bytes),
                id,
            });
        }
        Ok(Self { keys })
    }

    /// Keys from raw bytes, the first one encrypting (for callers that hold keys already).
    pub fn from_bytes(keys: &[[u8; KEY_LEN]]) -> Result<Self> {
        if keys.is_empty() {
            return Err(Error::Keys("no key given".into()));
        }
        Ok(Self {
            keys: keys
                .iter()
                .map(|k| Key {
                    bytes: Zeroizing::new(*k),
                    id: key_id(k),
                })
                .collect(),
        })
    }

    /// The id of the key that seals new secrets.
    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    /// The ids of every key, the current one first.
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    pub(crate) fn current(&self) -> &Key {
        &self.keys[0]
    }

    pub(crate) fn all(&self) -> &[Key] {
        &self.keys
    }
}

fn decode(text: &str) -> Option<Vec<u8>> {
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .into_iter()
        .find_map(|engine| engine.decode(text).ok())
}

impl fmt::Debug for DirectoryKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectoryKeys")
            .field("key_ids", &self.ids())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn parses_a_list_and_names_keys_by_hash() {
        let keys = DirectoryKeys::parse(&format!(" {K1} , {}", "A".repeat(43) + "=")).unwrap();
        assert_eq!(keys.ids().len(), 2);
        let raw: Vec<u8> = (0u8..32).collect();
        assert_eq!(keys.current_id(), key_id(&raw));
        assert_eq!(keys.current_id().len(), 8);
        // SHA-256 of bytes 0..32 starts with 630dcd29.
        assert_eq!(keys.current_id(), "630dcd29");
    }

    #[test]
    fn errors_name_the_key_but_never_print_it() {
        let short = "c2hvcnQta2V5LXNlY3JldA=="; // "short-key-secret"
        for (list, expect) in [
            ("", "no key given"),
            (&format!("{K1},,{K1}") as &str, "key 2 of 3 is empty"),
            (&format!("{K1},{short}"), "key 2 of 2 decodes to 16 bytes"),
            ("not*base64*secret", "key 1 of 1 is not base64"),
        ] {
            let message = DirectoryKeys::parse(list).unwrap_err().to_string();
            assert!(message.contains(expect), "{message}");
            assert!(
                !message.contains(short) && !message.contains("secret"),
                "{message}"
            );
            assert!(!message.contains(K1), "{message}");
        }
    }

    #[test]
    fn debug_shows_ids_only() {
        let keys = DirectoryKeys::parse(K1).unwrap();
        let debug = format!("{keys:?}");
        assert!(debug.contains("630dcd29") && !debug.contains(K1), "{debug}");
    }
}
