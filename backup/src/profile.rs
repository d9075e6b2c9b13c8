//! The AWS shared credentials and config files (`~/.aws/credentials`, `~/.aws/config`), which
//! `object_store` does not read: static keys and the region of `AWS_PROFILE` (else `default`),
//! used only when the environment has no `AWS_ACCESS_KEY_ID` (or no region).

use std::collections::HashMap;
use std::path::PathBuf;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};

use crate::error::{BackupError, Result, Step};

/// Fills in credentials and region from the shared files when the environment lacks them.
pub(crate) fn apply(builder: AmazonS3Builder) -> Result<AmazonS3Builder> {
    apply_with(builder, |k| std::env::var(k).ok())
}

/// [`apply`] with the environment read through `lookup`.
fn apply_with(
    mut builder: AmazonS3Builder,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<AmazonS3Builder> {
    let env = |k: &str| lookup(k).filter(|v| !v.is_empty());
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".to_string());
    let home = env("HOME").map(PathBuf::from);
    let credentials_file = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".aws/credentials")));
    let config_file = env("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".aws/config")));
    let read = |path: &Option<PathBuf>, section: &str| {
        path.as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|text| ini_section(&text, section))
    };
    let creds = read(&credentials_file, &profile);
    // In the config file, profiles other than `default` are written `[profile name]`.
    let config_section = if profile == "default" {
        profile.clone()
    } else {
        format!("profile {profile}")
    };
    let config = read(&config_file, &config_section);

    if env("AWS_ACCESS_KEY_ID").is_none() {
        let pick = |k: &str| {
            creds
                .as_ref()
                .and_then(|s| s.get(k))
                .or_else(|| config.as_ref().and_then(|s| s.get(k)))
                .cloned()
        };
        match (pick("aws_access_key_id"), pick("aws_secret_access_key")) {
            (Some(id), Some(secret)) => {
                builder = builder
                    .with_access_key_id(id)
                    .with_secret_access_key(secret);
                if let Some(token) = pick("aws_session_token") {
                    builder = builder.with_token(token);
                }
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(BackupError::new(
                    Step::Config,
                    format!(
                        "the AWS profile {profile:?} has only one of aws_access_key_id and \
                         aws_secret_access_key; give both"
                    ),
                ));
            }
            (None, None) if env("AWS_PROFILE").is_some() && creds.is_none() && config.is_none() => {
                return Err(BackupError::new(
                    Step::Config,
                    format!(
                        "AWS_PROFILE={profile:?} names no profile in the shared credentials or \
                         config file; fix AWS_PROFILE or set AWS_ACCESS_KEY_ID and \
                         AWS_SECRET_ACCESS_KEY"
                    ),
                ));
            }
            (None, None) => {}
        }
    }
    let has_region = builder
        .get_config_value(&AmazonS3ConfigKey::Region)
        .is_some_and(|r| !r.is_empty())
        && (env("AWS_REGION").is_some() || env("AWS_DEFAULT_REGION").is_some());
    if !has_region && let Some(region) = config.as_ref().and_then(|s| s.get("region")) {
        builder = builder.with_region(region.clone());
    }
    Ok(builder)
}

/// The `key = value` pairs of `[section]` in an INI text, or None when it has no such section.
fn ini_section(text: &str, section: &str) -> Option<HashMap<String, String>> {
    let mut found = None;
    let mut current: Option<bool> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let here = name.trim() == section;
            if here {
                found.get_or_insert_with(HashMap::new);
            }
            current = Some(here);
            continue;
        }
        if current == Some(true)
            && let Some((k, v)) = line.split_once('=')
            && let Some(map) = found.as_mut()
        {
            map.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_section() {
        let text = "[default]\naws_access_key_id = A\n\n[profile x]\nregion=eu-west-1\n# c\n";
        let d = ini_section(text, "default").unwrap();
        assert_eq!(d.get("aws_access_key_id").map(String::as_str), Some("A"));
        let x = ini_section(text, "profile x").unwrap();
        assert_eq!(x.get("region").map(String::as_str), Some("eu-west-1"));
        assert!(ini_section(text, "y").is_none());
    }

    #[test]
    fn profile_keys_and_region_fill_in_for_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("credentials");
        let config = dir.path().join("config");
        std::fs::write(
            &creds,
            "[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\
             [ops]\naws_access_key_id = OPS\naws_secret_access_key = OPSS\naws_session_token = T\n",
        )
        .unwrap();
        std::fs::write(&config, "[profile ops]\nregion = eu-central-1\n").unwrap();
        let files = |profile: Option<&'static str>| {
            let (creds, config) = (creds.clone(), config.clone());
            move |k: &str| match k {
                "AWS_SHARED_CREDENTIALS_FILE" => Some(creds.display().to_string()),
                "AWS_CONFIG_FILE" => Some(config.display().to_string()),
                "AWS_PROFILE" => profile.map(String::from),
                _ => None,
            }
        };
        let get = |b: &AmazonS3Builder, k| b.get_config_value(&k);
        let ops = apply_with(AmazonS3Builder::new(), files(Some("ops"))).unwrap();
        assert_eq!(
            get(&ops, AmazonS3ConfigKey::AccessKeyId).as_deref(),
            Some("OPS")
        );
        assert_eq!(get(&ops, AmazonS3ConfigKey::Token).as_deref(), Some("T"));
        assert_eq!(
            get(&ops, AmazonS3ConfigKey::Region).as_deref(),
            Some("eu-central-1")
        );
        let default = apply_with(AmazonS3Builder::new(), files(None)).unwrap();
        assert_eq!(
            get(&default, AmazonS3ConfigKey::AccessKeyId).as_deref(),
            Some("D")
        );
        let e = apply_with(AmazonS3Builder::new(), files(Some("nope"))).unwrap_err();
        assert!(e.message().contains("AWS_PROFILE"), "{e}");
        assert!(!e.message().contains("OPSS"), "{e}");
    }
}
